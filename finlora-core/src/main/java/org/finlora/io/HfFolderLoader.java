package org.finlora.io;

import com.fasterxml.jackson.databind.JsonNode;
import org.finlora.FinloraException;
import org.finlora.model.LlamaConfig;
import org.finlora.tensor.Tensor;
import org.finlora.tokenizer.Tokenizer;
import org.finlora.tokenizer.Tokenizers;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Loads an HF Llama folder: config.json, model.safetensors or a sharded index, tokenizer files.
 * Tensor names are kept as they are (extra tensors such as bitsandbytes' {@code .absmax},
 * {@code .SCB}, {@code .quant_map} stay in the map) and config.json is kept in
 * {@link Checkpoint#rawConfig()} so quantization_config reaches the quantized-weight factories.
 * HF checkpoints use the half-split RoPE layout (ropeInterleaved = false).
 */
public final class HfFolderLoader {
    /** Bound on every size field (dims, layers, heads, vocabulary, context): 2^24, far above any Llama. */
    static final int MAX_SIZE = 1 << 24;
    private HfFolderLoader() {
    }

    public static Checkpoint load(Path dir) {
        return load(dir, true);
    }

    /** @param withTokenizer false to skip the tokenizer (the checkpoint's tokenizer is then null) */
    public static Checkpoint load(Path dir, boolean withTokenizer) {
        if (!Files.isDirectory(dir)) throw new FinloraException(dir + ": not a directory");
        JsonNode raw = readConfigJson(dir);
        LlamaConfig cfg = config(dir.resolve("config.json"), raw);
        Arena arena = Arena.ofShared();
        try {
            Map<String, Tensor> tensors = SafetensorsFile.openModel(dir, arena);
            LlamaTensors.check(dir.toString(), cfg, tensors);
            Tokenizer tok = withTokenizer ? folderTokenizer(dir, cfg) : null;
            return new Checkpoint(dir.toString(), "hf", cfg, tensors, tok, arena, raw);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * As {@link #load(Path)}, with the tokenizer read from {@code tokenizer} when it is not null
     * (a tokenizer.json, a tokenizer.model, or a llama2.c tokenizer.bin) instead of from the folder.
     */
    public static Checkpoint load(Path dir, Path tokenizer) {
        if (tokenizer == null) return load(dir, true);
        Checkpoint ck = load(dir, false);
        try {
            return new Checkpoint(ck.source(), ck.format(), ck.config(), ck.tensors(), tokenizerFile(tokenizer, ck.config()), ck.arena(), ck.rawConfig());
        } catch (RuntimeException e) {
            ck.close();
            throw e;
        }
    }

    /**
     * The folder's HF tokenizer files, or a llama2.c {@code tokenizer.bin} when it has neither
     * tokenizer.json nor tokenizer.model (what {@code finlora quantize} writes for llama2.c sources).
     */
    private static Tokenizer folderTokenizer(Path dir, LlamaConfig cfg) {
        Path bin = dir.resolve("tokenizer.bin");
        if (!Files.isRegularFile(dir.resolve("tokenizer.json")) && !Files.isRegularFile(dir.resolve("tokenizer.model")) && Files.isRegularFile(bin)) {
            return org.finlora.tokenizer.Llama2cTokenizer.load(bin, cfg.vocabSize());
        }
        return Tokenizers.fromHfFolder(dir);
    }

    private static Tokenizer tokenizerFile(Path file, LlamaConfig cfg) {
        if (!InputFiles.exists(file)) throw new FinloraException(file + ": --tokenizer file not found");
        String n = file.getFileName().toString();
        if (n.endsWith(".bin")) return org.finlora.tokenizer.Llama2cTokenizer.load(file, cfg.vocabSize());
        if (n.endsWith(".json")) return Tokenizers.fromTokenizerJson(file);
        return Tokenizers.fromTokenizerModel(file);
    }

    /** The folder's config.json as a tree. */
    public static JsonNode readConfigJson(Path dir) {
        Path file = dir.resolve("config.json");
        if (!InputFiles.exists(file)) throw new FinloraException(file + ": file not found (is " + dir + " an HF model folder?)");
        JsonNode n = Json.read(file, InputFiles.SMALL_JSON, "model config");
        if (!n.isObject()) throw new FinloraException(file + ": not a JSON object");
        return n;
    }

    /** LlamaConfig from config.json; defaults are those of transformers' LlamaConfig. */
    public static LlamaConfig config(Path file, JsonNode c) {
        JsonNode mt = c.get("model_type");
        if (mt != null && !mt.isNull()) {
            if (!"llama".equals(mt.asText())) throw new FinloraException(file + ": unknown model_type " + SafetensorsFile.quote(mt.isTextual() ? mt.asText() : mt.toString()) + " (only llama is supported)");
        } else {
            JsonNode archs = c.get("architectures");
            boolean llama = false;
            if (archs != null && archs.isArray()) for (JsonNode a : archs) llama |= "LlamaForCausalLM".equals(a.asText());
            if (!llama) throw new FinloraException(file + ": missing field model_type (and architectures does not list LlamaForCausalLM)");
        }
        int dim = intField(file, c, "hidden_size", -1);
        int hidden = intField(file, c, "intermediate_size", -1);
        int layers = intField(file, c, "num_hidden_layers", -1);
        int heads = intField(file, c, "num_attention_heads", -1);
        int kvHeads = intField(file, c, "num_key_value_heads", heads);
        if (!has(c, "head_dim") && dim % heads != 0) {
            throw new FinloraException(file + ": hidden_size " + dim + " is not divisible by num_attention_heads " + heads);
        }
        int headDim = intField(file, c, "head_dim", dim / Math.max(1, heads));
        int vocab = intField(file, c, "vocab_size", -1);
        int maxPos = intField(file, c, "max_position_embeddings", 2048);
        if (maxPos < 2) throw new FinloraException(file + ": max_position_embeddings " + maxPos + " leaves no token to predict (at least 2)");
        if (heads % kvHeads != 0) throw new FinloraException(file + ": num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kvHeads);
        if ((long) heads * headDim > MAX_SIZE) throw new FinloraException(file + ": num_attention_heads " + heads + " x head_dim " + headDim + " is larger than any model");
        if (headDim % 2 != 0) throw new FinloraException(file + ": head_dim " + headDim + " is odd (RoPE needs pairs)");
        float eps = floatField(file, c, "rms_norm_eps", 1e-6f);
        float theta = floatField(file, c, "rope_theta", 10000f);
        JsonNode tiedNode = c.get("tie_word_embeddings");
        if (tiedNode != null && !tiedNode.isNull() && !tiedNode.isBoolean()) {
            throw new FinloraException(file + ": field tie_word_embeddings = " + SafetensorsFile.quote(tiedNode.toString()) + " is not true or false");
        }
        boolean tied = tiedNode != null && tiedNode.asBoolean(false);
        return new LlamaConfig(dim, hidden, layers, heads, kvHeads, headDim, vocab, maxPos, eps, theta,
                ropeScaling(file, c.get("rope_scaling")), null, false, tied);
    }

    private static LlamaConfig.RopeScaling ropeScaling(Path file, JsonNode rs) {
        if (rs == null || rs.isNull()) return null;
        if (!rs.isObject()) throw new FinloraException(file + ": rope_scaling is not an object");
        JsonNode t = rs.has("rope_type") ? rs.get("rope_type") : rs.get("type");
        String type = t == null || t.isNull() ? "default" : t.asText();
        if (type.equals("default")) return null;
        if (!type.equals("llama3")) throw new FinloraException(file + ": rope_scaling type " + SafetensorsFile.quote(type) + " is not supported (only llama3)");
        return new LlamaConfig.RopeScaling(floatField(file, rs, "factor", -1f, "rope_scaling.factor"),
                floatField(file, rs, "low_freq_factor", -1f, "rope_scaling.low_freq_factor"),
                floatField(file, rs, "high_freq_factor", -1f, "rope_scaling.high_freq_factor"),
                intField(file, rs, "original_max_position_embeddings", -1, "rope_scaling.original_max_position_embeddings"));
    }

    private static boolean has(JsonNode c, String field) {
        return c.has(field) && !c.get(field).isNull();
    }

    private static int intField(Path file, JsonNode c, String field, int def) {
        return intField(file, c, field, def, field);
    }

    /** A positive integer field; {@code def} < 0 makes it required. */
    private static int intField(Path file, JsonNode c, String field, int def, String label) {
        if (!has(c, field)) {
            if (def < 0) throw new FinloraException(file + ": missing field " + label);
            return def;
        }
        JsonNode v = c.get(field);
        if (!v.canConvertToInt() || !v.isIntegralNumber() || v.intValue() <= 0) {
            throw new FinloraException(file + ": field " + label + " = " + SafetensorsFile.quote(v.toString()) + " is not a positive integer");
        }
        if (v.intValue() > MAX_SIZE) throw new FinloraException(file + ": field " + label + " = " + v + " is larger than any model (at most " + MAX_SIZE + ")");
        return v.intValue();
    }

    private static float floatField(Path file, JsonNode c, String field, float def) {
        return floatField(file, c, field, def, field);
    }

    private static float floatField(Path file, JsonNode c, String field, float def, String label) {
        if (!has(c, field)) {
            if (def < 0) throw new FinloraException(file + ": missing field " + label);
            return def;
        }
        JsonNode v = c.get(field);
        if (!v.isNumber() || !Float.isFinite(v.floatValue()) || v.floatValue() <= 0) {
            throw new FinloraException(file + ": field " + label + " = " + SafetensorsFile.quote(v.toString()) + " is not a positive number");
        }
        return v.floatValue();
    }
}
