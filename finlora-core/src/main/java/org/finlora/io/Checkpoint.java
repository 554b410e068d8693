package org.finlora.io;

import com.fasterxml.jackson.databind.JsonNode;
import org.finlora.model.LlamaConfig;
import org.finlora.tensor.Tensor;
import org.finlora.tokenizer.Tokenizer;

import java.lang.foreign.Arena;
import java.util.Map;

/**
 * A model as loaded from any source format: its config, its tensors under HF names
 * ({@code model.embed_tokens.weight}, {@code model.layers.N.self_attn.q_proj.weight}, ...,
 * {@code model.norm.weight}, {@code lm_head.weight} unless tied) in [out, in] orientation, and its
 * tokenizer. Tensor bytes are slices of memory-mapped files owned by {@code arena}.
 *
 * @param rawConfig the source's config.json as read (HF folders; carries e.g. quantization_config),
 *                  or null for formats without one
 */
public record Checkpoint(String source, String format, LlamaConfig config, Map<String, Tensor> tensors,
                         Tokenizer tokenizer, Arena arena, JsonNode rawConfig) implements AutoCloseable {

    public Checkpoint {
        // every id the tokenizer can produce indexes the embedding: a larger tokenizer is a mismatch, not a model
        if (tokenizer != null && config != null && tokenizer.vocabSize() > config.vocabSize()) {
            throw new org.finlora.FinloraException(source + ": the tokenizer has " + tokenizer.vocabSize() + " tokens but the model's vocabulary has "
                    + config.vocabSize() + " (wrong tokenizer for this model?)");
        }
    }

    public Checkpoint(String source, String format, LlamaConfig config, Map<String, Tensor> tensors,
                      Tokenizer tokenizer, Arena arena) {
        this(source, format, config, tensors, tokenizer, arena, null);
    }

    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new org.finlora.FinloraException(source + ": missing tensor '" + name + "'");
        return t;
    }

    /** The {@code quantization_config} object of an HF config.json, or null. */
    public JsonNode quantizationConfig() {
        if (rawConfig == null) return null;
        JsonNode q = rawConfig.get("quantization_config");
        return q == null || q.isNull() ? null : q;
    }

    @Override
    public void close() {
        if (arena != null && arena != Arena.global()) arena.close();
    }
}
