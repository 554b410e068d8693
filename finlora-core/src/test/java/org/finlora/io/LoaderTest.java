package org.finlora.io;

import org.finlora.FinloraException;
import org.finlora.model.LlamaConfig;
import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** GgufLoader and HfFolderLoader on tiny Llama files written in the test. */
class LoaderTest {
    @TempDir
    Path tmp;

    static final int DIM = 32, HID = 64, LAYERS = 2, HEADS = 4, KV = 2, HD = 8, VOCAB = 6;

    /** HF name → shape [out, in] of every Llama tensor of the tiny model. */
    static Map<String, long[]> hfShapes(boolean tied) {
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("model.embed_tokens.weight", new long[]{VOCAB, DIM});
        for (int l = 0; l < LAYERS; l++) {
            String p = "model.layers." + l + ".";
            m.put(p + "input_layernorm.weight", new long[]{DIM});
            m.put(p + "self_attn.q_proj.weight", new long[]{HEADS * HD, DIM});
            m.put(p + "self_attn.k_proj.weight", new long[]{KV * HD, DIM});
            m.put(p + "self_attn.v_proj.weight", new long[]{KV * HD, DIM});
            m.put(p + "self_attn.o_proj.weight", new long[]{DIM, HEADS * HD});
            m.put(p + "post_attention_layernorm.weight", new long[]{DIM});
            m.put(p + "mlp.gate_proj.weight", new long[]{HID, DIM});
            m.put(p + "mlp.up_proj.weight", new long[]{HID, DIM});
            m.put(p + "mlp.down_proj.weight", new long[]{DIM, HID});
        }
        m.put("model.norm.weight", new long[]{DIM});
        if (!tied) m.put("lm_head.weight", new long[]{VOCAB, DIM});
        return m;
    }

    /** As {@link #ggufName} for Llama tensors; other names stay as they are. */
    static String ggufNameOf(String hf) {
        return hf.startsWith("model.") || hf.equals("lm_head.weight") ? ggufName(hf) : hf;
    }

    /** The GGUF name of each HF name, written out independently of the loader's table. */
    static String ggufName(String hf) {
        if (hf.equals("model.embed_tokens.weight")) return "token_embd.weight";
        if (hf.equals("model.norm.weight")) return "output_norm.weight";
        if (hf.equals("lm_head.weight")) return "output.weight";
        String[] p = hf.split("\\.");
        String part = switch (p[3] + "." + p[4]) {
            case "input_layernorm.weight" -> "attn_norm";
            case "post_attention_layernorm.weight" -> "ffn_norm";
            case "self_attn.q_proj" -> "attn_q";
            case "self_attn.k_proj" -> "attn_k";
            case "self_attn.v_proj" -> "attn_v";
            case "self_attn.o_proj" -> "attn_output";
            case "mlp.gate_proj" -> "ffn_gate";
            case "mlp.up_proj" -> "ffn_up";
            case "mlp.down_proj" -> "ffn_down";
            default -> throw new IllegalArgumentException(hf);
        };
        return "blk." + p[2] + "." + part + ".weight";
    }

    /** Distinct contents per tensor: element i of tensor number t is t + i/1000. */
    static float[] values(int t, long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = t + i / 1000f;
        return v;
    }

    static GgufWriter llamaGguf(boolean tied) {
        GgufWriter w = new GgufWriter().putString("general.architecture", "llama")
                .putU32("llama.context_length", 256).putU32("llama.embedding_length", DIM)
                .putU32("llama.block_count", LAYERS).putU32("llama.feed_forward_length", HID)
                .putU32("llama.rope.dimension_count", HD).putU32("llama.attention.head_count", HEADS)
                .putU32("llama.attention.head_count_kv", KV).putF32("llama.rope.freq_base", 500000f)
                .putF32("llama.attention.layer_norm_rms_epsilon", 1e-5f)
                .putArray("tokenizer.ggml.tokens", GgufValueType.STRING, List.of("<unk>", "<s>", "</s>", "a", "b", "c"));
        int t = 0;
        for (Map.Entry<String, long[]> e : hfShapes(tied).entrySet()) {
            w.addTensor(ggufName(e.getKey()), e.getValue(), values(t++, e.getValue()));
        }
        return w;
    }

    @Test
    void ggufLoaderMapsNamesAndConfig() throws Exception {
        Path p = tmp.resolve("tiny.gguf");
        llamaGguf(true).addTensor("rope_freqs.weight", new long[]{HD / 2}, new float[]{1, 1.5f, 8, 8}).write(p);
        try (Checkpoint ck = GgufLoader.load(p, false)) {
            LlamaConfig c = ck.config();
            assertEquals(new LlamaConfig(DIM, HID, LAYERS, HEADS, KV, HD, VOCAB, 256, 1e-5f, 500000f, null,
                    c.ropeFreqFactors(), true, true), c);
            assertArrayEquals(new float[]{1, 1.5f, 8, 8}, c.ropeFreqFactors());
            assertEquals("gguf", ck.format());
            assertNull(ck.tokenizer());
            int t = 0;
            for (Map.Entry<String, long[]> e : hfShapes(true).entrySet()) {
                Tensor x = ck.tensor(e.getKey());
                assertArrayEquals(e.getValue(), x.shape(), e.getKey());
                assertArrayEquals(values(t++, e.getValue()), Floats.toFloatArray(x), e.getKey());
            }
            assertFalse(ck.tensors().containsKey("lm_head.weight"));
        }
    }

    @Test
    void ggufLoaderUntiedQuantizedAndDefaults() throws Exception {
        // Untied output, quantized projections, no head_count_kv (defaults to head_count), no rope dims.
        Path p = tmp.resolve("q.gguf");
        GgufWriter w = new GgufWriter().putString("general.architecture", "llama")
                .putU32("llama.context_length", 64).putU32("llama.embedding_length", DIM)
                .putU32("llama.block_count", 1).putU32("llama.feed_forward_length", HID)
                .putU32("llama.attention.head_count", HEADS);
        for (Map.Entry<String, long[]> e : hfShapes(false).entrySet()) {
            if (e.getKey().contains("layers.1.")) continue;
            long[] s = e.getKey().contains("k_proj") || e.getKey().contains("v_proj") ? new long[]{HEADS * HD, DIM} : e.getValue();
            if (s.length == 2 && e.getKey().contains("_proj")) {
                long blocks = s[0] * s[1] / 32;
                boolean q8 = e.getKey().contains("mlp");
                byte[] raw = new byte[(int) (blocks * (q8 ? 34 : 18))];
                for (int i = 0; i < raw.length; i++) raw[i] = (byte) (i * 31);
                w.addTensor(ggufName(e.getKey()), q8 ? DType.Q8_0 : DType.Q4_0, s, raw);
            } else {
                w.addTensor(ggufName(e.getKey()), s, new float[(int) (s.length == 1 ? s[0] : s[0] * s[1])]);
            }
        }
        w.write(p);
        try (Checkpoint ck = GgufLoader.load(p, false)) {
            LlamaConfig c = ck.config();
            assertEquals(HEADS, c.nKvHeads());
            assertEquals(DIM / HEADS, c.headDim());
            assertEquals(10000f, c.ropeTheta());
            assertEquals(1e-5f, c.rmsEps());
            assertEquals(VOCAB, c.vocabSize(), "vocab from the embedding when there is no token list");
            assertFalse(c.tiedEmbeddings());
            assertNull(c.ropeFreqFactors());
            assertEquals(DType.Q4_0, ck.tensor("model.layers.0.self_attn.q_proj.weight").dtype());
            Tensor gate = ck.tensor("model.layers.0.mlp.gate_proj.weight");
            assertEquals(DType.Q8_0, gate.dtype());
            assertArrayEquals(new long[]{HID, DIM}, gate.shape());
            assertEquals((byte) 31, gate.data().get(ValueLayout.JAVA_BYTE, 1));
            assertArrayEquals(new long[]{VOCAB, DIM}, ck.tensor("lm_head.weight").shape());
        }
    }

    private void assertGgufError(GgufWriter w, String... fragments) {
        Path p = tmp.resolve("bad" + System.nanoTime() + ".gguf");
        w.write(p);
        var e = assertThrows(FinloraException.class, () -> GgufLoader.load(p, false));
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
    }

    @Test
    void ggufLoaderErrors() {
        assertGgufError(new GgufWriter().putString("general.architecture", "gpt2"), "unknown architecture 'gpt2'");
        assertGgufError(new GgufWriter().putU32("x", 1), "general.architecture");
        assertGgufError(llamaGguf(true).putU32("llama.attention.head_count_kv", 3), "head_count_kv");
        GgufWriter noBlocks = new GgufWriter().putString("general.architecture", "llama").putU32("llama.embedding_length", DIM);
        assertGgufError(noBlocks, "missing metadata llama.");
        GgufWriter wrongShape = new GgufWriter().putString("general.architecture", "llama")
                .putU32("llama.context_length", 256).putU32("llama.embedding_length", DIM)
                .putU32("llama.block_count", 1).putU32("llama.feed_forward_length", HID)
                .putU32("llama.attention.head_count", HEADS).putU32("llama.attention.head_count_kv", KV);
        for (Map.Entry<String, long[]> e : hfShapes(true).entrySet()) {
            if (e.getKey().contains("layers.1.")) continue;
            long[] s = e.getKey().contains("k_proj") ? new long[]{HEADS * HD, DIM} : e.getValue();
            wrongShape.addTensor(ggufName(e.getKey()), s, new float[(int) (s.length == 1 ? s[0] : s[0] * s[1])]);
        }
        assertGgufError(wrongShape, "model.layers.0.self_attn.k_proj.weight", "[32, 32]", "[16, 32]");
        assertGgufError(llamaGguf(true).addTensor("rope_freqs.weight", new long[]{3}, new float[3]), "rope_freqs.weight");
        var e = assertThrows(FinloraException.class, () -> GgufLoader.load(tmp.resolve("none.gguf"), false));
        assertTrue(e.getMessage().contains("none.gguf") && e.getMessage().contains("not found"), e.getMessage());
    }

    // ---- HF folders ---------------------------------------------------------------------------

    static String configJson(String extra) {
        return "{\"architectures\":[\"LlamaForCausalLM\"],\"model_type\":\"llama\",\"hidden_size\":" + DIM
                + ",\"intermediate_size\":" + HID + ",\"num_hidden_layers\":" + LAYERS + ",\"num_attention_heads\":" + HEADS
                + ",\"num_key_value_heads\":" + KV + ",\"vocab_size\":" + VOCAB + ",\"max_position_embeddings\":131072"
                + ",\"rms_norm_eps\":1e-05,\"rope_theta\":500000.0" + extra + "}";
    }

    static Path hfFolder(Path dir, String configExtra, boolean tied) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), configJson(configExtra));
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        int t = 0;
        for (Map.Entry<String, long[]> e : hfShapes(tied).entrySet()) w.add(e.getKey(), e.getValue(), values(t++, e.getValue()));
        w.write(dir.resolve("model.safetensors"));
        return dir;
    }

    @Test
    void hfFolderLoaderReadsConfigAndTensors() throws Exception {
        Path dir = hfFolder(tmp.resolve("m"), ",\"rope_scaling\":{\"factor\":8.0,\"low_freq_factor\":1.0,\"high_freq_factor\":4.0,"
                + "\"original_max_position_embeddings\":8192,\"rope_type\":\"llama3\"},\"tie_word_embeddings\":false,"
                + "\"torch_dtype\":\"bfloat16\",\"quantization_config\":{\"load_in_4bit\":true}", false);
        try (Checkpoint ck = HfFolderLoader.load(dir, false)) {
            assertEquals(new LlamaConfig(DIM, HID, LAYERS, HEADS, KV, HD, VOCAB, 131072, 1e-5f, 500000f,
                    new LlamaConfig.RopeScaling(8f, 1f, 4f, 8192), null, false, false), ck.config());
            assertEquals("hf", ck.format());
            assertTrue(ck.quantizationConfig().get("load_in_4bit").asBoolean());
            int t = 0;
            for (Map.Entry<String, long[]> e : hfShapes(false).entrySet()) {
                assertArrayEquals(values(t++, e.getValue()), Floats.toFloatArray(ck.tensor(e.getKey())), e.getKey());
            }
        }
    }

    @Test
    void hfFolderDefaultsShardsAndExtraTensors() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("sharded"));
        // No num_key_value_heads / head_dim / eps / theta / max positions: transformers' defaults apply.
        Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"llama\",\"hidden_size\":" + DIM
                + ",\"intermediate_size\":" + HID + ",\"num_hidden_layers\":1,\"num_attention_heads\":" + HEADS
                + ",\"vocab_size\":" + VOCAB + ",\"tie_word_embeddings\":true,\"rope_scaling\":null}");
        List<Map.Entry<String, long[]>> all = new ArrayList<>();
        for (Map.Entry<String, long[]> e : hfShapes(true).entrySet()) {
            if (e.getKey().contains("layers.1.")) continue;
            long[] s = e.getKey().contains("k_proj") || e.getKey().contains("v_proj") ? new long[]{HEADS * HD, DIM} : e.getValue();
            all.add(Map.entry(e.getKey(), s));
        }
        SafetensorsWriter a = new SafetensorsWriter(), b = new SafetensorsWriter();
        StringBuilder index = new StringBuilder("{\"metadata\":{\"total_size\":0},\"weight_map\":{");
        for (int i = 0; i < all.size(); i++) {
            var e = all.get(i);
            long n = e.getValue().length == 1 ? e.getValue()[0] : e.getValue()[0] * e.getValue()[1];
            byte[] bf = new byte[(int) (2 * n)];
            (i % 2 == 0 ? a : b).add(e.getKey(), DType.BF16, e.getValue(), bf);
            index.append(i == 0 ? "" : ",").append('"').append(e.getKey()).append("\":\"model-0000").append(i % 2 + 1).append("-of-00002.safetensors\"");
        }
        // A bitsandbytes-style side tensor stays in the map under its own name.
        a.add("model.layers.0.mlp.down_proj.weight.absmax", new long[]{4}, new float[]{1, 2, 3, 4});
        index.append(",\"model.layers.0.mlp.down_proj.weight.absmax\":\"model-00001-of-00002.safetensors\"}}");
        a.write(dir.resolve("model-00001-of-00002.safetensors"));
        b.write(dir.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(dir.resolve("model.safetensors.index.json"), index.toString());
        try (Checkpoint ck = HfFolderLoader.load(dir, false)) {
            LlamaConfig c = ck.config();
            assertEquals(HEADS, c.nKvHeads());
            assertEquals(HD, c.headDim());
            assertEquals(2048, c.maxSeqLen());
            assertEquals(1e-6f, c.rmsEps());
            assertEquals(10000f, c.ropeTheta());
            assertNull(c.ropeScaling());
            assertTrue(c.tiedEmbeddings());
            assertNull(ck.quantizationConfig());
            assertEquals(DType.BF16, ck.tensor("model.layers.0.mlp.up_proj.weight").dtype());
            assertArrayEquals(new float[]{1, 2, 3, 4}, Floats.toFloatArray(ck.tensor("model.layers.0.mlp.down_proj.weight.absmax")));
            assertEquals(all.size() + 1, ck.tensors().size());
        }
    }

    private static void assertHfError(Path dir, String... fragments) {
        var e = assertThrows(FinloraException.class, () -> HfFolderLoader.load(dir, false));
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void hfFolderErrors() throws Exception {
        Path dir = hfFolder(tmp.resolve("e"), "", true);
        Path cfg = dir.resolve("config.json");
        for (String field : List.of("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "vocab_size")) {
            Files.writeString(cfg, configJson("").replaceAll("\"" + field + "\":\\d+,", ""));
            assertHfError(dir, cfg.toString(), "missing field " + field);
        }
        Files.writeString(cfg, configJson("").replace("\"llama\"", "\"mistral\""));
        assertHfError(dir, cfg.toString(), "unknown model_type 'mistral'");
        Files.writeString(cfg, configJson("").replace("\"model_type\":\"llama\",", "").replace("LlamaForCausalLM", "GPT2LMHeadModel"));
        assertHfError(dir, "model_type");
        Files.writeString(cfg, configJson(",\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":4.0}"));
        assertHfError(dir, "rope_scaling type 'yarn'");
        Files.writeString(cfg, configJson(",\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":8.0}"));
        assertHfError(dir, "missing field rope_scaling.low_freq_factor");
        Files.writeString(cfg, configJson("").replace("\"hidden_size\":32", "\"hidden_size\":\"big\""));
        assertHfError(dir, "hidden_size", "not a positive integer");
        Files.writeString(cfg, "{\"model_type\": ");
        assertHfError(dir, cfg.toString(), "malformed JSON");
        Files.writeString(cfg, configJson(",\"tie_word_embeddings\":false"));
        assertHfError(dir, "missing tensor 'lm_head.weight'");
        Files.delete(cfg);
        assertHfError(dir, cfg.toString(), "not found");
        Path noWeights = Files.createDirectories(tmp.resolve("nw"));
        Files.writeString(noWeights.resolve("config.json"), configJson(""));
        assertHfError(noWeights, "model.safetensors");
        assertHfError(tmp.resolve("absent"), "not a directory");
    }
}
