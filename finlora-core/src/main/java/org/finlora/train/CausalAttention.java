package org.finlora.train;

import org.finlora.kernel.Parallel;

/**
 * Causal grouped-query attention over a right-padded batch, for training. q is [B*T, nHeads*hd],
 * k and v are [B*T, nKv*hd], out is [B*T, nHeads*hd]. Query (b, t) with t < len[b] attends to keys
 * 0..t; padded queries (t >= len[b]) output zeros (their logits are never counted by the loss, and
 * causality keeps them out of every real query). Forward keeps only the log-sum-exp per (b, h, t);
 * backward recomputes the probabilities from q, k and lse, so no [T, T] matrix is stored.
 */
public final class CausalAttention {
    private CausalAttention() {
    }

    /** Writes out and lse [B, nHeads, T]. */
    public static void forward(float[] out, float[] lse, float[] q, float[] k, float[] v,
                               int B, int T, int nHeads, int nKv, int hd, int[] lengths) {
        int qW = nHeads * hd, kvW = nKv * hd, group = nHeads / nKv;
        float scale = (float) (1.0 / Math.sqrt(hd));
        Parallel.forRange(B * nHeads, 1, (j0, j1) -> {
            float[] p = new float[T];
            for (int j = j0; j < j1; j++) {
                int b = j / nHeads, h = j % nHeads, kh = h / group;
                int len = lengths[b];
                for (int t = 0; t < T; t++) {
                    int qo = (b * T + t) * qW + h * hd;
                    if (t >= len) {
                        java.util.Arrays.fill(out, qo, qo + hd, 0f);
                        lse[(b * nHeads + h) * T + t] = 0f;
                        continue;
                    }
                    float max = Float.NEGATIVE_INFINITY;
                    for (int t2 = 0; t2 <= t; t2++) {
                        int ko = (b * T + t2) * kvW + kh * hd;
                        float s = 0f;
                        for (int i = 0; i < hd; i++) s += q[qo + i] * k[ko + i];
                        s *= scale;
                        p[t2] = s;
                        if (s > max) max = s;
                    }
                    float sum = 0f;
                    for (int t2 = 0; t2 <= t; t2++) {
                        p[t2] = (float) Math.exp(p[t2] - max);
                        sum += p[t2];
                    }
                    float inv = 1f / sum;
                    java.util.Arrays.fill(out, qo, qo + hd, 0f);
                    for (int t2 = 0; t2 <= t; t2++) {
                        float w = p[t2] * inv;
                        int vo = (b * T + t2) * kvW + kh * hd;
                        for (int i = 0; i < hd; i++) out[qo + i] += w * v[vo + i];
                    }
                    lse[(b * nHeads + h) * T + t] = max + (float) Math.log(sum);
                }
            }
        });
    }

    /**
     * Overwrites dq, dk, dv. Parallel over (b, kv head): each task owns the dk/dv rows of its kv
     * head and the dq rows of the query heads of its group, so there are no write conflicts.
     */
    public static void backward(float[] dq, float[] dk, float[] dv, float[] dout, float[] out, float[] lse,
                                float[] q, float[] k, float[] v, int B, int T, int nHeads, int nKv, int hd, int[] lengths) {
        int qW = nHeads * hd, kvW = nKv * hd, group = nHeads / nKv;
        float scale = (float) (1.0 / Math.sqrt(hd));
        Parallel.forRange(B * nKv, 1, (j0, j1) -> {
            float[] p = new float[T];
            for (int j = j0; j < j1; j++) {
                int b = j / nKv, kh = j % nKv;
                int len = lengths[b];
                for (int t = 0; t < T; t++) {
                    int ko = (b * T + t) * kvW + kh * hd;
                    java.util.Arrays.fill(dk, ko, ko + hd, 0f);
                    java.util.Arrays.fill(dv, ko, ko + hd, 0f);
                }
                for (int h = kh * group; h < (kh + 1) * group; h++) {
                    for (int t = 0; t < T; t++) {
                        int qo = (b * T + t) * qW + h * hd;
                        java.util.Arrays.fill(dq, qo, qo + hd, 0f);
                        if (t >= len) continue;
                        float l = lse[(b * nHeads + h) * T + t];
                        // D = sum_t2 p * (dout . v_t2) = dout . out
                        float dsum = 0f;
                        for (int i = 0; i < hd; i++) dsum += dout[qo + i] * out[qo + i];
                        for (int t2 = 0; t2 <= t; t2++) {
                            int ko = (b * T + t2) * kvW + kh * hd;
                            float s = 0f;
                            for (int i = 0; i < hd; i++) s += q[qo + i] * k[ko + i];
                            float pr = (float) Math.exp(s * scale - l);
                            float dp = 0f;
                            for (int i = 0; i < hd; i++) {
                                dp += dout[qo + i] * v[ko + i];
                                dv[ko + i] += pr * dout[qo + i];
                            }
                            p[t2] = pr * (dp - dsum) * scale;
                        }
                        for (int t2 = 0; t2 <= t; t2++) {
                            int ko = (b * T + t2) * kvW + kh * hd;
                            float ds = p[t2];
                            for (int i = 0; i < hd; i++) {
                                dq[qo + i] += ds * k[ko + i];
                                dk[ko + i] += ds * q[qo + i];
                            }
                        }
                    }
                }
            }
        });
    }
}
