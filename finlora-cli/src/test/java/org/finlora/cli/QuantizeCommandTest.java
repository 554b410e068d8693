package org.finlora.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.finlora.FinloraException;
import org.finlora.io.Checkpoint;
import org.finlora.io.HfFolderLoader;
import org.finlora.io.ModelLoader;
import org.finlora.kernel.Bnb4bitMatrix;
import org.finlora.kernel.Int8VectorwiseMatrix;
import org.finlora.kernel.Simd;
import org.finlora.kernel.WeightFormat;
import org.finlora.model.LlamaModel;
import org.finlora.model.LlamaWeights;
import org.finlora.model.SyntheticModels;
import org.finlora.quant.DoubleQuant;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;
import org.finlora.tensor.WeightMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** quantize → load back: the same codes/scales and logits as quantizing on load; bnb JSON; errors. */
class QuantizeCommandTest {
    private static final int[] PROMPT = {1, 17, 200, 3, 99, 42, 7, 250};

    /** Writes {@code preset} quantized to {@code spec}, loads the folder back and compares with quantize-on-load. */
    private static void roundTrip(Path dir, DType dtype, String spec) throws Exception {
        WeightFormat q = QuantizeCommand.format(spec);
        try (Checkpoint src = SyntheticModels.create("tiny", dtype, 3)) {
            QuantizeCommand.write(src, q, dir);
            LlamaWeights onLoad = LlamaWeights.load(src, q, Simd.configured());
            try (Checkpoint back = HfFolderLoader.load(dir, false)) {
                LlamaWeights loaded = LlamaWeights.load(back, null, Simd.configured());
                for (int l = 0; l < onLoad.layers.length; l++) {
                    for (String mod : LlamaWeights.LINEAR_NAMES) {
                        WeightMatrix a = onLoad.layers[l].linear(mod), b = loaded.layers[l].linear(mod);
                        String where = "layer " + l + " " + mod;
                        assertEquals(a.getClass(), b.getClass(), where);
                        if (a instanceof Bnb4bitMatrix x && b instanceof Bnb4bitMatrix y) {
                            assertArrayEquals(x.bnbCodes(), y.bnbCodes(), where);
                            assertEquals(x.blocksize, y.blocksize, where);
                            DoubleQuant.Nested nx = x.nested(), ny = y.nested();
                            assertEquals(nx == null, ny == null, where);
                            if (nx != null) {
                                assertArrayEquals(nx.codes(), ny.codes(), where);
                                assertArrayEquals(nx.absmax2(), ny.absmax2(), where);
                                assertEquals(Float.floatToIntBits(nx.offset()), Float.floatToIntBits(ny.offset()), where);
                            } else {
                                assertArrayEquals(x.blockScales(), y.blockScales(), where);
                            }
                        } else {
                            Int8VectorwiseMatrix x = (Int8VectorwiseMatrix) a, y = (Int8VectorwiseMatrix) b;
                            for (int r = 0; r < x.rows; r++) {
                                assertEquals(Float.floatToIntBits(x.scb(r)), Float.floatToIntBits(y.scb(r)), where);
                                for (int c = 0; c < x.cols; c++) assertEquals(x.code(r, c), y.code(r, c), where);
                            }
                            assertEquals(x.threshold, y.threshold, where);
                        }
                    }
                }
                assertArrayEquals(new LlamaModel(onLoad).forwardAll(PROMPT), new LlamaModel(loaded).forwardAll(PROMPT), "logits");
                // LlamaModel.load picks the bnb groups up on its own, whatever --quant is absent
                assertArrayEquals(new LlamaModel(onLoad).forwardAll(PROMPT), LlamaModel.load(back, null).forwardAll(PROMPT), "LlamaModel.load");
            }
        }
    }

    @Test
    void nf4DoubleQuantRoundTripsBitExactly(@TempDir Path dir) throws Exception {
        roundTrip(dir, DType.F32, "nf4");
    }

    @Test
    void fp4WithoutDoubleQuantFromBf16RoundTripsBitExactly(@TempDir Path dir) throws Exception {
        roundTrip(dir, DType.BF16, "fp4:blocksize=128,double-quant=false");
    }

    @Test
    void int8RoundTripsBitExactly(@TempDir Path dir) throws Exception {
        roundTrip(dir, DType.F32, "int8:threshold=4.5");
    }

    @Test
    void configCarriesTransformersQuantizationConfig(@TempDir Path dir) throws Exception {
        try (Checkpoint src = SyntheticModels.create("tiny", DType.BF16, 0)) {
            QuantizeCommand.write(src, QuantizeCommand.format("nf4"), dir);
        }
        JsonNode c = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        assertEquals("bfloat16", c.get("torch_dtype").asText());
        JsonNode q = c.get("quantization_config");
        assertEquals("bitsandbytes", q.get("quant_method").asText());
        assertTrue(q.get("load_in_4bit").asBoolean());
        assertTrue(q.get("_load_in_4bit").asBoolean());
        assertFalse(q.get("load_in_8bit").asBoolean());
        assertEquals("nf4", q.get("bnb_4bit_quant_type").asText());
        assertTrue(q.get("bnb_4bit_use_double_quant").asBoolean());
        assertEquals("bfloat16", q.get("bnb_4bit_compute_dtype").asText());
        assertEquals("uint8", q.get("bnb_4bit_quant_storage").asText());
        assertEquals(6.0, q.get("llm_int8_threshold").asDouble());
        // the quant_state JSON of one projection, as bnb's QuantState.as_dict writes it
        try (Checkpoint back = HfFolderLoader.load(dir, false)) {
            Tensor st = back.tensor("model.layers.1.mlp.down_proj.weight.quant_state.bitsandbytes__nf4");
            JsonNode s = new ObjectMapper().readTree(new String(st.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8));
            assertEquals("nf4", s.get("quant_type").asText());
            assertEquals(64, s.get("blocksize").asInt());
            assertEquals("bfloat16", s.get("dtype").asText());
            assertEquals(64, s.get("shape").get(0).asInt());
            assertEquals(160, s.get("shape").get(1).asInt());
            assertEquals(256, s.get("nested_blocksize").asInt());
            assertEquals("float32", s.get("nested_dtype").asText());
            assertEquals(DType.U8, back.tensor("model.layers.1.mlp.down_proj.weight").dtype());
            assertArrayEquals(new long[]{64 * 160 / 2, 1}, back.tensor("model.layers.1.mlp.down_proj.weight").shape());
            assertEquals(DType.BF16, back.tensor("model.embed_tokens.weight").dtype());
        }
    }

    @Test
    void corruptQuantStateNamesTheTensor(@TempDir Path dir) throws Exception {
        try (Checkpoint src = SyntheticModels.create("tiny", DType.F32, 0)) {
            QuantizeCommand.write(src, QuantizeCommand.format("nf4"), dir);
        }
        try (Checkpoint back = HfFolderLoader.load(dir, false)) {
            String key = "model.layers.0.self_attn.k_proj.weight.quant_state.bitsandbytes__nf4";
            Map<String, Tensor> bad = new HashMap<>(back.tensors());
            byte[] json = "{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"float32\", \"shape\": [32, ".getBytes(StandardCharsets.UTF_8);
            bad.put(key, new Tensor(key, DType.U8, new long[]{json.length}, MemorySegment.ofArray(json)));
            Checkpoint ck = new Checkpoint(back.source(), back.format(), back.config(), bad, null, null, back.rawConfig());
            FinloraException e = assertThrows(FinloraException.class, () -> LlamaModel.load(ck, null));
            assertTrue(e.getMessage().startsWith(key + ": not valid JSON"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            // a shape that disagrees with the config
            byte[] wrong = "{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"float32\", \"shape\": [64, 32]}".getBytes(StandardCharsets.UTF_8);
            String qkey = "model.layers.0.self_attn.q_proj.weight.quant_state.bitsandbytes__nf4";
            Map<String, Tensor> bad2 = new HashMap<>(back.tensors());
            bad2.put(qkey, new Tensor(qkey, DType.U8, new long[]{wrong.length}, MemorySegment.ofArray(wrong)));
            // q_proj: 64x64 codes fill the packed bytes exactly, so [64, 32] fails on the byte count
            Checkpoint ck2 = new Checkpoint(back.source(), back.format(), back.config(), bad2, null, null, back.rawConfig());
            FinloraException e2 = assertThrows(FinloraException.class, () -> LlamaModel.load(ck2, null));
            assertTrue(e2.getMessage().contains("q_proj.weight"), e2.getMessage());
        }
    }

    @Test
    void cliQuantizesLlama2cWithRopePermutationAndLoadsBack(@TempDir Path dir) throws Exception {
        Path stories = GenerateCommandTest.stories();
        Path out = dir.resolve("nf4");
        GenerateCommandTest.Run r = GenerateCommandTest.run("quantize", "--model", stories.toString(), "--quant", "nf4", "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("35 projections"), r.out());
        assertTrue(Files.isRegularFile(out.resolve("tokenizer.bin")));
        try (Checkpoint src = ModelLoader.load(stories.toString(), null); Checkpoint back = ModelLoader.load(out.toString(), null)) {
            assertFalse(back.config().ropeInterleaved());
            int[] ids = src.tokenizer().encode("Once upon a time there was", true);
            float[] ref = LlamaModel.load(src, "nf4").forwardAll(ids), got = LlamaModel.load(back, null).forwardAll(ids);
            float maxDiff = 0, maxRef = 0;
            for (int i = 0; i < ref.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(ref[i] - got[i]));
                maxRef = Math.max(maxRef, Math.abs(ref[i]));
            }
            // same codes in permuted rows; only float summation order (RoPE layout, double-quant mean) differs
            assertTrue(maxDiff < 1e-4f * maxRef, "max |logit diff| " + maxDiff + " of " + maxRef);
            assertArrayEquals(src.tokenizer().encode("Lily saw a dog", true), back.tokenizer().encode("Lily saw a dog", true));
        }
        // without tokenizer.bin the folder needs --tokenizer, which HF folders now accept
        Files.delete(out.resolve("tokenizer.bin"));
        FinloraException noTok = assertThrows(FinloraException.class, () -> ModelLoader.load(out.toString(), null));
        assertTrue(noTok.getMessage().contains("no tokenizer.json or tokenizer.model"), noTok.getMessage());
        try (Checkpoint withTok = ModelLoader.load(out.toString(), stories.resolveSibling("tok512.bin"));
             Checkpoint src = ModelLoader.load(stories.toString(), null)) {
            assertArrayEquals(src.tokenizer().encode("Once upon a time", true), withTok.tokenizer().encode("Once upon a time", true));
        }
        GenerateCommandTest.Run again = GenerateCommandTest.run("quantize", "--model", stories.toString(), "--quant", "nf4", "--output", out.toString());
        assertEquals(1, again.code());
        assertTrue(again.err().contains("exists and is not an empty folder"), again.err());
        GenerateCommandTest.Run rtn = GenerateCommandTest.run("quantize", "--model", stories.toString(), "--quant", "rtn4", "--output", dir.resolve("x").toString());
        assertEquals(1, rtn.code());
        assertTrue(rtn.err().startsWith("error: --quant rtn4: rtn4 has no bitsandbytes layout"), rtn.err());
        assertFalse(Files.exists(dir.resolve("x")));
    }

    @Test
    void benchQuantPrintsOneRowPerFormat() {
        Path stories = GenerateCommandTest.stories();
        GenerateCommandTest.Run r = GenerateCommandTest.run("bench", "quant", "--model", stories.toString(), "--formats", "none,q8_0,nf4,int8",
                "--prompt-tokens", "8", "--gen-tokens", "4", "--repeats", "1");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().split("\n");
        String none = null, q8 = null, nf4 = null, int8 = null;
        for (String l : lines) {
            if (l.startsWith("| none |")) none = l;
            if (l.startsWith("| q8_0 |")) q8 = l;
            if (l.startsWith("| nf4 |")) nf4 = l;
            if (l.startsWith("| int8 |")) int8 = l;
        }
        assertTrue(none != null && none.contains("| f32 | 32.000 | 1040128 | 1.000 |"), r.out());
        assertTrue(q8 != null && q8.contains("not applicable") && q8.contains("172"), r.out());
        // nf4 + double quant: 4 bits + 8/64 (u8 absmax) + 32/(64*256) (nested absmax), plus per-tensor maps and offsets
        double nf4Bits = Double.parseDouble(nf4.split("\\|")[3].strip());
        assertTrue(nf4Bits > 4.127 && nf4Bits < 4.2, nf4);
        // int8: 8 bits + one f32 SCB per row (dims 64 and 172 → 32/64 or 32/172 per weight)
        double int8Bits = Double.parseDouble(int8.split("\\|")[3].strip());
        assertTrue(int8Bits > 8 + 32.0 / 172 && int8Bits < 8.5, int8);
    }

    @Test
    void hfFolderSourceKeepsItsConfigAndTokenizer(@TempDir Path dir) throws Exception {
        Path src = Path.of("../finlora-core/src/test/resources/fixtures/tiny-llama3").toAbsolutePath().normalize();
        Path out = dir.resolve("q");
        GenerateCommandTest.Run r = GenerateCommandTest.run("quantize", "--model", src.toString(), "--quant", "nf4", "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        for (String f : new String[]{"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"}) {
            assertArrayEquals(Files.readAllBytes(src.resolve(f)), Files.readAllBytes(out.resolve(f)), f);
        }
        JsonNode c = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        JsonNode orig = new ObjectMapper().readTree(src.resolve("config.json").toFile());
        assertEquals(orig.get("bos_token_id"), c.get("bos_token_id"));
        assertEquals(orig.get("rope_scaling"), c.get("rope_scaling"));
        assertEquals("nf4", c.get("quantization_config").get("bnb_4bit_quant_type").asText());
        try (Checkpoint a = ModelLoader.load(src.toString(), null); Checkpoint b = ModelLoader.load(out.toString(), null)) {
            int[] ids = a.tokenizer().encode("Revenue rose 5%", true);
            assertArrayEquals(ids, b.tokenizer().encode("Revenue rose 5%", true));
            assertArrayEquals(LlamaModel.load(a, "nf4").forwardAll(ids), LlamaModel.load(b, null).forwardAll(ids));
        }
    }
}
