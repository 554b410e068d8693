package org.finlora.train;

import org.finlora.kernel.Gemm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
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

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;

    /**
     * sum_i a[ao + i] * b[bo + i] for i &lt; n: 8-lane FMAs over the head dimension, scalar tail. The
     * lanes are summed in a fixed order through lanes[8] (reduceLanes sums in a different order
     * before and after C2 compiles it, and training must be reproducible within a process).
     */
    static float dot(float[] a, int ao, float[] b, int bo, int n, float[] lanes) {
        int i = 0;
        float s = 0f;
        if (Gemm.ENABLED && n >= S.length()) {
            FloatVector acc = FloatVector.zero(S);
            for (; i + S.length() <= n; i += S.length()) {
                acc = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc);
            }
            s = Gemm.sumLanes(acc, lanes);
        }
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    /** y[yo + i] += alpha * x[xo + i] for i &lt; n. */
    static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        if (Gemm.ENABLED && n >= S.length()) {
            FloatVector av = FloatVector.broadcast(S, alpha);
            for (; i + S.length() <= n; i += S.length()) {
                FloatVector.fromArray(S, x, xo + i).fma(av, FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
            }
        }
        for (; i < n; i++) y[yo + i] += alpha * x[xo + i];
    }

    /** Writes out and lse [B, nHeads, T]. */
    public static void forward(float[] out, float[] lse, float[] q, float[] k, float[] v,
                               int B, int T, int nHeads, int nKv, int hd, int[] lengths) {
        int qW = nHeads * hd, kvW = nKv * hd, group = nHeads / nKv;
        float scale = (float) (1.0 / Math.sqrt(hd));
        Parallel.forRange(B * nHeads, 1, (j0, j1) -> {
            float[] p = new float[T], lanes = new float[8];
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
                        float s = dot(q, qo, k, ko, hd, lanes) * scale;
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
                        axpy(w, v, (b * T + t2) * kvW + kh * hd, out, qo, hd);
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
            float[] p = new float[T], lanes = new float[8];
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
                        float dsum = dot(dout, qo, out, qo, hd, lanes);
                        for (int t2 = 0; t2 <= t; t2++) {
                            int ko = (b * T + t2) * kvW + kh * hd;
                            float pr = (float) Math.exp(dot(q, qo, k, ko, hd, lanes) * scale - l);
                            float dp = dot(dout, qo, v, ko, hd, lanes);
                            axpy(pr, dout, qo, dv, ko, hd);
                            p[t2] = pr * (dp - dsum) * scale;
                        }
                        for (int t2 = 0; t2 <= t; t2++) {
                            int ko = (b * T + t2) * kvW + kh * hd;
                            float ds = p[t2];
                            axpy(ds, k, ko, dq, qo, hd);
                            axpy(ds, q, qo, dk, ko, hd);
                        }
                    }
                }
            }
        });
    }
}
