package org.finlora.lora;

import org.finlora.model.LlamaWeights;
import org.finlora.tensor.WeightMatrix;

/**
 * Puts a LoRA adapter on a model's frozen weights for inference: each targeted projection becomes a
 * {@link LoraWeightMatrix} over the shared base matrix. The base is not copied, so one quantized base
 * serves many adapters.
 */
public final class AdaptedWeights {
    private AdaptedWeights() {
    }

    public static LlamaWeights with(LlamaWeights base, LoraAdapter adapter) {
        if (adapter.config.useDora()) {
            throw new org.finlora.FinloraException("DoRA adapters are not supported for inference in this build");
        }
        if (adapter.nLayers != base.layers.length) {
            throw new org.finlora.FinloraException("adapter has " + adapter.nLayers + " layers, the model has " + base.layers.length);
        }
        LlamaWeights.Layer[] layers = new LlamaWeights.Layer[base.layers.length];
        for (int l = 0; l < layers.length; l++) {
            LlamaWeights.Layer w = base.layers[l];
            WeightMatrix[] m = new WeightMatrix[7];
            for (int i = 0; i < 7; i++) {
                String name = LlamaWeights.LINEAR_NAMES[i];
                WeightMatrix bm = w.linear(name);
                m[i] = adapter.config.targets(name)
                        ? new LoraWeightMatrix(bm, adapter.a(l, i), adapter.b(l, i), adapter.config.rank(), adapter.config.scale())
                        : bm;
            }
            layers[l] = new LlamaWeights.Layer(w.attnNorm(), m[0], m[1], m[2], m[3], w.ffnNorm(), m[4], m[5], m[6]);
        }
        return new LlamaWeights(base.config, base.tokenEmbedding, layers, base.finalNorm, base.lmHead, base.simd);
    }
}
