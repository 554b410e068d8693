package org.finlora.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finlora.FinloraException;
import org.finlora.model.LlamaConfig;

/**
 * The config.json of a model folder we write (merge, quantize): the source's own HF config when it
 * has one, else one built from its LlamaConfig as transformers writes LlamaForCausalLM configs. The
 * caller adds torch_dtype and, for quantized folders, quantization_config.
 */
public final class HfConfigJson {
    private HfConfigJson() {
    }

    public static ObjectNode of(Checkpoint ck) {
        if (ck.rawConfig() instanceof ObjectNode raw) {
            ObjectNode n = raw.deepCopy();
            n.remove("quantization_config");
            return n;
        }
        LlamaConfig c = ck.config();
        if (c.ropeFreqFactors() != null && c.ropeScaling() == null) {
            throw new FinloraException(ck.source() + ": per-frequency RoPE factors (GGUF rope_freqs) have no HF config.json form");
        }
        ObjectNode n = new ObjectMapper().createObjectNode();
        n.putArray("architectures").add("LlamaForCausalLM");
        n.put("model_type", "llama");
        n.put("hidden_size", c.dim());
        n.put("intermediate_size", c.hiddenDim());
        n.put("num_hidden_layers", c.nLayers());
        n.put("num_attention_heads", c.nHeads());
        n.put("num_key_value_heads", c.nKvHeads());
        n.put("head_dim", c.headDim());
        n.put("vocab_size", c.vocabSize());
        n.put("max_position_embeddings", c.maxSeqLen());
        n.put("rms_norm_eps", c.rmsEps());
        n.put("rope_theta", c.ropeTheta());
        n.put("tie_word_embeddings", c.tiedEmbeddings());
        n.put("hidden_act", "silu");
        n.put("attention_bias", false);
        n.put("mlp_bias", false);
        if (c.ropeScaling() != null) {
            ObjectNode s = n.putObject("rope_scaling");
            s.put("rope_type", "llama3");
            s.put("factor", c.ropeScaling().factor());
            s.put("low_freq_factor", c.ropeScaling().lowFreqFactor());
            s.put("high_freq_factor", c.ropeScaling().highFreqFactor());
            s.put("original_max_position_embeddings", c.ropeScaling().originalMaxPositions());
        }
        return n;
    }
}
