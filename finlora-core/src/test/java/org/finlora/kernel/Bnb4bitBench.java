package org.finlora.kernel;

import org.finlora.quant.Bnb4bit;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;
import org.finlora.tensor.WeightMatrix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

/**
 * Scratch timing (not a test, not JMH): NF4 tile decode by selectFrom lookup vs scalar decode,
 * the scratch-free T=1 kernel, against f32 and Q4_0 on the same weight. Run from the test classpath:
 * java --add-modules jdk.incubator.vector -cp finlora-core/target/classes:finlora-core/target/test-classes org.finlora.kernel.Bnb4bitBench [rows cols]
 */
public final class Bnb4bitBench {
    interface Body {
        void run();
    }

    static double time(String what, int reps, Body b) {
        for (int i = 0; i < Math.max(2, reps / 4); i++) b.run();
        double best = Double.MAX_VALUE;
        for (int k = 0; k < 5; k++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) b.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e6 / reps);
        }
        System.out.printf("%-44s %9.3f ms%n", what, best);
        return best;
    }

    public static void main(String[] args) {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 2048;
        int cols = args.length > 1 ? Integer.parseInt(args[1]) : 2048;
        Random rnd = new Random(1);
        MemorySegment data = Arena.ofAuto().allocate(4L * rows * cols, 64);
        for (long i = 0; i < (long) rows * cols; i++) data.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) (rnd.nextGaussian() * 0.02));
        Tensor t = new Tensor("bench", DType.F32, new long[]{rows, cols}, data);
        Bnb4bitMatrix nf4 = Bnb4bitMatrix.quantize(t, Bnb4bit.Type.NF4, 64, true);
        F32Matrix f32 = new F32Matrix(rows, cols, data);
        WeightMatrix q40 = Q4_0Matrix.quantize(f32);
        WeightMatrix rtn4 = RtnMatrix.quantize(t, 4, 128);
        WeightMatrix i8b = Int8BlockMatrix.quantize(t, 64);
        WeightMatrix i8 = Int8VectorwiseMatrix.quantize(t, 6f);
        System.out.println("threads " + Parallel.threads() + ", " + rows + "x" + cols + ", species " + DequantMatrix.F);
        for (int T : new int[]{1, 64}) {
            float[] x = new float[T * cols], y = new float[T * rows], dx = new float[T * cols];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            int reps = T == 1 ? 200 : 6;
            System.out.println("-- T = " + T);
            time("f32 matmul", reps, () -> f32.matmul(x, y, T));
            time("q4_0 matmul", reps, () -> q40.matmul(x, y, T));
            nf4.lookup = 0;
            time("nf4 matmul (default path)", reps, () -> nf4.matmul(x, y, T));
            if (T > 1) {
                nf4.lookup = 1;
                time("nf4 matmul, tile decode scalar", reps, () -> nf4.matmul(x, y, T));
                nf4.lookup = 0;
            }
            if (T == 1) {
                time("nf4 T=1 tiled (scratch, selectFrom decode)", reps, () -> nf4.matmulVectorTiled(x, y, T));
                for (int k = 0; k < 3; k++) {   // interleaved repeats: the machine is shared, numbers drift
                    time("nf4 T=1 direct (registers, no scratch)", reps, () -> nf4.matvecDirect(x, y));
                    time("q4_0 matmul", reps, () -> q40.matmul(x, y, T));
                }
            }
            time("rtn4 (g128) matmul", reps, () -> rtn4.matmul(x, y, T));
            time("int8-block matmul", reps, () -> i8b.matmul(x, y, T));
            time("int8 (LLM.int8) matmul", reps, () -> i8.matmul(x, y, T));
            float[] dy = y.clone();
            time("f32 matmulTransposed", reps, () -> f32.matmulTransposed(dy, dx, T));
            time("q4_0 matmulTransposed", reps, () -> q40.matmulTransposed(dy, dx, T));
            time("nf4 matmulTransposed", reps, () -> nf4.matmulTransposed(dy, dx, T));
        }
    }
}
