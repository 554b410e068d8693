package org.finlora.model;

import org.finlora.tensor.WeightMatrix;

/**
 * Finds a NaN or infinite value in a model's frozen weights. Run when an output turns out NaN, to
 * tell a corrupt model file apart from a run that diverged (the advice differs).
 */
public final class NonFiniteWeights {
    private NonFiniteWeights() {
    }

    /** "model.layers.3.mlp.up_proj row 17 holds NaN" for the first non-finite weight, or null when all are finite. */
    public static String find(LlamaWeights w) {
        String hit = matrix(w.tokenEmbedding, "model.embed_tokens");
        for (int l = 0; hit == null && l < w.layers.length; l++) {
            LlamaWeights.Layer layer = w.layers[l];
            String p = "model.layers." + l + ".";
            hit = vector(layer.attnNorm(), p + "input_layernorm");
            if (hit == null) hit = vector(layer.ffnNorm(), p + "post_attention_layernorm");
            for (int m = 0; hit == null && m < LlamaWeights.LINEAR_NAMES.length; m++) {
                String name = LlamaWeights.LINEAR_NAMES[m];
                hit = matrix(layer.linear(name), p + (m < 4 ? "self_attn." : "mlp.") + name);
            }
        }
        if (hit == null) hit = vector(w.finalNorm, "model.norm");
        if (hit == null && w.lmHead != w.tokenEmbedding) hit = matrix(w.lmHead, "lm_head");
        return hit;
    }

    private static String vector(float[] v, String name) {
        for (int i = 0; i < v.length; i++) if (!Float.isFinite(v[i])) return name + " element " + i + " holds " + v[i];
        return null;
    }

    private static String matrix(WeightMatrix m, String name) {
        float[] row = new float[m.cols];
        for (int r = 0; r < m.rows; r++) {
            m.dequantizeRow(r, row, 0);
            for (float x : row) if (!Float.isFinite(x)) return name + " row " + r + " holds " + x;
        }
        return null;
    }
}
