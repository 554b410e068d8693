package org.finlora.io;

import com.fasterxml.jackson.databind.JsonNode;
import org.finlora.model.LlamaConfig;
import org.finlora.model.LlamaModel;
import org.finlora.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The tiny Llama 3 HF fixture converted to GGUF the way llama.cpp's converter does (q/k rows permuted
 * to adjacent RoPE pairs, llama3 scaling as rope_freqs.weight divisors, GGUF tensor names) must give
 * the same logits through GgufLoader as the HF folder gives through HfFolderLoader.
 */
class GgufConversionTest {
    @TempDir
    Path tmp;

    static Path fixture() throws Exception {
        var url = GgufConversionTest.class.getResource("/fixtures/tiny-llama3/config.json");
        assertNotNull(url, "tiny-llama3 fixture missing from test resources");
        return Path.of(url.toURI()).getParent();
    }

    /** HF half-split rows back to Meta/GGUF adjacent pairs: GGUF row h·hd+2i+c = HF row h·hd+c·hd/2+i. */
    static MemorySegment toInterleaved(Tensor t, int heads, int headDim) {
        long rowBytes = t.data().byteSize() / t.shape()[0];
        MemorySegment out = MemorySegment.ofArray(new byte[(int) t.data().byteSize()]);
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < headDim / 2; i++) {
                for (int c = 0; c < 2; c++) {
                    long src = (long) h * headDim + (long) c * headDim / 2 + i;
                    long dst = (long) h * headDim + 2L * i + c;
                    MemorySegment.copy(t.data(), src * rowBytes, out, dst * rowBytes, rowBytes);
                }
            }
        }
        return out;
    }

    /** llama.cpp's rope_freqs: 1, factor, or 1/((1−s)/factor + s) per pair (fact sheet §6). */
    static float[] ropeFreqs(LlamaConfig c) {
        LlamaConfig.RopeScaling rs = c.ropeScaling();
        float[] f = new float[c.headDim() / 2];
        double lowWl = rs.originalMaxPositions() / rs.lowFreqFactor(), highWl = rs.originalMaxPositions() / rs.highFreqFactor();
        for (int i = 0; i < f.length; i++) {
            double inv = 1.0 / Math.pow(c.ropeTheta(), 2.0 * i / c.headDim());
            double wl = 2 * Math.PI / inv;
            if (wl < highWl) f[i] = 1;
            else if (wl > lowWl) f[i] = rs.factor();
            else {
                double s = (rs.originalMaxPositions() / wl - rs.lowFreqFactor()) / (rs.highFreqFactor() - rs.lowFreqFactor());
                f[i] = (float) (1 / ((1 - s) / rs.factor() + s));
            }
        }
        return f;
    }

    /** tokenizer.ggml.* as llama.cpp's converter writes them for a byte-level BPE (Llama 3) tokenizer.json. */
    static void putTokenizer(GgufWriter w) throws Exception {
        JsonNode tj = Json.MAPPER.readTree(Files.readString(fixture().resolve("tokenizer.json")));
        JsonNode vocab = tj.get("model").get("vocab");
        int n = vocab.size() + tj.get("added_tokens").size();
        String[] tokens = new String[n];
        long[] types = new long[n];
        vocab.fields().forEachRemaining(e -> {
            tokens[e.getValue().intValue()] = e.getKey();
            types[e.getValue().intValue()] = 1;
        });
        for (JsonNode a : tj.get("added_tokens")) {
            tokens[a.get("id").intValue()] = a.get("content").textValue();
            types[a.get("id").intValue()] = a.get("special").asBoolean() ? 3 : 4;
        }
        List<String> merges = new ArrayList<>();
        for (JsonNode m : tj.get("model").get("merges")) {
            merges.add(m.isArray() ? m.get(0).textValue() + " " + m.get(1).textValue() : m.textValue());
        }
        List<Long> typeList = new ArrayList<>();
        for (long t : types) typeList.add(t);
        w.putString("tokenizer.ggml.model", "gpt2").putString("tokenizer.ggml.pre", "llama-bpe")
                .putArray("tokenizer.ggml.tokens", GgufValueType.STRING, List.of(tokens))
                .putArray("tokenizer.ggml.token_type", GgufValueType.INT32, typeList)
                .putArray("tokenizer.ggml.merges", GgufValueType.STRING, merges)
                .putU32("tokenizer.ggml.bos_token_id", 297).putU32("tokenizer.ggml.eos_token_id", 298);
    }

    @Test
    void ggufFromTheHfFixtureGivesTheSameLogits() throws Exception {
        Path gguf = tmp.resolve("tiny-llama3.gguf");
        float[] hfLogits;
        float[] hfInv;
        int[] ids = {297, 5, 17, 42, 100, 7, 250, 3, 64};
        try (Checkpoint hf = HfFolderLoader.load(fixture(), false)) {
            LlamaConfig c = hf.config();
            GgufWriter w = new GgufWriter().putString("general.architecture", "llama")
                    .putU32("llama.context_length", c.maxSeqLen()).putU32("llama.embedding_length", c.dim())
                    .putU32("llama.block_count", c.nLayers()).putU32("llama.feed_forward_length", c.hiddenDim())
                    .putU32("llama.rope.dimension_count", c.headDim()).putU32("llama.attention.head_count", c.nHeads())
                    .putU32("llama.attention.head_count_kv", c.nKvHeads()).putF32("llama.rope.freq_base", c.ropeTheta())
                    .putF32("llama.attention.layer_norm_rms_epsilon", c.rmsEps());
            putTokenizer(w);
            w.addTensor("rope_freqs.weight", new long[]{c.headDim() / 2}, ropeFreqs(c));
            for (Tensor t : hf.tensors().values()) {
                String name = LoaderTest.ggufNameOf(t.name());
                MemorySegment data = t.data();
                if (t.name().endsWith("q_proj.weight")) data = toInterleaved(t, c.nHeads(), c.headDim());
                if (t.name().endsWith("k_proj.weight")) data = toInterleaved(t, c.nKvHeads(), c.headDim());
                w.addTensor(name, t.dtype(), t.shape(), data);
            }
            w.write(gguf);
            LlamaModel m = LlamaModel.load(hf, null);
            hfLogits = m.forwardAll(ids);
            hfInv = m.ropeInverseFrequencies();
        }
        try (Checkpoint g = GgufLoader.load(gguf); Checkpoint hf = HfFolderLoader.load(fixture())) {
            // The tokenizer built from GGUF metadata (through the Long/String/List contract) encodes as the HF one.
            String text = "The bank reported higher net interest income, then the stock rose 3%.";
            assertArrayEquals(hf.tokenizer().encode(text, true), g.tokenizer().encode(text, true));
            assertEquals(297, g.tokenizer().encode(text, true)[0]);
        }
        try (Checkpoint g = GgufLoader.load(gguf, false)) {
            assertTrue(g.config().ropeInterleaved());
            assertFalse(g.config().tiedEmbeddings());
            LlamaModel m = LlamaModel.load(g, null);
            float[] inv = m.ropeInverseFrequencies();
            for (int i = 0; i < inv.length; i++) assertEquals(hfInv[i], inv[i], 1e-6 * hfInv[i], "inv_freq " + i);
            float[] got = m.forwardAll(ids);
            assertEquals(hfLogits.length, got.length);
            double maxDiff = 0;
            for (int i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - hfLogits[i]));
            assertTrue(maxDiff <= 1e-4, "max |logit diff| " + maxDiff);
        }
    }
}
