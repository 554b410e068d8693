package org.finlora.model;

import org.finlora.FinloraException;
import org.finlora.io.Checkpoint;
import org.finlora.kernel.Activations;
import org.finlora.kernel.Attention;
import org.finlora.kernel.Matrices;
import org.finlora.kernel.Matmuls;
import org.finlora.kernel.RmsNorm;
import org.finlora.kernel.Rope;
import org.finlora.kernel.Vectors;
import org.finlora.kernel.WeightFormats;
import org.finlora.tensor.Tensor;
import org.finlora.tensor.WeightMatrix;

import java.util.function.Function;

/**
 * Llama inference: embeddings, nLayers × (RMSNorm → GQA attention with RoPE → residual, RMSNorm →
 * SwiGLU MLP → residual), final RMSNorm, lm_head. {@link #forward} runs a chunk of T tokens at
 * positions pos .. pos + T - 1 against a KV cache (batched prefill when T > 1, decode when T = 1).
 */
public final class LlamaModel {
    public final LlamaConfig config;
    public final LlamaWeights weights;
    private final Rope rope;

    public LlamaModel(LlamaWeights weights) {
        this.weights = weights;
        this.config = weights.config;
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
     * Builds the model of a checkpoint with its weights in their stored dtypes ({@code quant} null or
     * "none") or converted on load to a registered {@link WeightFormats} format. Formats registered
     * with embeddings=true also convert the token embedding and lm_head.
     */
    public static LlamaModel load(Checkpoint ck, String quant) {
        Function<Tensor, WeightMatrix> stored = Matrices::of;
        if (quant == null || quant.isBlank() || quant.equals("none")) return new LlamaModel(LlamaWeights.from(ck, stored, stored));
        WeightFormats.Format f = WeightFormats.get(quant);
        return new LlamaModel(LlamaWeights.from(ck, f.fromTensor(), f.embeddings() ? f.fromTensor() : stored));
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
        boolean vec = Vectors.ENABLED;

        for (int l = 0; l < c.nLayers(); l++) {
            LlamaWeights.Layer w = weights.layers[l];
            RmsNorm.apply(x, w.attnNorm(), xb, T, dim, c.rmsEps());
            Matmuls.sameInput(new WeightMatrix[]{w.wq(), w.wk(), w.wv()}, xb, new float[][]{q, k, v}, T);
            float[] kc = cache.keys[l], vc = cache.values[l];
            for (int t = 0; t < T; t++) {
                rope.rotate(q, t * qDim, c.nHeads(), cos, sin, t);
                rope.rotate(k, t * kvDim, c.nKvHeads(), cos, sin, t);
            }
            System.arraycopy(k, 0, kc, pos * kvDim, T * kvDim);
            System.arraycopy(v, 0, vc, pos * kvDim, T * kvDim);
            Attention.forward(q, att, T, pos, kc, vc, c.nHeads(), c.nKvHeads(), c.headDim(), vec);
            w.wo().matmul(att, xb, T);
            add(x, xb, T * dim);

            RmsNorm.apply(x, w.ffnNorm(), xb, T, dim, c.rmsEps());
            Matmuls.sameInput(new WeightMatrix[]{w.gate(), w.up()}, xb, new float[][]{gate, up}, T);
            Activations.siluMul(gate, up, T * hidden);
            w.down().matmul(gate, xb, T);
            add(x, xb, T * dim);
        }

        int first = allLogits ? 0 : T - 1, n = T - first;
        float[] last = new float[n * dim];
        for (int t = 0; t < n; t++) {
            RmsNorm.apply(x, (first + t) * dim, weights.finalNorm, last, t * dim, dim, c.rmsEps(), vec);
        }
        float[] logits = new float[n * c.vocabSize()];
        weights.lmHead.matmul(last, logits, n);
        return logits;
    }

    private static void add(float[] x, float[] d, int n) {
        for (int i = 0; i < n; i++) x[i] += d[i];
    }
}
