package org.finlora.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.Random;

import static org.finlora.kernel.Vectors.B8;
import static org.finlora.kernel.Vectors.F;
import static org.finlora.kernel.Vectors.I8;

/**
 * Scratch timing (not a test, not JMH): interleaved A/B in one process of the Q8_0/Q4_0 decode (T = 1)
 * with f32 activations on ggml's row layout (the kernels before int8 activations, kept here as the
 * baseline) against the int8-activation kernels of Q8_0Matrix/Q4_0Matrix (q4_0 in its row tiles). Run from the test classpath:
 * java --add-modules jdk.incubator.vector -cp finlora-core/target/classes:finlora-core/target/test-classes org.finlora.kernel.QDotBench [rows cols threads rounds]
 */
public final class QDotBench {

    // ---- the f32-activation decode kernels as they were on main (baseline) ----

    static void oldQ8(Q8_0Matrix m, float[] x, float[] y, int r0, int r1) {
        MemorySegment data = m.data();
        long rowBytes = (long) m.cols / 32 * 34;
        int nb = m.cols / 32;
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
            int b = 0;
            for (; b + 2 <= nb; b += 2, o += 68) {
                int xo = b * 32;
                acc0 = oldQ8Block(data, o, x, xo).fma(FloatVector.broadcast(F, Float.float16ToFloat(data.get(Floats.I16_LE, o))), acc0);
                acc1 = oldQ8Block(data, o + 34, x, xo + 32).fma(FloatVector.broadcast(F, Float.float16ToFloat(data.get(Floats.I16_LE, o + 34))), acc1);
            }
            if (b < nb) acc0 = oldQ8Block(data, o, x, b * 32).fma(FloatVector.broadcast(F, Float.float16ToFloat(data.get(Floats.I16_LE, o))), acc0);
            y[r] = Dot.hsum(acc0.add(acc1));
        }
    }

    static FloatVector oldQ8Block(MemorySegment data, long o, float[] x, int xo) {
        FloatVector q0 = (FloatVector) ByteVector.fromMemorySegment(B8, data, o + 2, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2F, F, 0);
        FloatVector q1 = (FloatVector) ByteVector.fromMemorySegment(B8, data, o + 10, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2F, F, 0);
        FloatVector q2 = (FloatVector) ByteVector.fromMemorySegment(B8, data, o + 18, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2F, F, 0);
        FloatVector q3 = (FloatVector) ByteVector.fromMemorySegment(B8, data, o + 26, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2F, F, 0);
        FloatVector s01 = q1.fma(FloatVector.fromArray(F, x, xo + 8), q0.mul(FloatVector.fromArray(F, x, xo)));
        FloatVector s23 = q3.fma(FloatVector.fromArray(F, x, xo + 24), q2.mul(FloatVector.fromArray(F, x, xo + 16)));
        return s01.add(s23);
    }

    static void oldQ4(Q4_0Matrix m, MemorySegment ggml, float[] x, float[] y, int r0, int r1) {
        int nb = m.cols / 32;
        float[] xs = new float[nb];
        for (int b = 0; b < nb; b++) {
            FloatVector v = FloatVector.fromArray(F, x, b * 32).add(FloatVector.fromArray(F, x, b * 32 + 8))
                    .add(FloatVector.fromArray(F, x, b * 32 + 16)).add(FloatVector.fromArray(F, x, b * 32 + 24));
            xs[b] = Dot.hsum(v);
        }
        for (int r = r0; r < r1; r++) y[r] = oldQ4Dot(ggml, (long) m.cols / 32 * 18, nb, r, x, xs);
    }

    static float oldQ4Dot(MemorySegment data, long rowBytes, int nb, int r, float[] x, float[] xs) {
        long o = r * rowBytes;
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        float offset = 0f;
        for (int b = 0; b < nb; b++, o += 18) {
            int xo = b * 32;
            float d = Float.float16ToFloat(data.get(Floats.I16_LE, o));
            IntVector p0 = (IntVector) ByteVector.fromMemorySegment(B8, data, o + 2, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
            IntVector p1 = (IntVector) ByteVector.fromMemorySegment(B8, data, o + 10, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
            FloatVector lo0 = (FloatVector) p0.and(0x0F).convert(VectorOperators.I2F, 0);
            FloatVector lo1 = (FloatVector) p1.and(0x0F).convert(VectorOperators.I2F, 0);
            FloatVector hi0 = (FloatVector) p0.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0);
            FloatVector hi1 = (FloatVector) p1.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0);
            FloatVector s0 = lo1.fma(FloatVector.fromArray(F, x, xo + 8), lo0.mul(FloatVector.fromArray(F, x, xo)));
            FloatVector s1 = hi1.fma(FloatVector.fromArray(F, x, xo + 24), hi0.mul(FloatVector.fromArray(F, x, xo + 16)));
            FloatVector dv = FloatVector.broadcast(F, d);
            acc0 = s0.fma(dv, acc0);
            acc1 = s1.fma(dv, acc1);
            offset += d * xs[b];
        }
        return Dot.hsum(acc0.add(acc1)) - 8f * offset;
    }

    // ---- timing ----

    interface Body {
        void run();
    }

    /** Best-of-reps milliseconds per call over one timing window. */
    static double window(Body b, double seconds) {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        double best = Double.MAX_VALUE;
        while (System.nanoTime() < end) {
            long t0 = System.nanoTime();
            b.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e6);
        }
        return best;
    }

    public static void main(String[] args) {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 2048;
        int cols = args.length > 1 ? Integer.parseInt(args[1]) : 8192;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        Parallel.setThreads(threads);
        Random rnd = new Random(1);
        MemorySegment f32 = Arena.ofAuto().allocate(4L * rows * cols, 64);
        for (long i = 0; i < (long) rows * cols; i++) f32.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) (rnd.nextGaussian() * 0.02));
        Tensor t = new Tensor("w", DType.F32, new long[]{rows, cols}, f32);
        Q8_0Matrix q8 = Q8_0Matrix.quantize(Matrices.of(t));
        Q4_0Matrix q4 = Q4_0Matrix.quantize(Matrices.of(t));
        float[] x = new float[cols], y = new float[rows];
        for (int i = 0; i < cols; i++) x[i] = (float) rnd.nextGaussian();
        int minChunk = Parallel.minChunk(64, cols);
        Body q8Old = () -> Parallel.forRange(rows, minChunk, (r0, r1) -> oldQ8(q8, x, y, r0, r1));
        Body q8New = () -> q8.matmul(x, y, 1, true);
        MemorySegment q4ggml = q4.ggmlBytes();
        Body q4Old = () -> Parallel.forRange(rows, minChunk, (r0, r1) -> oldQ4(q4, q4ggml, x, y, r0, r1));
        Body q4New = () -> q4.matmul(x, y, 1, true);
        Body[] bodies = {q8Old, q8New, q4Old, q4New};
        String[] names = {"q8_0 f32-act", "q8_0 int8-act", "q4_0 f32-act", "q4_0 int8 tiles"};
        for (Body b : bodies) window(b, 1.0);   // warm-up (C2)
        double[] best = {Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE};
        for (int k = 0; k < rounds; k++) {
            for (int i = 0; i < bodies.length; i++) best[i] = Math.min(best[i], window(bodies[i], 0.5));
        }
        double w = (double) rows * cols;
        for (int i = 0; i < bodies.length; i++) {
            System.out.printf(Locale.ROOT, "%-14s [%d x %d] %d thread(s): best %.3f ms, %.2f G weights/s%n", names[i], rows, cols, threads, best[i], w / best[i] / 1e6);
        }
        ActivationQ8 act = ActivationQ8.forThread(cols);
        window(() -> act.quantize(x, 0, cols), 0.5);
        System.out.printf(Locale.ROOT, "activation quantize [%d]: best %.2f us per call%n", cols, window(() -> act.quantize(x, 0, cols), 0.5) * 1e3);
        System.out.printf(Locale.ROOT, "ratio new/old throughput: q8_0 %.2f, q4_0 %.2f%n", best[0] / best[1], best[2] / best[3]);
    }
}
