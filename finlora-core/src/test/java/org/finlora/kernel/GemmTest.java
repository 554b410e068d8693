package org.finlora.kernel;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The small dense products of the LoRA branch against double-precision references, at this process's
 * width and with the scalar references (the frozen-weight GEMM is in WidthContractTest).
 */
class GemmTest {
    private static float[] random(int n, Random rng) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rng.nextGaussian();
        return x;
    }

    /** The LoRA weight gradient out[m, k] += scale * sum_n a[n, m] * b[n, k], both parallel splits. */
    @Test
    void aTbMatchesDoubleReference() {
        Random rng = new Random(8);
        int[][] shapes = {{29, 40, 8}, {17, 3, 8}, {33, 19, 8}, {21, 5, 130}, {64, 70, 16}, {9, 2, 300}};
        for (int[] sh : shapes) {
            int N = sh[0], M = sh[1], K = sh[2];
            float[] a = random(N * M, rng), b = random(N * K, rng), out0 = random(M * K, rng);
            for (int i = 0; i < a.length; i += 7) a[i] = 0f;   // the kernel skips zero rows of a (dropped tokens)
            float[] out = out0.clone();
            Gemm.aTb(a, b, out, N, M, K, 0.37f);
            for (int m = 0; m < M; m++) {
                for (int k = 0; k < K; k++) {
                    double s = 0, mag = Math.abs(out0[m * K + k]);
                    for (int n = 0; n < N; n++) {
                        s += (double) a[n * M + m] * b[n * K + k];
                        mag += Math.abs(0.37 * a[n * M + m] * b[n * K + k]);
                    }
                    assertEquals(out0[m * K + k] + 0.37 * s, out[m * K + k], 1e-5 * mag + 1e-6, "out[" + m + ", " + k + "] N=" + N + " M=" + M + " K=" + K);
                }
            }
        }
    }

    /** y = (y +) scale · x·wᵀ and out = (out +) scale · a·w, vector and scalar, with short and long K. */
    @Test
    void xwTAndAwMatchDoubleReference() {
        Random rng = new Random(9);
        for (Simd simd : new Simd[]{Simd.configured(), Simd.SCALAR}) {
            for (int[] sh : new int[][]{{13, 8, 5}, {7, 300, 9}, {5, 67, 4}}) {
                int N = sh[0], K = sh[1], M = sh[2];
                float[] x = random(N * K, rng), w = random(M * K, rng), y0 = random(N * M, rng);
                for (boolean acc : new boolean[]{false, true}) {
                    float[] y = y0.clone();
                    Gemm.xwT(simd, x, w, y, N, K, M, 0.5f, acc);
                    for (int n = 0; n < N; n++) {
                        for (int m = 0; m < M; m++) {
                            double s = 0, mag = 0;
                            for (int k = 0; k < K; k++) {
                                s += (double) x[n * K + k] * w[m * K + k];
                                mag += Math.abs((double) x[n * K + k] * w[m * K + k]);
                            }
                            double want = (acc ? y0[n * M + m] : 0) + 0.5 * s;
                            assertEquals(want, y[n * M + m], 1e-5 * mag + 1e-5, simd + " xwT acc=" + acc);
                        }
                    }
                }
                float[] a = random(N * M, rng), out = new float[N * K];
                Gemm.aw(a, w, out, N, M, K, 2f, false);
                for (int n = 0; n < N; n++) {
                    for (int k = 0; k < K; k++) {
                        double s = 0;
                        for (int m = 0; m < M; m++) s += 2.0 * a[n * M + m] * w[m * K + k];
                        assertEquals(s, out[n * K + k], 1e-4 * (1 + Math.abs(s)), "aw");
                    }
                }
            }
        }
    }
}
