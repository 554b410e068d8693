package org.finlora.kernel;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** RMSNorm, RoPE frequencies and pairings, softmax and attention against direct references. */
class OpsTest {

    static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    @Test
    void rmsNormVectorAndScalarMatchDefinition() {
        for (int n : new int[]{7, 64, 101}) {
            float[] x = random(n, n), w = random(n, n + 1);
            double ss = 0;
            for (float v : x) ss += v * v;
            double inv = 1 / Math.sqrt(ss / n + 1e-5);
            float[] a = new float[n], b = new float[n];
            RmsNorm.apply(Simd.SCALAR, x, 0, w, a, 0, n, 1e-5f);
            RmsNorm.apply(TestWeights.width(), x, 0, w, b, 0, n, 1e-5f);
            for (int i = 0; i < n; i++) {
                assertEquals(w[i] * x[i] * inv, a[i], 1e-5);
                assertEquals(w[i] * x[i] * inv, b[i], 1e-5);
            }
        }
    }

    @Test
    void llama3ScalingKeepsSmoothsAndDivides() {
        // Fact sheet §6: d = 128, theta 5e5, factor 8: 29 kept, 6 smoothed (i = 29..34), 29 divided by 8.
        float[] inv = Rope.inverseFrequencies(128, 500000f);
        float[] s = Rope.llama3Scaled(inv, 8f, 1f, 4f, 8192);
        int kept = 0, divided = 0, smoothed = 0;
        for (int i = 0; i < 64; i++) {
            if (s[i] == inv[i]) kept++;
            else if (s[i] == inv[i] / 8f) divided++;
            else {
                smoothed++;
                assertEquals(true, i >= 29 && i <= 34, "smoothed index " + i);
                assertEquals(true, s[i] < inv[i] && s[i] > inv[i] / 8f);
            }
        }
        assertEquals(29, kept);
        assertEquals(6, smoothed);
        assertEquals(29, divided);
        assertEquals(1.0f, inv[0], 0f);
        assertEquals((float) (1 / Math.pow(500000, 2.0 / 128)), inv[1], 1e-9);
    }

    @Test
    void halfSplitRopeEqualsInterleavedRopeOnPermutedRows() {
        // The HF converter maps Meta row 2i + c of a head to row c·hd/2 + i: rotating adjacent pairs
        // then permuting must equal permuting then rotating half-split pairs.
        int hd = 16, heads = 3;
        float[] inv = Rope.inverseFrequencies(hd, 10000f);
        Rope inter = new Rope(inv, hd, true), half = new Rope(inv, hd, false);
        float[] meta = random(heads * hd, 5);
        float[] hf = new float[meta.length];
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < hd / 2; i++)
                for (int c = 0; c < 2; c++) hf[h * hd + c * hd / 2 + i] = meta[h * hd + 2 * i + c];
        float[] cos = new float[hd / 2], sin = new float[hd / 2];
        inter.angles(37, 1, cos, sin);
        inter.rotate(meta, 0, heads, cos, sin, 0);
        half.rotate(hf, 0, heads, cos, sin, 0);
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < hd / 2; i++)
                for (int c = 0; c < 2; c++) assertEquals(meta[h * hd + 2 * i + c], hf[h * hd + c * hd / 2 + i], 1e-6);
        // And a rotation by angle a of pair (x0, x1), checked directly for pair 1 of head 0 at position 37.
        float a = 37 * inv[1];
        float[] v = {0, 0, 1f, 2f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        inter.rotate(v, 0, 1, cos, sin, 0);
        assertEquals(Math.cos(a) - 2 * Math.sin(a), v[2], 1e-6);
        assertEquals(Math.sin(a) + 2 * Math.cos(a), v[3], 1e-6);
    }

    @Test
    void attentionMatchesDirectCausalGqa() {
        int heads = 4, kvHeads = 2, hd = 12, pos = 5, T = 3, kvDim = kvHeads * hd;
        int cap = pos + T;
        float[] q = random(T * heads * hd, 1), k = random(cap * kvDim, 2), v = random(cap * kvDim, 3);
        for (Simd vector : new Simd[]{Simd.SCALAR, TestWeights.width()}) {
            float[] out = new float[T * heads * hd];
            Attention.forward(vector, q, out, T, pos, k, v, heads, kvHeads, hd);
            for (int t = 0; t < T; t++) {
                for (int h = 0; h < heads; h++) {
                    int kh = h / 2, n = pos + t + 1;
                    double[] sc = new double[n];
                    double max = -1e300, sum = 0;
                    for (int s = 0; s < n; s++) {
                        double d = 0;
                        for (int i = 0; i < hd; i++) d += q[t * heads * hd + h * hd + i] * k[s * kvDim + kh * hd + i];
                        sc[s] = d / Math.sqrt(hd);
                        max = Math.max(max, sc[s]);
                    }
                    for (int s = 0; s < n; s++) sum += sc[s] = Math.exp(sc[s] - max);
                    for (int i = 0; i < hd; i++) {
                        double o = 0;
                        for (int s = 0; s < n; s++) o += sc[s] / sum * v[s * kvDim + kh * hd + i];
                        assertEquals(o, out[t * heads * hd + h * hd + i], 1e-5, "t " + t + " h " + h + " i " + i);
                    }
                }
            }
        }
    }

    @Test
    void softmaxAndSiluMul() {
        float[] x = {1f, 2f, 3f, -1000f};
        Activations.softmax(TestWeights.width(), x, 0, 4);
        double z = Math.exp(1) + Math.exp(2) + Math.exp(3);
        assertEquals(Math.exp(1) / z, x[0], 1e-7);
        assertEquals(Math.exp(3) / z, x[2], 1e-7);
        assertEquals(0f, x[3], 0f);
        float[] g = {0f, 1f, -2f}, u = {3f, 2f, 0.5f};
        Activations.siluMul(TestWeights.width(), g, u, 3);
        assertEquals(0f, g[0], 0f);
        assertEquals(1 / (1 + Math.exp(-1)) * 2, g[1], 1e-6);
        assertEquals(-2 / (1 + Math.exp(2)) * 0.5, g[2], 1e-6);
    }
}
