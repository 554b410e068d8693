package org.finlora.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** RMSNorm as in transformers' LlamaRMSNorm: out = w · (x · 1/sqrt(mean(x²) + eps)), in f32. */
public final class RmsNorm {
    private RmsNorm() {
    }

    /** Normalizes T rows of n floats: x[T, n] → out[T, n] (out may be x). */
    public static void apply(Simd simd, float[] x, float[] w, float[] out, int T, int n, float eps) {
        for (int t = 0; t < T; t++) apply(simd, x, t * n, w, out, t * n, n, eps);
    }

    /** One row; returns 1/rms (what a backward pass saves). */
    public static float apply(Simd simd, float[] x, int xOff, float[] w, float[] out, int outOff, int n, float eps) {
        boolean vector = simd.vector();
        VectorSpecies<Float> F = vector ? simd.floats() : null;
        int L = simd.floatLanes();
        float ss;
        int i = 0;
        if (vector) {
            FloatVector acc = FloatVector.zero(F);
            for (; i + L <= n; i += L) {
                FloatVector v = FloatVector.fromArray(F, x, xOff + i);
                acc = v.fma(v, acc);
            }
            ss = simd.hsum(acc);
        } else {
            ss = 0f;
        }
        for (; i < n; i++) ss += x[xOff + i] * x[xOff + i];
        float inv = (float) (1.0 / Math.sqrt(ss / n + eps));
        i = 0;
        if (vector) {
            for (; i + L <= n; i += L) {
                FloatVector.fromArray(F, x, xOff + i).mul(inv).mul(FloatVector.fromArray(F, w, i)).intoArray(out, outOff + i);
            }
        }
        for (; i < n; i++) out[outOff + i] = w[i] * (x[xOff + i] * inv);
        return inv;
    }
}
