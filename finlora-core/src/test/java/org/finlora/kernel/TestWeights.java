package org.finlora.kernel;

import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Random;

/** Random weights and inputs for the kernel tests. */
final class TestWeights {
    private TestWeights() {
    }

    /** A random weight tensor (N(0, 0.05²)); BF16/F16 values rounded as a real checkpoint holds them. */
    static Tensor tensor(String name, DType dtype, int rows, int cols, long seed) {
        Random rnd = new Random(seed);
        int n = rows * cols;
        if (dtype == DType.F32) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = (float) (rnd.nextGaussian() * 0.05);
            return new Tensor(name, dtype, new long[]{rows, cols}, MemorySegment.ofArray(v));
        }
        short[] v = new short[n];
        for (int i = 0; i < n; i++) {
            float f = (float) (rnd.nextGaussian() * 0.05);
            v[i] = dtype == DType.BF16 ? Floats.floatToBf16(f) : Float.floatToFloat16(f);
        }
        return new Tensor(name, dtype, new long[]{rows, cols}, MemorySegment.ofArray(v));
    }

    static float[] flat(Tensor t) {
        return Floats.toFloatArray(t);
    }

    static float[] random(int n, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }

    /** The vector width of this test JVM (the default suite runs at the host's; a second run at 128 bits). */
    static Simd width() {
        Simd s = Simd.configured();
        return s.vector() ? s : Simd.BITS_128;
    }
}
