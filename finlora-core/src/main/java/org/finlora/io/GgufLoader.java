package org.finlora.io;

import org.finlora.FinloraException;
import org.finlora.model.LlamaConfig;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;
import org.finlora.tokenizer.Tokenizer;
import org.finlora.tokenizer.Tokenizers;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads a llama.cpp GGUF Llama model: config from the {@code llama.*} keys, tensors renamed to HF
 * names (shapes already [out, in]), q/k rows left in GGUF's adjacent-pair RoPE order
 * (ropeInterleaved), llama3 frequency scaling from {@code rope_freqs.weight}, tokenizer from the
 * {@code tokenizer.ggml.*} keys.
 */
public final class GgufLoader {
    private static final Pattern BLOCK = Pattern.compile("blk\\.(\\d+)\\.([a-z_]+)\\.(weight|bias)");
    private static final Map<String, String> BLOCK_NAMES = Map.of(
            "attn_q", "self_attn.q_proj", "attn_k", "self_attn.k_proj", "attn_v", "self_attn.v_proj",
            "attn_output", "self_attn.o_proj", "ffn_gate", "mlp.gate_proj", "ffn_up", "mlp.up_proj",
            "ffn_down", "mlp.down_proj", "attn_norm", "input_layernorm", "ffn_norm", "post_attention_layernorm");

    private GgufLoader() {
    }

    public static Checkpoint load(Path gguf) {
        return load(gguf, true);
    }

    /**
     * @param withTokenizer false to skip the tokenizer (commands that only touch weights, tests);
     *                      the checkpoint's tokenizer is then null
     */
    public static Checkpoint load(Path gguf, boolean withTokenizer) {
        Arena arena = Arena.ofShared();
        try {
            GgufFile file = GgufFile.open(gguf, arena);
            String source = gguf.toString();
            Map<String, Object> meta = file.metadata();
            Object arch = meta.get("general.architecture");
            if (arch == null) throw new FinloraException(source + ": missing metadata general.architecture");
            if (!"llama".equals(arch)) throw new FinloraException(source + ": unknown architecture " + SafetensorsFile.quote(String.valueOf(arch)) + " (only llama is supported)");
            Map<String, Tensor> tensors = hfTensors(file.tensors());
            LlamaConfig cfg = config(source, meta, file.tensors());
            LlamaTensors.check(source, cfg, tensors);
            Tokenizer tok = withTokenizer ? Tokenizers.fromGgufMetadata(meta, source) : null;
            return new Checkpoint(source, "gguf", cfg, tensors, tok, arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** GGUF tensor names → HF names; names with no HF counterpart (rope_freqs.weight, ...) are kept as they are. */
    static Map<String, Tensor> hfTensors(Map<String, Tensor> gguf) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Tensor t : gguf.values()) {
            String hf = hfName(t.name());
            out.put(hf, new Tensor(hf, t.dtype(), t.shape(), t.data()));
        }
        return out;
    }

    static String hfName(String g) {
        switch (g) {
            case "token_embd.weight":
                return "model.embed_tokens.weight";
            case "output_norm.weight":
                return "model.norm.weight";
            case "output.weight":
                return "lm_head.weight";
            default:
        }
        Matcher m = BLOCK.matcher(g);
        if (m.matches()) {
            String part = BLOCK_NAMES.get(m.group(2));
            if (part != null) return "model.layers." + m.group(1) + "." + part + "." + m.group(3);
        }
        return g;
    }

    static LlamaConfig config(String source, Map<String, Object> meta, Map<String, Tensor> tensors) {
        int dim = intKey(source, meta, "llama.embedding_length", -1);
        int hidden = intKey(source, meta, "llama.feed_forward_length", -1);
        int layers = intKey(source, meta, "llama.block_count", -1);
        int heads = intKey(source, meta, "llama.attention.head_count", -1);
        int kvHeads = intKey(source, meta, "llama.attention.head_count_kv", heads);
        int ctx = intKey(source, meta, "llama.context_length", -1);
        if (ctx < 2) throw new FinloraException(source + ": metadata llama.context_length = " + ctx + " leaves no token to predict (at least 2)");
        int headDim;
        if (meta.containsKey("llama.attention.key_length")) headDim = intKey(source, meta, "llama.attention.key_length", -1);
        else if (meta.containsKey("llama.rope.dimension_count")) headDim = intKey(source, meta, "llama.rope.dimension_count", -1);
        else {
            if (dim % heads != 0) throw new FinloraException(source + ": llama.embedding_length " + dim + " is not divisible by head_count " + heads);
            headDim = dim / heads;
        }
        if (heads % kvHeads != 0) throw new FinloraException(source + ": llama.attention.head_count " + heads + " is not a multiple of head_count_kv " + kvHeads);
        if (headDim % 2 != 0) throw new FinloraException(source + ": head dimension " + headDim + " is odd (RoPE needs pairs)");
        if ((long) heads * headDim > HfFolderLoader.MAX_SIZE) throw new FinloraException(source + ": head_count " + heads + " x head dimension " + headDim + " is larger than any model");
        float eps = floatKey(source, meta, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
        float theta = floatKey(source, meta, "llama.rope.freq_base", 10000f);

        Tensor emb = tensors.get("token_embd.weight");
        if (emb == null) throw new FinloraException(source + ": missing tensor 'token_embd.weight'");
        int vocab;
        if (meta.containsKey("llama.vocab_size")) vocab = intKey(source, meta, "llama.vocab_size", -1);
        else if (meta.get("tokenizer.ggml.tokens") instanceof List<?> toks) vocab = toks.size();
        else vocab = emb.rows();
        if (emb.shape().length != 2 || emb.shape()[0] != vocab) {
            throw new FinloraException(source + ": token_embd.weight has " + (emb.shape().length == 2 ? emb.shape()[0] + " rows" : "shape " + java.util.Arrays.toString(emb.shape()))
                    + " but the vocabulary has " + vocab + " tokens");
        }

        float[] freqFactors = null;
        Tensor rf = tensors.get("rope_freqs.weight");
        if (rf != null) {
            if (rf.elementCount() != headDim / 2 || !rf.dtype().isFloat()) {
                throw new FinloraException(source + ": rope_freqs.weight has " + rf.elementCount() + " " + rf.dtype()
                        + " values, expected " + headDim / 2 + " floats (head dim / 2)");
            }
            freqFactors = Floats.toFloatArray(rf);
        }
        boolean tied = !tensors.containsKey("output.weight");
        return new LlamaConfig(dim, hidden, layers, heads, kvHeads, headDim, vocab, ctx, eps, theta, null, freqFactors,
                true, tied);
    }

    /** An integer key (or a per-layer array whose entries are all equal); {@code def} < 0 means required. */
    static int intKey(String source, Map<String, Object> meta, String key, int def) {
        Object v = meta.get(key);
        if (v == null) {
            if (def < 0) throw new FinloraException(source + ": missing metadata " + key);
            return def;
        }
        if (v instanceof List<?> list && !list.isEmpty() && list.stream().distinct().count() == 1) v = list.getFirst();
        if (v instanceof List<?>) throw new FinloraException(source + ": metadata " + key + " varies per layer, which Llama does not support");
        if (!(v instanceof Long l)) throw new FinloraException(source + ": metadata " + key + " = " + abbreviate(v) + " is not an integer");
        if (l <= 0 || l > HfFolderLoader.MAX_SIZE) throw new FinloraException(source + ": metadata " + key + " = " + l + " is out of range (1 to " + HfFolderLoader.MAX_SIZE + ")");
        return (int) (long) l;
    }

    static float floatKey(String source, Map<String, Object> meta, String key, float def) {
        Object v = meta.get(key);
        if (v == null) return def;
        if (v instanceof Float || v instanceof Double || v instanceof Long) {
            float f = ((Number) v).floatValue();
            if (!Float.isFinite(f) || f <= 0) throw new FinloraException(source + ": metadata " + key + " = " + v + " is not a positive number");
            return f;
        }
        throw new FinloraException(source + ": metadata " + key + " = " + abbreviate(v) + " is not a number");
    }

    private static String abbreviate(Object v) {
        String s = SafetensorsFile.quote(String.valueOf(v));
        return s.length() > 60 ? s.substring(0, 60) + "...'" : s;
    }
}
