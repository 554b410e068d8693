package org.finlora.train;

import org.finlora.kernel.Parallel;

/** RMSNorm over rows of [N, C]: out = x * rstd * w, rstd = 1/sqrt(mean(x^2) + eps), as HF Llama (f32). */
public final class RmsNormLayer {
    private RmsNormLayer() {
    }

    /** Writes out [N,C] and the per-row rstd [N] that backward needs. */
    public static void forward(float[] out, float[] rstd, float[] x, float[] w, int N, int C, float eps) {
        Parallel.forRange(N, 8, (n0, n1) -> {
            for (int n = n0; n < n1; n++) {
                int o = n * C;
                float ss = 0f;
                for (int i = 0; i < C; i++) ss += x[o + i] * x[o + i];
                float r = (float) (1.0 / Math.sqrt(ss / C + eps));
                rstd[n] = r;
                for (int i = 0; i < C; i++) out[o + i] = (x[o + i] * r) * w[i];
            }
        });
    }

    /** out = x * rstd * w with a saved rstd: the forward's values again, without the reduction. */
    public static void apply(float[] out, float[] x, float[] rstd, float[] w, int N, int C) {
        Parallel.forRange(N, 8, (n0, n1) -> {
            for (int n = n0; n < n1; n++) {
                int o = n * C;
                float r = rstd[n];
                for (int i = 0; i < C; i++) out[o + i] = (x[o + i] * r) * w[i];
            }
        });
    }

    /**
     * dx[n,i] += rstd*(w_i*g_i) - x_i * rstd^3/C * sum_j w_j*g_j*x_j. The norm weight is frozen in
     * LoRA training, so dw may be null; when given, dw[i] += sum_n g[n,i]*x[n,i]*rstd[n] (serial over n).
     */
    public static void backward(float[] dx, float[] dw, float[] dout, float[] x, float[] rstd, float[] w, int N, int C) {
        Parallel.forRange(N, 8, (n0, n1) -> {
            for (int n = n0; n < n1; n++) {
                int o = n * C;
                float r = rstd[n];
                float dot = 0f;
                for (int i = 0; i < C; i++) dot += w[i] * dout[o + i] * x[o + i];
                float c = r * r * r * dot / C;
                for (int i = 0; i < C; i++) dx[o + i] += r * w[i] * dout[o + i] - x[o + i] * c;
            }
        });
        if (dw != null) {
            Parallel.forRange(C, 16, (i0, i1) -> {
                for (int n = 0; n < N; n++) {
                    int o = n * C;
                    for (int i = i0; i < i1; i++) dw[i] += dout[o + i] * x[o + i] * rstd[n];
                }
            });
        }
    }
}
