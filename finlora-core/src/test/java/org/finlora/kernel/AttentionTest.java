package org.finlora.kernel;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Ragged attention (transposed keys) against a direct double-precision causal GQA, on head sizes
 * that are below, equal to and not multiples of the vector length, and positions around multiples
 * of it; each row must get the same bits alone as in a batch.
 */
class AttentionTest {
    static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() * 4 - 2);
        return a;
    }

    /** Keys [cap, kvDim] in row layout → [kvDim, cap]. */
    static float[] transposed(float[] k, int cap, int kvDim) {
        float[] t = new float[cap * kvDim];
        for (int s = 0; s < cap; s++) for (int j = 0; j < kvDim; j++) t[j * cap + s] = k[s * kvDim + j];
        return t;
    }

    static double[] reference(float[] q, int qo, float[] k, float[] v, int n, int kvh, int kvDim, int hd) {
        double[] sc = new double[n];
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int s = 0; s < n; s++) {
            double d = 0;
            for (int i = 0; i < hd; i++) d += (double) q[qo + i] * k[s * kvDim + kvh * hd + i];
            sc[s] = d / Math.sqrt(hd);
            max = Math.max(max, sc[s]);
        }
        for (int s = 0; s < n; s++) sum += sc[s] = Math.exp(sc[s] - max);
        double[] o = new double[hd];
        for (int i = 0; i < hd; i++) for (int s = 0; s < n; s++) o[i] += sc[s] / sum * v[s * kvDim + kvh * hd + i];
        return o;
    }

    @Test
    void raggedRowsMatchDirectGqaAndAreBatchInvariant() {
        int[][] shapes = {{8, 4, 8}, {3, 1, 12}, {2, 2, 20}, {6, 3, 3}, {4, 2, 16}};
        for (int[] shape : shapes) {
            int heads = shape[0], kvHeads = shape[1], hd = shape[2], kvDim = kvHeads * hd, qDim = heads * hd;
            int[] caps = {9, 41, 18};
            // rows: (sequence, position); positions around multiples of 8 and the cache ends
            int[][] rows = {{0, 0}, {1, 40}, {0, 8}, {2, 17}, {1, 7}, {1, 16}, {2, 4}, {0, 5}};
            int N = rows.length;
            float[][] k = new float[3][], v = new float[3][], kt = new float[3][];
            for (int b = 0; b < 3; b++) {
                k[b] = random(caps[b] * kvDim, 10 + b);
                v[b] = random(caps[b] * kvDim, 20 + b);
                kt[b] = transposed(k[b], caps[b], kvDim);
            }
            float[] q = random(N * qDim, 5 + hd);
            int[] rowSeq = new int[N], rowPos = new int[N];
            for (int r = 0; r < N; r++) {
                rowSeq[r] = rows[r][0];
                rowPos[r] = rows[r][1];
            }
            for (Simd vector : new Simd[]{Simd.SCALAR, TestWeights.width()}) {
                float[] out = new float[N * qDim];
                Attention.ragged(vector, q, out, N, rowSeq, rowPos, kt, v, heads, kvHeads, hd);
                for (int r = 0; r < N; r++) {
                    int b = rowSeq[r], n = rowPos[r] + 1;
                    for (int h = 0; h < heads; h++) {
                        double[] ref = reference(q, r * qDim + h * hd, k[b], v[b], n, h / (heads / kvHeads), kvDim, hd);
                        for (int i = 0; i < hd; i++) {
                            assertEquals(ref[i], out[r * qDim + h * hd + i], 2e-6, "shape " + heads + "/" + kvHeads + "/" + hd + " vector " + vector
                                    + " row " + r + " head " + h + " dim " + i);
                        }
                    }
                    // the same row alone: the same bits
                    float[] alone = new float[qDim];
                    Attention.ragged(vector, java.util.Arrays.copyOfRange(q, r * qDim, (r + 1) * qDim), alone, 1, new int[]{0}, new int[]{rowPos[r]},
                            new float[][]{kt[b]}, new float[][]{v[b]}, heads, kvHeads, hd);
                    for (int i = 0; i < qDim; i++) {
                        assertEquals(Float.floatToIntBits(out[r * qDim + i]), Float.floatToIntBits(alone[i]), "row " + r + " alone vs batched, " + i);
                    }
                }
            }
        }
    }

    @Test
    void largeCallRunsInParallelChunksWithTheSameBits() {
        // Enough work to split across threads: 64 rows at positions up to 300.
        int heads = 4, kvHeads = 2, hd = 8, kvDim = kvHeads * hd, qDim = heads * hd, cap = 301, N = 64;
        float[] k = random(cap * kvDim, 1), v = random(cap * kvDim, 2), kt = transposed(k, cap, kvDim);
        float[] q = random(N * qDim, 3);
        int[] rowSeq = new int[N], rowPos = new int[N];
        for (int r = 0; r < N; r++) rowPos[r] = 300 - 3 * r;
        float[] out = new float[N * qDim];
        Attention.ragged(TestWeights.width(), q, out, N, rowSeq, rowPos, new float[][]{kt}, new float[][]{v}, heads, kvHeads, hd);
        for (int r = 0; r < N; r += 7) {
            float[] alone = new float[qDim];
            Attention.ragged(TestWeights.width(), java.util.Arrays.copyOfRange(q, r * qDim, (r + 1) * qDim), alone, 1, new int[]{0}, new int[]{rowPos[r]},
                    new float[][]{kt}, new float[][]{v}, heads, kvHeads, hd);
            for (int i = 0; i < qDim; i++) assertEquals(Float.floatToIntBits(alone[i]), Float.floatToIntBits(out[r * qDim + i]), "row " + r);
            double[] ref = reference(q, r * qDim, k, v, rowPos[r] + 1, 0, kvDim, hd);
            for (int i = 0; i < hd; i++) assertEquals(ref[i], out[r * qDim + i], 2e-6, "row " + r + " dim " + i);
        }
    }
}
