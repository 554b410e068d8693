package org.finlora.model;

import org.finlora.FinloraException;
import org.finlora.io.Checkpoint;
import org.finlora.kernel.Activations;
import org.finlora.kernel.Attention;
import org.finlora.kernel.Matmuls;
import org.finlora.kernel.RmsNorm;
import org.finlora.kernel.Rope;
import org.finlora.kernel.Simd;
import org.finlora.kernel.WeightFormats;
import org.finlora.tensor.WeightMatrix;

/**
 * Llama inference: embeddings, nLayers × (RMSNorm → GQA attention with RoPE → residual, RMSNorm →
 * SwiGLU MLP → residual), final RMSNorm, lm_head. {@link #forward} runs a chunk of T tokens at
 * positions pos .. pos + T - 1 against a KV cache (batched prefill when T > 1, decode when T = 1).
 */
public final class LlamaModel {
    public final LlamaConfig config;
    public final LlamaWeights weights;
    /** The width of the kernels: the one the weights were built for. */
    private final Simd simd;
    private final Rope rope;

    public LlamaModel(LlamaWeights weights) {
        this.weights = weights;
        this.config = weights.config;
        this.simd = weights.simd;
        LlamaConfig c = config;
        float[] inv = Rope.inverseFrequencies(c.headDim(), c.ropeTheta());
        if (c.ropeFreqFactors() != null) {
            inv = Rope.divided(inv, c.ropeFreqFactors());
        } else if (c.ropeScaling() != null) {
            LlamaConfig.RopeScaling s = c.ropeScaling();
            inv = Rope.llama3Scaled(inv, s.factor(), s.lowFreqFactor(), s.highFreqFactor(), s.originalMaxPositions());
        }
        this.rope = new Rope(inv, c.headDim(), c.ropeInterleaved());
    }

    /**
     * Builds the model of a checkpoint at this process's width ({@link Simd#configured()}) with its weights
     * in their stored formats ({@code quant} null, "none" or "f32"... see {@link LlamaWeights#load}) or
     * converted on load to a {@link WeightFormats} format.
     */
    public static LlamaModel load(Checkpoint ck, String quant) {
        return load(ck, quant, Simd.configured());
    }

    /** {@link #load(Checkpoint, String)} at a given width. */
    public static LlamaModel load(Checkpoint ck, String quant, Simd simd) {
        return new LlamaModel(LlamaWeights.load(ck, LlamaWeights.format(quant), simd));
    }

    public KvCache newCache(int capacity) {
        return new KvCache(config, capacity);
    }

    /** The RoPE frequencies in use (after llama3 scaling / GGUF factors). */
    public float[] ropeInverseFrequencies() {
        return rope.inverseFrequencies();
    }

    /** Logits [T, vocab] of every position of {@code tokens}, run from position 0 with a fresh cache. */
    public float[] forwardAll(int[] tokens) {
        return forward(newCache(tokens.length), tokens, 0, tokens.length, 0, true);
    }

    /**
     * Runs tokens[off .. off + T) at positions pos .. pos + T - 1, writing their keys/values to the
     * cache. Returns logits [T, vocab] of all positions when {@code allLogits}, else [vocab] of the
     * last position (lm_head is skipped for the others).
     */
    public float[] forward(KvCache cache, int[] tokens, int off, int T, int pos, boolean allLogits) {
        LlamaConfig c = config;
        if (T <= 0) throw new IllegalArgumentException("forward needs at least one token");
        if (pos < 0 || pos + T > cache.capacity) {
            throw new FinloraException("context full: positions " + pos + ".." + (pos + T - 1) + " exceed the KV cache of "
                    + cache.capacity + " tokens");
        }
        int dim = c.dim(), qDim = c.qDim(), kvDim = c.kvDim(), hidden = c.hiddenDim(), half = c.headDim() / 2;
        float[] x = new float[T * dim];
        for (int t = 0; t < T; t++) {
            int id = tokens[off + t];
            if (id < 0 || id >= c.vocabSize()) throw new FinloraException("token id " + id + " is outside the vocabulary of " + c.vocabSize());
            weights.tokenEmbedding.dequantizeRow(id, x, t * dim);
        }
        float[] xb = new float[T * dim];
        float[] q = new float[T * qDim];
        float[] k = new float[T * kvDim];
        float[] v = new float[T * kvDim];
        float[] att = new float[T * qDim];
        float[] gate = new float[T * hidden];
        float[] up = new float[T * hidden];
        float[] cos = new float[T * half], sin = new float[T * half];
        rope.angles(pos, T, cos, sin);
        int[] rowSeq = new int[T], rowPos = new int[T];
        for (int t = 0; t < T; t++) rowPos[t] = pos + t;

        for (int l = 0; l < c.nLayers(); l++) {
            LlamaWeights.Layer w = weights.layers[l];
            RmsNorm.apply(simd, x, w.attnNorm(), xb, T, dim, c.rmsEps());
            Matmuls.sameInput(new WeightMatrix[]{w.wq(), w.wk(), w.wv()}, xb, new float[][]{q, k, v}, T);
            for (int t = 0; t < T; t++) {
                rope.rotate(q, t * qDim, c.nHeads(), cos, sin, t);
                rope.rotate(k, t * kvDim, c.nKvHeads(), cos, sin, t);
            }
            cache.put(l, k, 0, v, 0, pos, T);
            Attention.ragged(simd, q, att, T, rowSeq, rowPos, new float[][]{cache.keys[l]}, new float[][]{cache.values[l]},
                    c.nHeads(), c.nKvHeads(), c.headDim());
            w.wo().matmul(att, xb, T);
            add(x, xb, T * dim);

            RmsNorm.apply(simd, x, w.ffnNorm(), xb, T, dim, c.rmsEps());
            Matmuls.sameInput(new WeightMatrix[]{w.gate(), w.up()}, xb, new float[][]{gate, up}, T);
            Activations.siluMul(simd, gate, up, T * hidden);
            w.down().matmul(gate, xb, T);
            add(x, xb, T * dim);
        }

        int first = allLogits ? 0 : T - 1, n = T - first;
        float[] last = new float[n * dim];
        for (int t = 0; t < n; t++) {
            RmsNorm.apply(simd, x, (first + t) * dim, weights.finalNorm, last, t * dim, dim, c.rmsEps());
        }
        float[] logits = new float[n * c.vocabSize()];
        weights.lmHead.matmul(last, logits, n);
        return logits;
    }

    /**
     * One forward over a ragged batch of independent sequences: sequence b runs
     * tokens[b][off[b] .. off[b] + count[b]) at positions pos[b] .. pos[b] + count[b] - 1 against its
     * own cache caches[b]. The rows of all sequences go through each weight matrix in one matmul, so
     * the weights are streamed once per call rather than once per sequence; RoPE and attention use
     * each sequence's own positions and cache. Batched decode is count[b] = 1 for every b; prompts of
     * different lengths can be prefilled together. Returns the logits of each sequence's last row,
     * [B, vocab].
     */
    public float[] forwardBatch(KvCache[] caches, int[][] tokens, int[] off, int[] count, int[] pos) {
        LlamaConfig c = config;
        int B = caches.length;
        if (B == 0 || tokens.length != B || off.length != B || count.length != B || pos.length != B) {
            throw new IllegalArgumentException("forwardBatch needs B > 0 caches, token arrays, offsets, counts and positions; got "
                    + B + "/" + tokens.length + "/" + off.length + "/" + count.length + "/" + pos.length);
        }
        int dim = c.dim(), qDim = c.qDim(), kvDim = c.kvDim(), hidden = c.hiddenDim(), half = c.headDim() / 2;
        int[] rowStart = new int[B + 1];
        for (int b = 0; b < B; b++) {
            if (count[b] <= 0) throw new IllegalArgumentException("forwardBatch: sequence " + b + " has no tokens");
            if (pos[b] < 0 || pos[b] + count[b] > caches[b].capacity) {
                throw new FinloraException("context full: positions " + pos[b] + ".." + (pos[b] + count[b] - 1)
                        + " exceed the KV cache of " + caches[b].capacity + " tokens");
            }
            rowStart[b + 1] = Math.addExact(rowStart[b], count[b]);
        }
        int N = rowStart[B];
        // Per row: its sequence and absolute position (for attention), and its RoPE angles.
        int[] rowSeq = new int[N], rowPos = new int[N];
        float[] x = new float[N * dim];
        float[] cos = new float[N * half], sin = new float[N * half];
        for (int b = 0; b < B; b++) {
            int n = count[b];
            float[] cb = new float[n * half], sb = new float[n * half];
            rope.angles(pos[b], n, cb, sb);
            System.arraycopy(cb, 0, cos, rowStart[b] * half, n * half);
            System.arraycopy(sb, 0, sin, rowStart[b] * half, n * half);
            for (int t = 0; t < n; t++) {
                int r = rowStart[b] + t;
                int id = tokens[b][off[b] + t];
                if (id < 0 || id >= c.vocabSize()) throw new FinloraException("token id " + id + " is outside the vocabulary of " + c.vocabSize());
                weights.tokenEmbedding.dequantizeRow(id, x, r * dim);
                rowSeq[r] = b;
                rowPos[r] = pos[b] + t;
            }
        }
        float[] xb = new float[N * dim];
        float[] q = new float[N * qDim];
        float[] k = new float[N * kvDim];
        float[] v = new float[N * kvDim];
        float[] att = new float[N * qDim];
        float[] gate = new float[N * hidden];
        float[] up = new float[N * hidden];
        float[][] kc = new float[B][], vc = new float[B][];

        for (int l = 0; l < c.nLayers(); l++) {
            LlamaWeights.Layer w = weights.layers[l];
            RmsNorm.apply(simd, x, w.attnNorm(), xb, N, dim, c.rmsEps());
            Matmuls.sameInput(new WeightMatrix[]{w.wq(), w.wk(), w.wv()}, xb, new float[][]{q, k, v}, N);
            for (int r = 0; r < N; r++) {
                rope.rotate(q, r * qDim, c.nHeads(), cos, sin, r);
                rope.rotate(k, r * kvDim, c.nKvHeads(), cos, sin, r);
            }
            for (int b = 0; b < B; b++) {
                kc[b] = caches[b].keys[l];
                vc[b] = caches[b].values[l];
                caches[b].put(l, k, rowStart[b] * kvDim, v, rowStart[b] * kvDim, pos[b], count[b]);
            }
            Attention.ragged(simd, q, att, N, rowSeq, rowPos, kc, vc, c.nHeads(), c.nKvHeads(), c.headDim());
            w.wo().matmul(att, xb, N);
            add(x, xb, N * dim);

            RmsNorm.apply(simd, x, w.ffnNorm(), xb, N, dim, c.rmsEps());
            Matmuls.sameInput(new WeightMatrix[]{w.gate(), w.up()}, xb, new float[][]{gate, up}, N);
            Activations.siluMul(simd, gate, up, N * hidden);
            w.down().matmul(gate, xb, N);
            add(x, xb, N * dim);
        }

        float[] last = new float[B * dim];
        for (int b = 0; b < B; b++) {
            RmsNorm.apply(simd, x, (rowStart[b + 1] - 1) * dim, weights.finalNorm, last, b * dim, dim, c.rmsEps());
        }
        float[] logits = new float[B * c.vocabSize()];
        weights.lmHead.matmul(last, logits, B);
        return logits;
    }

    private static void add(float[] x, float[] d, int n) {
        for (int i = 0; i < n; i++) x[i] += d[i];
    }
}
