package org.finlora.model;

/**
 * The hyper-parameters of a Llama 2/3/3.1/3.2 model.
 *
 * @param dim             hidden size
 * @param hiddenDim       MLP intermediate size
 * @param nLayers         transformer blocks
 * @param nHeads          query heads
 * @param nKvHeads        key/value heads (GQA when fewer than nHeads)
 * @param headDim         per-head size (usually dim / nHeads)
 * @param vocabSize       tokens
 * @param maxSeqLen       context length the model was trained for (capped for KV caches)
 * @param rmsEps          RMSNorm epsilon
 * @param ropeTheta       RoPE base
 * @param ropeScaling     llama3 frequency scaling, or null
 * @param ropeFreqFactors per-pair frequency divisors from a GGUF {@code rope_freqs.weight}, or null
 * @param ropeInterleaved true when q/k rotate adjacent pairs (Meta, llama2.c, GGUF); false for the
 *                        HF half-split layout (pairs i, i + headDim/2)
 * @param tiedEmbeddings  lm_head shares the embedding matrix
 */
public record LlamaConfig(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int headDim,
                          int vocabSize, int maxSeqLen, float rmsEps, float ropeTheta,
                          RopeScaling ropeScaling, float[] ropeFreqFactors, boolean ropeInterleaved,
                          boolean tiedEmbeddings) {

    /** transformers' "llama3" rope_scaling. */
    public record RopeScaling(float factor, float lowFreqFactor, float highFreqFactor, int originalMaxPositions) {
    }

    public int kvDim() {
        return nKvHeads * headDim;
    }

    public int qDim() {
        return nHeads * headDim;
    }

    /** Parameters counted as HF does (embeddings, blocks, final norm, lm_head when untied). */
    public long parameterCount() {
        long attn = (long) dim * qDim() + 2L * dim * kvDim() + (long) qDim() * dim;
        long mlp = 3L * dim * hiddenDim;
        long block = attn + mlp + 2L * dim;
        long emb = (long) vocabSize * dim;
        return emb + nLayers * block + dim + (tiedEmbeddings ? 0 : emb);
    }
}
