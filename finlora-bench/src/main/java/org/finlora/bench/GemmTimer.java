package org.finlora.bench;

import org.finlora.kernel.ComputeProbe;
import org.finlora.kernel.Parallel;
import org.finlora.kernel.Simd;
import org.finlora.kernel.WeightFormats;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;
import org.finlora.tensor.WeightMatrix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Times the many-token products (the forward and input gradient GEMMs of training and prefill) of
 * each format at this process's width: best wall time per call, GFLOPS at that best time, and GFLOPS per busy core
 * (flops over the process CPU time, which other processes' load dilutes less than wall time).
 * Usage: GemmTimer formats rows cols tokens fwd|bwd|both [seconds [threads]]
 * e.g. GemmTimer f32,nf4 2048 2048 1024 both 4 2
 */
public final class GemmTimer {
    public static void main(String[] args) {
        String[] formats = args[0].split(",");
        int rows = Integer.parseInt(args[1]), cols = Integer.parseInt(args[2]), T = Integer.parseInt(args[3]);
        String dir = args[4];
        double seconds = args.length > 5 ? Double.parseDouble(args[5]) : 4;
        if (args.length > 6) Parallel.setThreads(Integer.parseInt(args[6]));
        SplittableRandom rnd = new SplittableRandom(42);
        MemorySegment data = Arena.ofAuto().allocate(4L * rows * cols, 64);
        for (long i = 0; i < (long) rows * cols; i++) data.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) (rnd.nextGaussian() * 0.02));
        Tensor t = new Tensor("w", DType.F32, new long[]{rows, cols}, data);
        float[] x = new float[T * cols], y = new float[T * rows];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < y.length; i++) y[i] = (float) rnd.nextGaussian();
        Simd simd = Simd.configured();
        System.out.println("simd " + simd + " (" + simd.describe() + ")");
        if (simd.vector()) probe(simd);
        for (String format : formats) {
            WeightMatrix w = WeightFormats.parse(format).quantize(t, simd);
            if (!dir.equals("bwd")) time(format, "matmul", rows, cols, T, seconds, () -> w.matmul(x, y, T));
            if (!dir.equals("fwd")) time(format, "matmulTransposed", rows, cols, T, seconds, () -> w.matmulTransposed(y, x, T));
        }
    }

    /** The register-only FMA peak on one thread and on all pool threads, the ceiling for the GEMM figures. */
    private static void probe(Simd simd) {
        for (int i = 0; i < 3; i++) ComputeProbe.fmaChains(simd);
        long b1 = Long.MAX_VALUE, bn = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long s = System.nanoTime();
            ComputeProbe.fmaChains(simd);
            b1 = Math.min(b1, System.nanoTime() - s);
            s = System.nanoTime();
            ComputeProbe.fmaChainsOnEveryThread(simd);
            bn = Math.min(bn, System.nanoTime() - s);
        }
        System.out.printf(Locale.ROOT, "FMA probe: %.1f GFLOPS on 1 thread, %.1f on %d threads%n",
                ComputeProbe.flopsPerCall(simd) / b1, Parallel.threads() * ComputeProbe.flopsPerCall(simd) / bn, Parallel.threads());
    }

    private static void time(String format, String what, int rows, int cols, int T, double seconds, Runnable body) {
        long warmEnd = System.nanoTime() + (long) (seconds * 0.4e9);
        while (System.nanoTime() < warmEnd) body.run();
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime(), t0 = System.nanoTime(), best = Long.MAX_VALUE;
        int calls = 0;
        while (System.nanoTime() - t0 < seconds * 1e9 || calls < 3) {
            long s = System.nanoTime();
            body.run();
            best = Math.min(best, System.nanoTime() - s);
            calls++;
        }
        double wall = (System.nanoTime() - t0) / 1e9, cpu = (os.getProcessCpuTime() - cpu0) / 1e9;
        double flops = 2.0 * rows * cols * T;
        System.out.printf(Locale.ROOT, "%-5s %-16s [%d x %d] T=%d threads=%d: best %.2f ms = %.1f GFLOPS, %.1f GFLOPS per busy core (%.2f cores busy, %d calls)%n",
                format, what, rows, cols, T, Parallel.threads(), best / 1e6, flops / best, flops * calls / cpu / 1e9, cpu / wall, calls);
    }
}
