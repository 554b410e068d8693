package org.finlora.train;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.finlora.kernel.Parallel;
import org.finlora.kernel.Simd;
import org.finlora.kernel.VectorMath;

/**
 * Causal grouped-query attention over a right-padded batch, for training. q is [B*T, nHeads*hd],
 * k and v are [B*T, nKv*hd], out is [B*T, nHeads*hd]. Query (b, t) with t < len[b] attends to keys
 * 0..t; padded queries (t >= len[b]) output zeros (their logits are never counted by the loss, and
 * causality keeps them out of every real query). Forward keeps only the log-sum-exp per (b, h, t);
 * backward recomputes the probabilities from q, k and lse, so no [T, T] matrix is stored.
 *
 * <p>Each task first copies the keys (and in backward the values) of its kv head transposed,
 * [hd][T]: the scores of 8 consecutive positions are then one vector multiply-add per head
 * dimension, with no horizontal sum per position. Weighted sums over positions (the output, dq)
 * accumulate a row in registers. Every sum runs in a fixed order, so a step is reproducible.
 */
public final class CausalAttention {
    private CausalAttention() {
    }


    /**
     * sum_i a[ao + i] * b[bo + i] for i &lt; n: vector FMAs over the head dimension, scalar tail. The
     * lanes are summed in a fixed order ({@link Simd#hsum}: reduceLanes sums in a different order
     * before and after C2 compiles it, and training must be reproducible within a process).
     */
    static float dot(Simd simd, float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        float s = 0f;
        if (simd.vector() && n >= simd.floatLanes()) {
            VectorSpecies<Float> S = simd.floats();
            int L = S.length();
            FloatVector acc = FloatVector.zero(S);
            for (; i + L <= n; i += L) {
                acc = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc);
            }
            s = simd.hsum(acc);
        }
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    /** y[yo + i] += alpha * x[xo + i] for i &lt; n. */
    static void axpy(Simd simd, float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        if (simd.vector() && n >= simd.floatLanes()) {
            VectorSpecies<Float> S = simd.floats();
            int L = S.length();
            FloatVector av = FloatVector.broadcast(S, alpha);
            for (; i + L <= n; i += L) {
                FloatVector.fromArray(S, x, xo + i).fma(av, FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
            }
        }
        for (; i < n; i++) y[yo + i] += alpha * x[xo + i];
    }

    /** dst[d * T + t] = src[(rowBase + t) * stride + colOff + d] for t &lt; n, d &lt; hd: one head's rows, transposed. */
    static void transpose(float[] src, int rowBase, int stride, int colOff, int n, int hd, float[] dst, int T) {
        for (int t = 0; t < n; t++) {
            int so = (rowBase + t) * stride + colOff;
            for (int d = 0; d < hd; d++) dst[d * T + t] = src[so + d];
        }
    }

    /**
     * s[t2] = sum_d q[qo + d] * kt[d * T + t2] for t2 &lt; n, each a chain of fused multiply-adds in
     * d order (vector lanes and the scalar tail give the same bits). Two position blocks per
     * iteration keep two independent chains in flight.
     */
    static void scores(Simd simd, float[] q, int qo, float[] kt, int T, int hd, int n, float[] s) {
        int t2 = 0;
        if (simd.vector()) {
            VectorSpecies<Float> S = simd.floats();
            int L = S.length();
            for (; t2 + 2 * L <= n; t2 += 2 * L) {
                FloatVector a0 = FloatVector.zero(S), a1 = a0;
                for (int d = 0, ko = t2; d < hd; d++, ko += T) {
                    FloatVector qd = FloatVector.broadcast(S, q[qo + d]);
                    a0 = FloatVector.fromArray(S, kt, ko).fma(qd, a0);
                    a1 = FloatVector.fromArray(S, kt, ko + L).fma(qd, a1);
                }
                a0.intoArray(s, t2);
                a1.intoArray(s, t2 + L);
            }
            for (; t2 + L <= n; t2 += L) {
                FloatVector a0 = FloatVector.zero(S);
                for (int d = 0, ko = t2; d < hd; d++, ko += T) a0 = FloatVector.fromArray(S, kt, ko).fma(FloatVector.broadcast(S, q[qo + d]), a0);
                a0.intoArray(s, t2);
            }
        }
        for (; t2 < n; t2++) {
            float a = 0f;
            for (int d = 0, ko = t2; d < hd; d++, ko += T) a = Math.fma(kt[ko], q[qo + d], a);
            s[t2] = a;
        }
    }

    /** p[t2] = e^(p[t2] * scale - shift) for t2 &lt; n (vector exp, bit-identical scalar tail). */
    static void expScaled(Simd simd, float[] p, int n, float scale, float shift) {
        int t2 = 0;
        if (simd.vector()) {
            VectorSpecies<Float> S = simd.floats();
            int L = S.length();
            FloatVector sv = FloatVector.broadcast(S, scale), mv = FloatVector.broadcast(S, shift);
            for (; t2 + L <= n; t2 += L) VectorMath.exp(FloatVector.fromArray(S, p, t2).fma(sv, mv.neg())).intoArray(p, t2);
        }
        for (; t2 < n; t2++) p[t2] = VectorMath.exp(Math.fma(p[t2], scale, -shift));
    }

    /** sum of p[0 .. n) in a fixed order (the lanes, then the tail). */
    static float sum(Simd simd, float[] p, int n) {
        int t2 = 0;
        float s = 0f;
        if (simd.vector() && n >= simd.floatLanes()) {
            VectorSpecies<Float> S = simd.floats();
            int L = S.length();
            FloatVector acc = FloatVector.zero(S);
            for (; t2 + L <= n; t2 += L) acc = acc.add(FloatVector.fromArray(S, p, t2));
            s = simd.hsum(acc);
        }
        for (; t2 < n; t2++) s += p[t2];
        return s;
    }

    /**
     * out[oo + d] = scale * sum_{t2 &lt; n} w[t2] * x[(rowBase + t2) * stride + colOff + d] for d &lt; hd:
     * each vector-wide column block accumulates over all positions in two registers (even and odd t2).
     */
    static void weightedRows(Simd simd, float[] w, int n, float[] x, int rowBase, int stride, int colOff, int hd, float[] out, int oo, float scale) {
        int c = 0;
        if (simd.vector()) {
            VectorSpecies<Float> S = simd.floats();
            int L = S.length();
            for (; c + L <= hd; c += L) {
                FloatVector a0 = FloatVector.zero(S), a1 = a0;
                int t2 = 0, xo = rowBase * stride + colOff + c;
                for (; t2 + 2 <= n; t2 += 2, xo += 2 * stride) {
                    a0 = FloatVector.fromArray(S, x, xo).fma(FloatVector.broadcast(S, w[t2]), a0);
                    a1 = FloatVector.fromArray(S, x, xo + stride).fma(FloatVector.broadcast(S, w[t2 + 1]), a1);
                }
                if (t2 < n) a0 = FloatVector.fromArray(S, x, xo).fma(FloatVector.broadcast(S, w[t2]), a0);
                a0.add(a1).mul(scale).intoArray(out, oo + c);
            }
        }
        for (; c < hd; c++) {
            float a = 0f;
            for (int t2 = 0, xo = rowBase * stride + colOff + c; t2 < n; t2++, xo += stride) a = Math.fma(w[t2], x[xo], a);
            out[oo + c] = a * scale;
        }
    }

    /** Writes out and lse [B, nHeads, T]. */
    public static void forward(Simd simd, float[] out, float[] lse, float[] q, float[] k, float[] v,
                               int B, int T, int nHeads, int nKv, int hd, int[] lengths) {
        int qW = nHeads * hd, kvW = nKv * hd, group = nHeads / nKv;
        float scale = (float) (1.0 / Math.sqrt(hd));
        Parallel.forRange(B * nHeads, 1, (j0, j1) -> {
            float[] p = new float[T], kt = new float[hd * T];
            int ktOf = -1;
            for (int j = j0; j < j1; j++) {
                int b = j / nHeads, h = j % nHeads, kh = h / group;
                int len = lengths[b];
                if (ktOf != b * nKv + kh) {   // consecutive heads of a group share the transposed keys
                    transpose(k, b * T, kvW, kh * hd, len, hd, kt, T);
                    ktOf = b * nKv + kh;
                }
                for (int t = 0; t < T; t++) {
                    int qo = (b * T + t) * qW + h * hd;
                    if (t >= len) {
                        java.util.Arrays.fill(out, qo, qo + hd, 0f);
                        lse[(b * nHeads + h) * T + t] = 0f;
                        continue;
                    }
                    int n = t + 1;
                    scores(simd, q, qo, kt, T, hd, n, p);
                    float max = Float.NEGATIVE_INFINITY;
                    for (int t2 = 0; t2 < n; t2++) max = Math.max(max, p[t2]);
                    float maxScaled = max * scale;   // scale > 0: the largest scaled score
                    expScaled(simd, p, n, scale, maxScaled);
                    float sum = sum(simd, p, n);
                    weightedRows(simd, p, n, v, b * T, kvW, kh * hd, hd, out, qo, 1f / sum);
                    lse[(b * nHeads + h) * T + t] = maxScaled + (float) Math.log(sum);
                }
            }
        });
    }

    /**
     * Overwrites dq, dk, dv. Parallel over (b, kv head): each task owns the dk/dv rows of its kv
     * head and the dq rows of the query heads of its group, so there are no write conflicts.
     */
    public static void backward(Simd simd, float[] dq, float[] dk, float[] dv, float[] dout, float[] out, float[] lse,
                                float[] q, float[] k, float[] v, int B, int T, int nHeads, int nKv, int hd, int[] lengths) {
        int qW = nHeads * hd, kvW = nKv * hd, group = nHeads / nKv;
        float scale = (float) (1.0 / Math.sqrt(hd));
        Parallel.forRange(B * nKv, 1, (j0, j1) -> {
            float[] pr = new float[T], dp = new float[T], kt = new float[hd * T], vt = new float[hd * T];
            for (int j = j0; j < j1; j++) {
                int b = j / nKv, kh = j % nKv;
                int len = lengths[b];
                for (int t = 0; t < T; t++) {
                    int ko = (b * T + t) * kvW + kh * hd;
                    java.util.Arrays.fill(dk, ko, ko + hd, 0f);
                    java.util.Arrays.fill(dv, ko, ko + hd, 0f);
                }
                transpose(k, b * T, kvW, kh * hd, len, hd, kt, T);
                transpose(v, b * T, kvW, kh * hd, len, hd, vt, T);
                for (int h = kh * group; h < (kh + 1) * group; h++) {
                    for (int t = 0; t < T; t++) {
                        int qo = (b * T + t) * qW + h * hd;
                        if (t >= len) {
                            java.util.Arrays.fill(dq, qo, qo + hd, 0f);
                            continue;
                        }
                        int n = t + 1;
                        float l = lse[(b * nHeads + h) * T + t];
                        // D = sum_t2 p * (dout . v_t2) = dout . out
                        float dsum = dot(simd, dout, qo, out, qo, hd);
                        scores(simd, q, qo, kt, T, hd, n, pr);
                        expScaled(simd, pr, n, scale, l);
                        scores(simd, dout, qo, vt, T, hd, n, dp);
                        for (int t2 = 0; t2 < n; t2++) {
                            int ko = (b * T + t2) * kvW + kh * hd;
                            float p = pr[t2], ds = p * (dp[t2] - dsum) * scale;
                            dp[t2] = ds;
                            axpy(simd, p, dout, qo, dv, ko, hd);
                            axpy(simd, ds, q, qo, dk, ko, hd);
                        }
                        weightedRows(simd, dp, n, k, b * T, kvW, kh * hd, hd, dq, qo, 1f);
                    }
                }
            }
        });
    }
}
