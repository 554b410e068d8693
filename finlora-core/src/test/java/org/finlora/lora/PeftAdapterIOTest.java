package org.finlora.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.finlora.FinloraException;
import org.finlora.io.SafetensorsFile;
import org.finlora.model.LlamaConfig;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class PeftAdapterIOTest {
    static final LlamaConfig MODEL = new LlamaConfig(16, 24, 2, 4, 2, 4, 37, 64, 1e-5f, 10000f, null, null, false, false);

    private static LoraAdapter randomAdapter(LoraConfig lc) {
        LoraAdapter ad = LoraAdapter.init(lc, MODEL, 3);
        Random rng = new Random(4);
        for (int l = 0; l < MODEL.nLayers(); l++)
            for (int m = 0; m < 7; m++) {
                float[] b = ad.b(l, m);
                if (b != null) for (int i = 0; i < b.length; i++) b[i] = (float) rng.nextGaussian();
            }
        return ad;
    }

    @Test
    void roundTripKeepsEveryValueAndField(@TempDir Path dir) throws Exception {
        LoraConfig lc = new LoraConfig(4, 32f, 0.1f, List.of("q_proj", "v_proj", "k_proj", "down_proj"), false, false, "default",
                "meta-llama/Llama-3.1-8B-Instruct");
        LoraAdapter ad = randomAdapter(lc);
        PeftAdapterIO.save(ad, dir);
        LoraAdapter back = PeftAdapterIO.load(dir, MODEL);
        assertEquals(lc, back.config);
        List<float[]> t1 = ad.tensors(), t2 = back.tensors();
        assertEquals(t1.size(), t2.size());
        for (int i = 0; i < t1.size(); i++) assertArrayEquals(t1.get(i), t2.get(i), 0f);
        // the file holds PEFT names and shapes, F32, metadata format=pt
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile st = SafetensorsFile.open(dir.resolve("adapter_model.safetensors"), arena);
            assertEquals("pt", st.metadata().get("format"));
            assertEquals(16, st.tensors().size());
            Tensor kB = st.tensors().get("base_model.model.model.layers.1.self_attn.k_proj.lora_B.weight");
            assertEquals(DType.F32, kB.dtype());
            assertArrayEquals(new long[]{8, 4}, kB.shape());
            assertArrayEquals(new long[]{4, 16}, st.tensors().get("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").shape());
            assertArrayEquals(new long[]{4, 24}, st.tensors().get("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight").shape());
            assertArrayEquals(new long[]{16, 4}, st.tensors().get("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight").shape());
        }
        // no temp files left behind: config, weights and the manifest written last
        try (var files = Files.list(dir)) {
            assertEquals(java.util.Set.of(PeftAdapterIO.CONFIG_FILE, PeftAdapterIO.WEIGHTS_FILE, PeftAdapterIO.MANIFEST_FILE),
                    files.map(p -> p.getFileName().toString()).collect(java.util.stream.Collectors.toSet()));
        }
    }

    @Test
    void configHasPeftsFieldsInPeftsFormat() throws Exception {
        LoraConfig lc = new LoraConfig(4, 32f, 0.1f, List.of("q_proj", "v_proj", "k_proj"), false, false, "default",
                "meta-llama/Llama-3.1-8B-Instruct");
        String json = PeftAdapterIO.configJson(lc);
        assertTrue(json.startsWith("{\n  \"alpha_pattern\": {},\n  \"auto_mapping\": null,\n  \"base_model_name_or_path\": \"meta-llama/Llama-3.1-8B-Instruct\",\n"), json);
        assertTrue(json.contains("  \"target_modules\": [\n    \"q_proj\",\n    \"v_proj\",\n    \"k_proj\"\n  ],\n"), json);
        assertTrue(json.endsWith("  \"use_rslora\": false\n}"), json);
        JsonNode root = new ObjectMapper().readTree(json);
        List<String> keys = new ArrayList<>();
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) keys.add(it.next());
        assertEquals(List.of("alpha_pattern", "auto_mapping", "base_model_name_or_path", "bias", "corda_config", "eva_config",
                "exclude_modules", "fan_in_fan_out", "inference_mode", "init_lora_weights", "layer_replication", "layers_pattern",
                "layers_to_transform", "loftq_config", "lora_alpha", "lora_bias", "lora_dropout", "megatron_config", "megatron_core",
                "modules_to_save", "peft_type", "r", "rank_pattern", "revision", "target_modules", "task_type",
                "trainable_token_indices", "use_dora", "use_rslora"), keys);
        assertEquals(32, root.get("lora_alpha").asInt());
        assertTrue(root.get("lora_alpha").isIntegralNumber());
        assertEquals("0.1", root.get("lora_dropout").asText());
        assertEquals("LORA", root.get("peft_type").asText());
        assertEquals("CAUSAL_LM", root.get("task_type").asText());
        assertTrue(root.get("init_lora_weights").asBoolean());
        assertTrue(root.get("loftq_config").isObject() && root.get("loftq_config").isEmpty());
        assertTrue(root.get("revision").isNull());
    }

    @Test
    void readsNewerPeftConfigsIgnoringUnknownKeys(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("adapter_config.json"), """
                {"peft_type": "LORA", "r": 8, "lora_alpha": 16, "lora_dropout": 0.05, "use_rslora": true,
                 "target_modules": ["v_proj", "q_proj"], "peft_version": "0.17.1", "target_parameters": null,
                 "use_qalora": false, "qalora_group_size": 16, "ensure_weight_tying": false, "task_type": "CAUSAL_LM",
                 "rank_pattern": {}, "alpha_pattern": {}, "bias": "none", "init_lora_weights": true}
                """);
        LoraConfig c = PeftAdapterIO.readConfig(dir);
        assertEquals(8, c.rank());
        assertEquals(16f, c.alpha());
        assertEquals(0.05f, c.dropout());
        assertTrue(c.useRslora());
        assertEquals((float) (16 / Math.sqrt(8)), c.scale());
        assertEquals(List.of("v_proj", "q_proj"), c.targetModules());
    }

    @Test
    void rejectsBadConfigsAndMismatchedShapes(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("adapter_config.json");
        Files.writeString(cfg, "{\"r\": 0, \"lora_alpha\": 16, \"target_modules\": [\"q_proj\"]}");
        assertTrue(assertThrows(FinloraException.class, () -> PeftAdapterIO.readConfig(dir)).getMessage().contains("'r'"));
        Files.writeString(cfg, "{\"r\": 4, \"target_modules\": [\"q_proj\"]}");
        assertTrue(assertThrows(FinloraException.class, () -> PeftAdapterIO.readConfig(dir)).getMessage().contains("'lora_alpha'"));
        Files.writeString(cfg, "{\"r\": 4, \"lora_alpha\": 16, \"target_modules\": [\"q_proj\", \"lm_head\"]}");
        assertTrue(assertThrows(FinloraException.class, () -> PeftAdapterIO.readConfig(dir)).getMessage().contains("lm_head"));
        Files.writeString(cfg, "{\"r\": 4, \"lora_alpha\": 16}");
        assertTrue(assertThrows(FinloraException.class, () -> PeftAdapterIO.readConfig(dir)).getMessage().contains("'target_modules'"));

        // an adapter saved for a model with a wider MLP does not load into MODEL
        LlamaConfig wider = new LlamaConfig(16, 32, 2, 4, 2, 4, 37, 64, 1e-5f, 10000f, null, null, false, false);
        LoraConfig lc = new LoraConfig(2, 4f, 0f, List.of("up_proj"), false, false, "default", null);
        PeftAdapterIO.save(LoraAdapter.init(lc, wider, 1), dir);
        FinloraException e = assertThrows(FinloraException.class, () -> PeftAdapterIO.load(dir, MODEL));
        assertTrue(e.getMessage().contains("base_model.model.model.layers.0.mlp.up_proj.lora_B.weight"), e.getMessage());
        assertTrue(e.getMessage().contains("[32, 2]") && e.getMessage().contains("[24, 2]"), e.getMessage());
        // fewer layers in the model than in the file
        LlamaConfig oneLayer = new LlamaConfig(16, 32, 1, 4, 2, 4, 37, 64, 1e-5f, 10000f, null, null, false, false);
        e = assertThrows(FinloraException.class, () -> PeftAdapterIO.load(dir, oneLayer));
        assertTrue(e.getMessage().contains("layers.1."), e.getMessage());
    }

    @Test
    void initIsPeftsKaimingUniformAndZeroB() {
        LoraAdapter ad = LoraAdapter.init(LoraConfig.of(8, 16f, 0f), MODEL, 42);
        float[] a = ad.a(0, "down_proj");   // in = 24
        double bound = 1 / Math.sqrt(24), max = 0, mean = 0;
        for (float x : a) {
            max = Math.max(max, Math.abs(x));
            mean += x;
        }
        assertTrue(max <= bound && max > 0.8 * bound, "max |A| " + max + " vs bound " + bound);
        assertEquals(0, mean / a.length, 0.05);
        for (float[] t : ad.tensors()) if (t.length == 0) fail();
        for (int l = 0; l < 2; l++) for (int m = 0; m < 7; m++) for (float x : ad.b(l, m)) assertEquals(0f, x);
        assertArrayEquals(a, LoraAdapter.init(LoraConfig.of(8, 16f, 0f), MODEL, 42).a(0, "down_proj"));
        assertFalse(java.util.Arrays.equals(a, LoraAdapter.init(LoraConfig.of(8, 16f, 0f), MODEL, 43).a(0, "down_proj")));
        assertEquals(2f, LoraConfig.of(8, 16f, 0f).scale());
        assertEquals("base_model.model.model.layers.3.mlp.gate_proj.lora_B.weight", LoraAdapter.peftName(3, 4, "lora_B"));
    }
}
