package org.finlora.train;

import org.finlora.kernel.Simd;
import org.finlora.model.LlamaConfig;
import org.finlora.model.LlamaWeights;

import java.util.Random;

/** A tiny random Llama (dense f32 test weights) for gradient checks and overfitting. */
final class TinyLlama {
    private TinyLlama() {
    }

    static LlamaConfig config(boolean interleaved) {
        return new LlamaConfig(16, 24, 2, 4, 2, 4, 37, 64, 1e-5f, 10000f, null, null, interleaved, false);
    }

    static LlamaWeights weights(LlamaConfig c, long seed) {
        Random rng = new Random(seed);
        LlamaWeights.Layer[] layers = new LlamaWeights.Layer[c.nLayers()];
        float s = 0.3f;
        for (int l = 0; l < c.nLayers(); l++) {
            layers[l] = new LlamaWeights.Layer(norm(rng, c.dim()),
                    DenseTestMatrix.random(c.qDim(), c.dim(), rng, s),
                    DenseTestMatrix.random(c.kvDim(), c.dim(), rng, s),
                    DenseTestMatrix.random(c.kvDim(), c.dim(), rng, s),
                    DenseTestMatrix.random(c.dim(), c.qDim(), rng, s),
                    norm(rng, c.dim()),
                    DenseTestMatrix.random(c.hiddenDim(), c.dim(), rng, s),
                    DenseTestMatrix.random(c.hiddenDim(), c.dim(), rng, s),
                    DenseTestMatrix.random(c.dim(), c.hiddenDim(), rng, s));
        }
        var emb = DenseTestMatrix.random(c.vocabSize(), c.dim(), rng, 1f);
        var head = DenseTestMatrix.random(c.vocabSize(), c.dim(), rng, 1f);   // logits large enough to memorize
        return new LlamaWeights(c, emb, layers, norm(rng, c.dim()), head, Simd.configured());
    }

    private static float[] norm(Random rng, int n) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) w[i] = 1f + (float) rng.nextGaussian() * 0.1f;
        return w;
    }
}
