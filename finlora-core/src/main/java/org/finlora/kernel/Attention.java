package org.finlora.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal grouped-query attention of new rows over a KV cache that already holds their keys/values:
 * query head h reads kv head h / (nHeads / nKvHeads). One job is one (row, kv head): the query heads
 * of its group reuse the same cache rows while they are in L1. A row's result depends only on its
 * query, its cache and its position, never on which other rows run in the same call, so a sequence
 * gets the same bits alone or in a batch. Keys are read transposed ([kv head, dim, position]): the
 * scores of L consecutive positions are one multiply-add per head dimension.
 */
public final class Attention {
    private Attention() {
    }

    /**
     * T new tokens of one sequence at positions pos .. pos + T - 1, over a cache in row layout
     * (a reference-friendly form: the keys are transposed into a scratch copy first; the model's
     * KV cache keeps them transposed and calls {@link #ragged} directly).
     *
     * @param q      [T, nHeads · headDim] rotated queries
     * @param out    [T, nHeads · headDim] attention outputs (overwritten)
     * @param kCache [capacity, nKvHeads · headDim] rotated keys of positions 0 .. pos + T - 1
     * @param vCache [capacity, nKvHeads · headDim] values
     */
    public static void forward(Simd simd, float[] q, float[] out, int T, int pos, float[] kCache, float[] vCache,
                               int nHeads, int nKvHeads, int headDim) {
        int kvDim = nKvHeads * headDim, n = pos + T;
        float[] kt = new float[n * kvDim];
        for (int s = 0; s < n; s++) {
            for (int j = 0; j < kvDim; j++) kt[j * n + s] = kCache[s * kvDim + j];
        }
        int[] rowSeq = new int[T], rowPos = new int[T];
        for (int t = 0; t < T; t++) rowPos[t] = pos + t;
        ragged(simd, q, out, T, rowSeq, rowPos, new float[][]{kt}, new float[][]{vCache}, nHeads, nKvHeads, headDim);
    }

    /**
     * N rows that may belong to different sequences: row r attends to positions 0 .. rowPos[r] of
     * the cache of sequence rowSeq[r]. Keys kCache[b] are [nKvHeads, headDim, capacity_b] (position
     * fastest; capacity_b = kCache[b].length / kvDim), values vCache[b] are [capacity_b, nKvHeads · headDim].
     */
    public static void ragged(Simd simd, float[] q, float[] out, int N, int[] rowSeq, int[] rowPos, float[][] kCache, float[][] vCache,
                              int nHeads, int nKvHeads, int headDim) {
        int group = nHeads / nKvHeads, kvDim = nKvHeads * headDim;
        int maxLen = 0;
        long positions = 0;
        for (int r = 0; r < N; r++) {
            maxLen = Math.max(maxLen, rowPos[r] + 1);
            positions += rowPos[r] + 1;
        }
        int jobs = N * nKvHeads;
        // Two multiply-adds (score and value) per position, head dimension and query head.
        long work = 2L * positions * nHeads * headDim;
        int minChunk = Parallel.minChunk(1, work / Math.max(1, jobs));   // a job is worth a thread from the shared threshold
        int scratch = maxLen;
        Parallel.forRange(jobs, minChunk, (start, end) -> {
            float[] att = new float[scratch + simd.floatLanes()];
            for (int job = start; job < end; job++) {
                int r = job / nKvHeads, kvh = job % nKvHeads;
                float[] kt = kCache[rowSeq[r]], vc = vCache[rowSeq[r]];
                int cap = kt.length / kvDim;
                for (int g = 0; g < group; g++) {
                    int h = kvh * group + g;
                    head(simd, q, out, r * nHeads * headDim + h * headDim, kt, kvh * headDim * cap, cap, vc, kvh * headDim, kvDim,
                            rowPos[r] + 1, headDim, att);
                }
            }
        });
    }

    /**
     * One query head: out[qo ..+headDim) = softmax(q·k_s / sqrt(headDim) for s < n) · v. Key d of
     * position s is kt[kb + d · cap + s]; values of position s are at vc[s · kvDim + vo ..+headDim);
     * att holds n scores. The vector and scalar paths compute each score with the same fused
     * multiply-adds in d order, so they agree bit for bit up to the softmax.
     */
    static void head(Simd simd, float[] q, float[] out, int qo, float[] kt, int kb, int cap, float[] vc, int vo, int kvDim, int n, int headDim,
                     float[] att) {
        float scale = (float) (1.0 / Math.sqrt(headDim));
        boolean vector = simd.vector();
        int s0 = 0;
        if (vector) {
            VectorSpecies<Float> F = simd.floats();
            int L = F.length();
            for (; s0 + L <= n; s0 += L) {
                FloatVector acc = FloatVector.zero(F);
                for (int d = 0, ko = kb + s0; d < headDim; d++, ko += cap) {
                    acc = FloatVector.fromArray(F, kt, ko).fma(FloatVector.broadcast(F, q[qo + d]), acc);
                }
                acc.mul(scale).intoArray(att, s0);
            }
        }
        for (int s = s0; s < n; s++) {
            float acc = 0f;
            for (int d = 0, ko = kb + s; d < headDim; d++, ko += cap) acc = Math.fma(kt[ko], q[qo + d], acc);
            att[s] = acc * scale;
        }
        if (vector) {
            softmaxWeightedSumVector(simd, att, n, vc, vo, kvDim, headDim, out, qo);
        } else {
            Activations.softmaxScalar(att, 0, n);
            java.util.Arrays.fill(out, qo, qo + headDim, 0f);
            for (int s = 0; s < n; s++) {
                float p = att[s];
                int o = s * kvDim + vo;
                for (int d = 0; d < headDim; d++) out[qo + d] += p * vc[o + d];
            }
        }
    }

    /**
     * out = sum_s softmax(att)[s] · v_s, all in full vectors: the scores are padded with -inf up to
     * a multiple of L (their e^x is exactly 0), so no position takes a scalar exp; the 1/sum of the
     * softmax is applied once to the output instead of to every weight. att needs room for n + L - 1.
     */
    static void softmaxWeightedSumVector(Simd simd, float[] att, int n, float[] vc, int vo, int kvDim, int headDim, float[] out, int qo) {
        VectorSpecies<Float> F = simd.floats();
        int L = F.length();
        int nv = (n + L - 1) / L * L;
        for (int s = n; s < nv; s++) att[s] = Float.NEGATIVE_INFINITY;
        FloatVector m = FloatVector.fromArray(F, att, 0);
        for (int s = L; s < nv; s += L) m = m.max(FloatVector.fromArray(F, att, s));
        FloatVector mv = FloatVector.broadcast(F, m.reduceLanes(VectorOperators.MAX)), acc = FloatVector.zero(F);
        for (int s = 0; s < nv; s += L) {
            FloatVector e = VectorMath.exp(FloatVector.fromArray(F, att, s).sub(mv));
            e.intoArray(att, s);
            acc = acc.add(e);
        }
        float inv = 1f / simd.hsum(acc);
        weightedSumVector(simd, att, vc, vo, kvDim, n, headDim, out, qo);
        for (int d = 0; d < headDim; d++) out[qo + d] *= inv;
    }

    /**
     * out[qo + d] = sum_s p[s] · v_s[d]: each L-wide column block accumulates in registers over all
     * positions instead of a load/store per position, in four chains (position s mod 4, added at the
     * end): one chain would wait a multiply-add latency per position.
     */
    static void weightedSumVector(Simd simd, float[] p, float[] vc, int ko, int kvDim, int n, int headDim, float[] out, int qo) {
        VectorSpecies<Float> F = simd.floats();
        int L = F.length();
        int upper = headDim - headDim % L;
        for (int c = 0; c < upper; c += L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            int s = 0, vo = ko + c;
            for (; s + 4 <= n; s += 4, vo += 4 * kvDim) {
                a0 = FloatVector.fromArray(F, vc, vo).fma(FloatVector.broadcast(F, p[s]), a0);
                a1 = FloatVector.fromArray(F, vc, vo + kvDim).fma(FloatVector.broadcast(F, p[s + 1]), a1);
                a2 = FloatVector.fromArray(F, vc, vo + 2 * kvDim).fma(FloatVector.broadcast(F, p[s + 2]), a2);
                a3 = FloatVector.fromArray(F, vc, vo + 3 * kvDim).fma(FloatVector.broadcast(F, p[s + 3]), a3);
            }
            for (; s < n; s++, vo += kvDim) a0 = FloatVector.fromArray(F, vc, vo).fma(FloatVector.broadcast(F, p[s]), a0);
            a0.add(a1).add(a2.add(a3)).intoArray(out, qo + c);
        }
        for (int d = upper; d < headDim; d++) {
            float a = 0f;
            for (int s = 0; s < n; s++) a += p[s] * vc[s * kvDim + ko + d];
            out[qo + d] = a;
        }
    }
}
