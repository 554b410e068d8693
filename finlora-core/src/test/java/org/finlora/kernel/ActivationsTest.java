package org.finlora.kernel;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Vector softmax and SwiGLU against double-precision references on odd lengths and offsets. */
class ActivationsTest {
    static float[] random(int n, long seed, double scale) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        return a;
    }

    @Test
    void softmaxMatchesDoubleReference() {
        for (int n : new int[]{1, 3, 7, 8, 9, 17, 33, 100, 257}) {
            for (double scale : new double[]{1, 30}) {
                float[] x = random(n + 5, n, scale);
                x[2 + n / 2] = Float.NEGATIVE_INFINITY;   // a masked position (when n > 1)
                if (n == 1) x[2] = 0.25f;
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int i = 0; i < n; i++) max = Math.max(max, x[2 + i]);
                double[] ref = new double[n];
                for (int i = 0; i < n; i++) sum += ref[i] = Math.exp(x[2 + i] - max);
                float[] v = x.clone(), s = x.clone();
                Activations.softmaxVector(TestWeights.width(), v, 2, n);
                Activations.softmaxScalar(s, 2, n);
                for (int i = 0; i < n; i++) {
                    assertEquals(ref[i] / sum, v[2 + i], 2e-7 + 1e-6 * ref[i] / sum, "vector n " + n + " i " + i);
                    assertEquals(ref[i] / sum, s[2 + i], 2e-7 + 1e-6 * ref[i] / sum, "scalar n " + n + " i " + i);
                }
                assertEquals(x[0], v[0]);
                assertEquals(x[n + 2], v[n + 2], "outside the range untouched");
            }
        }
    }

    @Test
    void siluMulMatchesDoubleReferenceIncludingLargeMagnitudes() {
        for (int n : new int[]{1, 5, 8, 13, 40, 20001}) {
            float[] g = random(n, 7 + n, 12), u = random(n, 9 + n, 2);
            g[0] = n > 1 ? -100f : 100f;   // e^100 overflows: silu(-100) must still be -0, not NaN
            float[] gv = g.clone(), gs = g.clone();
            Activations.siluMulVector(TestWeights.width(), gv, u, 0, n);
            Activations.siluMulScalar(gs, u, 0, n);
            float[] gp = g.clone();
            Activations.siluMul(TestWeights.width(), gp, u, n);
            for (int i = 0; i < n; i++) {
                double ref = g[i] / (1 + Math.exp(-g[i])) * u[i];
                assertEquals(ref, gv[i], 1e-6 * Math.max(1, Math.abs(ref)), "vector n " + n + " i " + i);
                assertEquals(Float.floatToIntBits(gs[i]), Float.floatToIntBits(gv[i]), "vector and scalar agree, i " + i);
                assertEquals(Float.floatToIntBits(gv[i]), Float.floatToIntBits(gp[i]), "parallel entry point, i " + i);
            }
        }
    }
}
