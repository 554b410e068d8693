package org.finlora.kernel;

import jdk.incubator.vector.FloatVector;

import static org.finlora.kernel.Vectors.F;
import static org.finlora.kernel.Vectors.L;

/**
 * Causal grouped-query attention of new rows over a KV cache that already holds their keys/values:
 * query head h reads kv head h / (nHeads / nKvHeads). One job is one (row, kv head): the query heads
 * of its group reuse the same cache rows while they are in L1. A row's result depends only on its
 * query, its cache and its position, never on which other rows run in the same call, so a sequence
 * gets the same bits alone or in a batch.
 */
public final class Attention {
    /** Multiply-adds below which a call runs on the calling thread (a fork/join costs more). */
    static final int MIN_PARALLEL_WORK = 1 << 16;

    private Attention() {
    }

    /**
     * T new tokens of one sequence at positions pos .. pos + T - 1.
     *
     * @param q      [T, nHeads · headDim] rotated queries
     * @param out    [T, nHeads · headDim] attention outputs (overwritten)
     * @param kCache [capacity, nKvHeads · headDim] rotated keys of positions 0 .. pos + T - 1
     * @param vCache [capacity, nKvHeads · headDim] values
     */
    public static void forward(float[] q, float[] out, int T, int pos, float[] kCache, float[] vCache,
                               int nHeads, int nKvHeads, int headDim, boolean vector) {
        int[] rowSeq = new int[T], rowPos = new int[T];
        for (int t = 0; t < T; t++) rowPos[t] = pos + t;
        ragged(q, out, T, rowSeq, rowPos, new float[][]{kCache}, new float[][]{vCache}, nHeads, nKvHeads, headDim, vector);
    }

    /**
     * N rows that may belong to different sequences: row r attends to positions 0 .. rowPos[r] of
     * the cache of sequence rowSeq[r] (kCache[rowSeq[r]], vCache[rowSeq[r]], each [capacity, nKvHeads · headDim]).
     */
    public static void ragged(float[] q, float[] out, int N, int[] rowSeq, int[] rowPos, float[][] kCache, float[][] vCache,
                              int nHeads, int nKvHeads, int headDim, boolean vector) {
        int group = nHeads / nKvHeads;
        int maxLen = 0;
        long positions = 0;
        for (int r = 0; r < N; r++) {
            maxLen = Math.max(maxLen, rowPos[r] + 1);
            positions += rowPos[r] + 1;
        }
        int jobs = N * nKvHeads;
        // Two multiply-adds (score and value) per position, head dimension and query head.
        long work = 2L * positions * nHeads * headDim;
        int minChunk = work < MIN_PARALLEL_WORK ? jobs : (int) Math.max(1, (long) MIN_PARALLEL_WORK * jobs / work);
        int scratch = maxLen;
        Parallel.forRange(jobs, minChunk, (start, end) -> {
            float[] att = new float[scratch];
            for (int job = start; job < end; job++) {
                int r = job / nKvHeads, kvh = job % nKvHeads;
                float[] kc = kCache[rowSeq[r]], vc = vCache[rowSeq[r]];
                for (int g = 0; g < group; g++) {
                    int h = kvh * group + g;
                    head(q, out, r * nHeads * headDim + h * headDim, kc, vc, kvh * headDim, nKvHeads * headDim, rowPos[r] + 1, headDim, att, vector);
                }
            }
        });
    }

    /**
     * One query head: out[qo ..+headDim) = softmax(q·k_s / sqrt(headDim) for s < n) · v. Keys and
     * values of position s are at kc/vc[s · kvDim + ko ..+headDim); att holds n scores.
     */
    static void head(float[] q, float[] out, int qo, float[] kc, float[] vc, int ko, int kvDim, int n, int headDim, float[] att, boolean vector) {
        float scale = (float) (1.0 / Math.sqrt(headDim));
        if (vector) {
            scoresVector(q, qo, kc, ko, kvDim, n, headDim, scale, att);
            Activations.softmaxVector(att, 0, n);
            weightedSumVector(att, vc, ko, kvDim, n, headDim, out, qo);
        } else {
            for (int s = 0; s < n; s++) att[s] = Dot.dotScalar(q, qo, kc, s * kvDim + ko, headDim) * scale;
            Activations.softmaxScalar(att, 0, n);
            java.util.Arrays.fill(out, qo, qo + headDim, 0f);
            for (int s = 0; s < n; s++) {
                float p = att[s];
                int vo = s * kvDim + ko;
                for (int d = 0; d < headDim; d++) out[qo + d] += p * vc[vo + d];
            }
        }
    }

    /** att[s] = (q · k_s) · scale: lanes of full vectors with FMAs summed in a fixed order, then the scalar tail. */
    static void scoresVector(float[] q, int qo, float[] kc, int ko, int kvDim, int n, int headDim, float scale, float[] att) {
        int upper = headDim - headDim % L;
        if (upper == L) {
            // The common small-head case (and stories260K's headDim 8): q stays in a register.
            FloatVector qv = FloatVector.fromArray(F, q, qo);
            for (int s = 0; s < n; s++) {
                int ko2 = s * kvDim + ko;
                float d = Dot.hsum(FloatVector.fromArray(F, kc, ko2).mul(qv));
                for (int i = L; i < headDim; i++) d += q[qo + i] * kc[ko2 + i];
                att[s] = d * scale;
            }
            return;
        }
        for (int s = 0; s < n; s++) {
            int ko2 = s * kvDim + ko;
            float d = 0f;
            if (upper > 0) {
                FloatVector acc = FloatVector.fromArray(F, kc, ko2).mul(FloatVector.fromArray(F, q, qo));
                for (int i = L; i < upper; i += L) acc = FloatVector.fromArray(F, kc, ko2 + i).fma(FloatVector.fromArray(F, q, qo + i), acc);
                d = Dot.hsum(acc);
            }
            for (int i = upper; i < headDim; i++) d += q[qo + i] * kc[ko2 + i];
            att[s] = d * scale;
        }
    }

    /**
     * out[qo + d] = sum_s p[s] · v_s[d]: each L-wide column block accumulates in registers over all
     * positions (two accumulators for even/odd s, added at the end) instead of a load/store per position.
     */
    static void weightedSumVector(float[] p, float[] vc, int ko, int kvDim, int n, int headDim, float[] out, int qo) {
        int upper = headDim - headDim % L;
        for (int c = 0; c < upper; c += L) {
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
            int s = 0, vo = ko + c;
            for (; s + 2 <= n; s += 2, vo += 2 * kvDim) {
                a0 = FloatVector.fromArray(F, vc, vo).fma(FloatVector.broadcast(F, p[s]), a0);
                a1 = FloatVector.fromArray(F, vc, vo + kvDim).fma(FloatVector.broadcast(F, p[s + 1]), a1);
            }
            if (s < n) a0 = FloatVector.fromArray(F, vc, vo).fma(FloatVector.broadcast(F, p[s]), a0);
            a0.add(a1).intoArray(out, qo + c);
        }
        for (int d = upper; d < headDim; d++) {
            float a = 0f;
            for (int s = 0; s < n; s++) a += p[s] * vc[s * kvDim + ko + d];
            out[qo + d] = a;
        }
    }
}
