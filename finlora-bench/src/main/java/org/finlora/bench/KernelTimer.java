package org.finlora.bench;

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
 * A load-tolerant kernel timer for a shared machine: runs one kernel for a few seconds and reports the
 * best wall time per call and the work per CPU-second of the whole process (GFLOPS or G weights per
 * busy core), which other processes' load does not dilute the way wall-clock throughput is diluted.
 * Usage: KernelTimer format rows cols tokens fwd|bwd [seconds]
 */
public final class KernelTimer {
    public static void main(String[] args) {
        String format = args[0];
        int rows = Integer.parseInt(args[1]), cols = Integer.parseInt(args[2]), T = Integer.parseInt(args[3]);
        boolean fwd = args[4].equals("fwd");
        double seconds = args.length > 5 ? Double.parseDouble(args[5]) : 5;
        SplittableRandom rnd = new SplittableRandom(42);
        MemorySegment data = Arena.ofAuto().allocate(4L * rows * cols, 64);
        for (long i = 0; i < (long) rows * cols; i++) data.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) (rnd.nextGaussian() * 0.02));
        WeightMatrix w = WeightFormats.parse(format).quantize(new Tensor("w", DType.F32, new long[]{rows, cols}, data), org.finlora.kernel.Simd.configured());
        float[] x = new float[T * cols], y = new float[T * rows];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < y.length; i++) y[i] = (float) rnd.nextGaussian();
        Runnable body = fwd ? () -> w.matmul(x, y, T) : () -> w.matmulTransposed(y, x, T);
        long warmEnd = System.nanoTime() + (long) (seconds * 0.4e9);
        while (System.nanoTime() < warmEnd) body.run();
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime(), t0 = System.nanoTime(), best = Long.MAX_VALUE;
        int calls = 0;
        while (System.nanoTime() - t0 < seconds * 1e9) {
            long s = System.nanoTime();
            body.run();
            best = Math.min(best, System.nanoTime() - s);
            calls++;
        }
        double wall = (System.nanoTime() - t0) / 1e9, cpu = (os.getProcessCpuTime() - cpu0) / 1e9;
        double flops = 2.0 * rows * cols * T * calls;
        System.out.printf(Locale.ROOT, "%s %s [%d x %d] T=%d: best %.3f ms, %.2f GFLOPS wall, %.2f GFLOPS per busy core (%.2f cores busy, %d calls)%n",
                format, fwd ? "matmul" : "matmulTransposed", rows, cols, T, best / 1e6, flops / wall / 1e9, flops / cpu / 1e9, cpu / wall, calls);
    }
}
