package org.finlora.train;

import org.finlora.kernel.Parallel;

/**
 * The small dense f32 products of the LoRA branch (rank-r sides), on flat row-major arrays.
 * Each routine writes disjoint output rows per thread, so no atomics are needed.
 */
public final class Gemm {
    private Gemm() {
    }

    /** y[n, m] = (accumulate ? y : 0) + scale * sum_k x[n, k] * w[m, k]; x [N,K], w [M,K], y [N,M]. Parallel over n. */
    public static void xwT(float[] x, float[] w, float[] y, int N, int K, int M, float scale, boolean accumulate) {
        Parallel.forRange(N, 4, (n0, n1) -> {
            for (int n = n0; n < n1; n++) {
                int xo = n * K, yo = n * M;
                for (int m = 0; m < M; m++) {
                    int wo = m * K;
                    float s = 0f;
                    for (int k = 0; k < K; k++) s += x[xo + k] * w[wo + k];
                    y[yo + m] = accumulate ? y[yo + m] + scale * s : scale * s;
                }
            }
        });
    }

    /** out[n, k] (+)= scale * sum_m a[n, m] * w[m, k]; a [N,M], w [M,K], out [N,K]. Parallel over n. */
    public static void aw(float[] a, float[] w, float[] out, int N, int M, int K, float scale, boolean accumulate) {
        Parallel.forRange(N, 4, (n0, n1) -> {
            for (int n = n0; n < n1; n++) {
                int ao = n * M, oo = n * K;
                if (!accumulate) java.util.Arrays.fill(out, oo, oo + K, 0f);
                for (int m = 0; m < M; m++) {
                    float am = scale * a[ao + m];
                    if (am == 0f) continue;
                    int wo = m * K;
                    for (int k = 0; k < K; k++) out[oo + k] += am * w[wo + k];
                }
            }
        });
    }

    /**
     * Weight gradient: out[m, k] += scale * sum_n a[n, m] * b[n, k]; a [N,M], b [N,K], out [M,K].
     * Parallel over the output rows m when there are enough of them, else over the columns k.
     */
    public static void aTb(float[] a, float[] b, float[] out, int N, int M, int K, float scale) {
        if (M >= 2 * Parallel.threads() || M >= K) {
            Parallel.forRange(M, 1, (m0, m1) -> aTbBlock(a, b, out, N, M, K, scale, m0, m1, 0, K));
        } else {
            Parallel.forRange(K, 64, (k0, k1) -> aTbBlock(a, b, out, N, M, K, scale, 0, M, k0, k1));
        }
    }

    private static void aTbBlock(float[] a, float[] b, float[] out, int N, int M, int K, float scale,
                                 int m0, int m1, int k0, int k1) {
        for (int m = m0; m < m1; m++) {
            int oo = m * K;
            for (int n = 0; n < N; n++) {
                float am = scale * a[n * M + m];
                if (am == 0f) continue;
                int bo = n * K;
                for (int k = k0; k < k1; k++) out[oo + k] += am * b[bo + k];
            }
        }
    }
}
