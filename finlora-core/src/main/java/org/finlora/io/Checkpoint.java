package org.finlora.io;

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
 */
public record Checkpoint(String source, String format, LlamaConfig config, Map<String, Tensor> tensors,
                         Tokenizer tokenizer, Arena arena) implements AutoCloseable {

    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new org.finlora.FinloraException(source + ": missing tensor '" + name + "'");
        return t;
    }

    @Override
    public void close() {
        if (arena != null && arena != Arena.global()) arena.close();
    }
}
