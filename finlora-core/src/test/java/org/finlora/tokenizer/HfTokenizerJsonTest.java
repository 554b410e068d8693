package org.finlora.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finlora.FinloraException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** tokenizer.json loading, checked against the tiktoken and SentencePiece paths on the same vocabularies. */
class HfTokenizerJsonTest {
    static final ObjectMapper M = new ObjectMapper();
    static Tokenizer tiktoken;
    static List<byte[]> ranks;
    static List<String[]> merges;
    static SentencePieceBpeTokenizer spm;

    @BeforeAll
    static void load() throws Exception {
        tiktoken = TestAssets.llama3();
        ranks = TestAssets.llama3Ranks();
        merges = TestAssets.llama3Merges();
        spm = TestAssets.llama2();
    }

    /** An HF Llama 3 style tokenizer.json: byte-level vocab from the ranks, merges derived from them, 3.1 specials. */
    static ObjectNode llama3Json(String regex, boolean mergesAsPairs) {
        ObjectNode root = M.createObjectNode();
        root.put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        List<String> names = ByteLevelBpeTokenizer.llama31SpecialTokens();
        for (int i = 0; i < names.size(); i++) {
            added.addObject().put("id", ranks.size() + i).put("content", names.get(i)).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer").put("type", "Sequence");
        ArrayNode pres = pre.putArray("pretokenizers");
        ObjectNode split = pres.addObject().put("type", "Split");
        split.putObject("pattern").put("Regex", regex);
        split.put("behavior", "Isolated").put("invert", false);
        pres.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", false);
        ObjectNode post = root.putObject("post_processor").put("type", "Sequence");
        ArrayNode procs = post.putArray("processors");
        procs.addObject().put("type", "ByteLevel").put("add_prefix_space", true);
        ObjectNode tp = procs.addObject().put("type", "TemplateProcessing");
        ArrayNode single = tp.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", "<|begin_of_text|>").put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        root.putObject("decoder").put("type", "ByteLevel");
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout").putNull("unk_token").put("fuse_unk", false).put("byte_fallback", false)
                .put("ignore_merges", true);
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < ranks.size(); i++) vocab.put(DerivedVocab.byteLevel(ranks.get(i)), i);
        ArrayNode ms = model.putArray("merges");
        for (String[] m : merges) {
            String a = DerivedVocab.byteLevel(m[0]), b = DerivedVocab.byteLevel(m[1]);
            if (mergesAsPairs) ms.addArray().add(a).add(b);
            else ms.add(a + " " + b);
        }
        return root;
    }

    static void write(Path file, Object json) throws Exception {
        Files.writeString(file, M.writeValueAsString(json));
    }

    static void assertSameEncoding(Tokenizer expected, Tokenizer actual, List<String> texts) {
        for (String t : texts) {
            assertArrayEquals(expected.encode(t, false), actual.encode(t, false), TestAssets.show(t));
        }
    }

    static List<String> sampleTexts(long seed) {
        List<String> texts = new java.util.ArrayList<>(TestAssets.vocabTestTexts());
        Random rnd = new Random(seed);
        for (int i = 0; i < 150; i++) texts.add(Llama2TokenizerTest.randomText(rnd, 40));
        texts.add("The company's Q3 revenue rose 12.5% to $4.2B; EBITDA margin: 31%.\n\nOutlook: positive.");
        return texts;
    }

    @Test
    void llama3FolderMatchesTiktoken(@TempDir Path dir) throws Exception {
        write(dir.resolve("tokenizer.json"), llama3Json(ByteLevelBpeTokenizer.LLAMA3_SPLIT, false));
        ObjectNode cfg = M.createObjectNode();
        cfg.put("bos_token", "<|begin_of_text|>").put("eos_token", "<|eot_id|>").put("chat_template", "{{ bos_token }}...");
        write(dir.resolve("tokenizer_config.json"), cfg);
        ObjectNode gen = M.createObjectNode();
        gen.putArray("eos_token_id").add(128001).add(128008).add(128009);
        write(dir.resolve("generation_config.json"), gen);

        Tokenizer hf = Tokenizers.fromHfFolder(dir);
        assertInstanceOf(ByteLevelBpeTokenizer.class, hf);
        assertEquals(128256, hf.vocabSize());
        assertEquals(128000, hf.bosId());
        assertTrue(hf.addsBosByDefault());
        assertEquals(Set.of(128001, 128008, 128009), hf.stopIds());
        assertEquals("{{ bos_token }}...", hf.chatTemplate());
        assertSameEncoding(tiktoken, hf, sampleTexts(5));
        List<int[]> expected = TestAssets.vocabTestIds("llamacpp-vocab-llama-bpe.out");
        List<String> texts = TestAssets.vocabTestTexts();
        for (int i = 0; i < texts.size(); i++) assertArrayEquals(expected.get(i), hf.encode(texts.get(i), false));
        String chat = ChatTemplate.llama3(List.of(new ChatTemplate.Message("user", "hi")));
        assertArrayEquals(tiktoken.encodeWithSpecials(chat, false), hf.encodeWithSpecials(chat, false));
    }

    /** Merges as [a, b] pairs, and a regex that is not textually the Llama 3 one (so java.util.regex does the split). */
    @Test
    void pairMergesAndRegexPath(@TempDir Path dir) throws Exception {
        write(dir.resolve("tokenizer.json"), llama3Json("(?:" + ByteLevelBpeTokenizer.LLAMA3_SPLIT + ")", true));
        Tokenizer hf = Tokenizers.fromHfFolder(dir);
        assertSameEncoding(tiktoken, hf, sampleTexts(6));
        // without tokenizer_config.json the eos set comes from the known Llama 3 names
        assertEquals(Set.of(128001, 128008, 128009), hf.stopIds());
    }

    /** A hand-written byte-level BPE: GPT-2 regex via ByteLevel use_regex, no ignore_merges, merge order decides. */
    @Test
    void smallHandWrittenByteLevel(@TempDir Path dir) throws Exception {
        ObjectNode root = M.createObjectNode();
        ObjectNode model = root.putObject("model").put("type", "BPE");
        ObjectNode vocab = model.putObject("vocab");
        for (int b = 0; b < 256; b++) vocab.put(DerivedVocab.byteLevel(new byte[]{(byte) b}), b);
        // "Ġ" is byte 0x20; merges: l+o, lo+w, Ġ+low, e+r, low+er (an extra "lowe" token exists but is unreachable)
        String[][] rules = {{"l", "o"}, {"lo", "w"}, {"\u0120", "low"}, {"e", "r"}, {"low", "er"}};
        int id = 256;
        ArrayNode ms = model.putArray("merges");
        for (String[] r : rules) {
            vocab.put(r[0] + r[1], id++);
            ms.add(r[0] + " " + r[1]);
        }
        vocab.put("lowe", id++);
        root.putArray("added_tokens").addObject().put("id", id).put("content", "<|end|>").put("special", true);
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", true);
        write(dir.resolve("tokenizer.json"), root);
        Tokenizer t = Tokenizers.fromHfFolder(dir);
        assertEquals(id + 1, t.vocabSize());
        // "lower lowe low": pieces "lower", " lowe", " low"
        int low = 257, spLow = 258, lower = 260;
        assertArrayEquals(new int[]{lower, spLow, 'e', spLow}, t.encode("lower lowe low", false));
        assertEquals(-1, t.bosId());
        assertFalse(t.addsBosByDefault());
        assertArrayEquals(new int[]{low, id}, t.encodeWithSpecials("low<|end|>", false));
        assertEquals("low<|end|>", t.decode(new int[]{low, id}, false));
        assertEquals("low", t.decode(new int[]{low, id}, true));
    }

    /** An HF Llama 2 style tokenizer.json (legacy Prepend/Replace normalizer, byte_fallback) built from the .model pieces. */
    static ObjectNode llama2Json(boolean metaspaceFirst) {
        ObjectNode root = M.createObjectNode();
        ArrayNode added = root.putArray("added_tokens");
        String[] specials = {"<unk>", "<s>", "</s>"};
        for (int i = 0; i < 3; i++) added.addObject().put("id", i).put("content", specials[i]).put("special", true);
        if (metaspaceFirst) {
            root.putNull("normalizer");
            root.putObject("pre_tokenizer").put("type", "Metaspace").put("replacement", "\u2581")
                    .put("prepend_scheme", "first").put("split", false);
        } else {
            ObjectNode norm = root.putObject("normalizer").put("type", "Sequence");
            ArrayNode ns = norm.putArray("normalizers");
            ns.addObject().put("type", "Prepend").put("prepend", "\u2581");
            ObjectNode rep = ns.addObject().put("type", "Replace");
            rep.putObject("pattern").put("String", " ");
            rep.put("content", "\u2581");
            root.putNull("pre_tokenizer");
        }
        ObjectNode tp = root.putObject("post_processor").put("type", "TemplateProcessing");
        ArrayNode single = tp.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ObjectNode model = root.putObject("model").put("type", "BPE").put("unk_token", "<unk>").put("fuse_unk", true)
                .put("byte_fallback", true);
        ObjectNode vocab = model.putObject("vocab");
        java.util.Map<String, Integer> ids = new java.util.HashMap<>();
        for (int i = 0; i < spm.vocabSize(); i++) {
            vocab.put(spm.piece(i), i);
            ids.put(spm.piece(i), i);
        }
        // HF's SentencePieceExtractor (transformers convert_slow_tokenizer.py): every split of a piece into two
        // pieces, splits of one piece by (left id, right id), then all stably sorted by the piece's score, highest first
        ArrayNode ms = model.putArray("merges");
        Integer[] byScore = new Integer[spm.vocabSize()];
        for (int i = 0; i < byScore.length; i++) byScore[i] = i;
        java.util.Arrays.sort(byScore, (x, y) -> Float.compare(spm.score(y), spm.score(x)));
        for (int i : byScore) {
            if (spm.pieceType(i) != SentencePieceBpeTokenizer.NORMAL) continue;
            String p = spm.piece(i);
            java.util.List<int[]> splits = new java.util.ArrayList<>();
            for (int k = 1; k < p.length(); k++) {
                Integer l = ids.get(p.substring(0, k)), r = ids.get(p.substring(k));
                if (l != null && r != null && spm.pieceType(l) == SentencePieceBpeTokenizer.NORMAL
                        && spm.pieceType(r) == SentencePieceBpeTokenizer.NORMAL) {
                    splits.add(new int[]{l, r});
                }
            }
            splits.sort((x, y) -> x[0] != y[0] ? Integer.compare(x[0], y[0]) : Integer.compare(x[1], y[1]));
            for (int[] s : splits) ms.add(spm.piece(s[0]) + " " + spm.piece(s[1]));
        }
        return root;
    }

    @Test
    void llama2FolderMatchesSentencePiece(@TempDir Path dir) throws Exception {
        write(dir.resolve("tokenizer.json"), llama2Json(false));
        Tokenizer hf = Tokenizers.fromHfFolder(dir);
        assertInstanceOf(SentencePieceBpeTokenizer.class, hf);
        assertEquals(1, hf.bosId());
        assertTrue(hf.addsBosByDefault());
        assertEquals(Set.of(2), hf.stopIds());
        List<int[]> expected = TestAssets.vocabTestIds("llamacpp-vocab-llama-spm.out");
        List<String> texts = TestAssets.vocabTestTexts();
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), hf.encode(texts.get(i), false), "text " + i + ": " + TestAssets.show(texts.get(i)));
        }
        assertSameEncoding(spm, hf, sampleTexts(8));
        // legacy normalizer: each segment between special tokens gets the "▁" prefix
        assertArrayEquals(new int[]{1, 15043, 2, 3186}, hf.encodeWithSpecials("Hello</s>world", true));
    }

    @Test
    void metaspacePrependFirst(@TempDir Path dir) throws Exception {
        write(dir.resolve("tokenizer.json"), llama2Json(true));
        Tokenizer hf = Tokenizers.fromHfFolder(dir);
        assertArrayEquals(spm.encode("Hello world", true), hf.encode("Hello world", true));
        // prepend_scheme "first": the segment after </s> gets no "▁"
        int[] ids = hf.encodeWithSpecials("Hello</s>world", true);
        assertArrayEquals(new int[]{1, 15043, 2}, java.util.Arrays.copyOf(ids, 3));
        assertEquals("world", hf.decode(java.util.Arrays.copyOfRange(ids, 3, ids.length)));
        assertFalse(java.util.Arrays.equals(ids, new int[]{1, 15043, 2, 3186}));
    }

    @Test
    void tokenizerModelFallbackAndConfig(@TempDir Path dir) throws Exception {
        Files.copy(TestAssets.llama2Model(), dir.resolve("tokenizer.model"));
        ObjectNode cfg = M.createObjectNode();
        cfg.put("add_bos_token", false);
        cfg.putObject("eos_token").put("content", "</s>");
        cfg.putArray("chat_template").addObject().put("name", "default").put("template", "T");
        write(dir.resolve("tokenizer_config.json"), cfg);
        Tokenizer t = Tokenizers.fromHfFolder(dir);
        assertInstanceOf(SentencePieceBpeTokenizer.class, t);
        assertFalse(t.addsBosByDefault());
        assertEquals("T", t.chatTemplate());
        assertEquals(Set.of(2), t.stopIds());
    }

    @Test
    void malformedInputsNameTheFile(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("tokenizer.json");
        Files.writeString(json, "{\"model\": {\"type\": \"BPE\", \"vocab\": ");
        var e = assertThrows(FinloraException.class, () -> Tokenizers.fromHfFolder(dir));
        assertTrue(e.getMessage().contains("tokenizer.json") && e.getMessage().contains("malformed JSON"), e.getMessage());

        Files.writeString(json, "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}");
        e = assertThrows(FinloraException.class, () -> Tokenizers.fromHfFolder(dir));
        assertTrue(e.getMessage().contains("tokenizer.json") && e.getMessage().contains("Unigram"), e.getMessage());

        Files.writeString(json, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [\"a c\"]},"
                + " \"pre_tokenizer\": {\"type\": \"Metaspace\"}}");
        e = assertThrows(FinloraException.class, () -> Tokenizers.fromHfFolder(dir));
        assertTrue(e.getMessage().contains("merge 0"), e.getMessage());

        Files.delete(json);
        e = assertThrows(FinloraException.class, () -> Tokenizers.fromHfFolder(dir));
        assertTrue(e.getMessage().contains("no tokenizer.json or tokenizer.model"), e.getMessage());

        Path model = dir.resolve("tokenizer.model");
        Files.write(model, new byte[]{0x0A, (byte) 0xFF, 0x01});
        e = assertThrows(FinloraException.class, () -> Tokenizers.fromHfFolder(dir));
        assertTrue(e.getMessage().contains("tokenizer.model"), e.getMessage());

        Files.writeString(model, "IQ== 0\nIg== 5\n");
        e = assertThrows(FinloraException.class, () -> Tokenizers.fromHfFolder(dir));
        assertTrue(e.getMessage().contains("line 2") && e.getMessage().contains("rank 5"), e.getMessage());

        // a truncated copy of the real SentencePiece model
        byte[] real = Files.readAllBytes(TestAssets.llama2Model());
        Files.write(model, java.util.Arrays.copyOf(real, 1000));
        e = assertThrows(FinloraException.class, () -> Tokenizers.fromHfFolder(dir));
        assertTrue(e.getMessage().contains("tokenizer.model") && e.getMessage().contains("offset"), e.getMessage());

        Files.write(model, "\u0000garbage".getBytes(StandardCharsets.UTF_8));
        e = assertThrows(FinloraException.class, () -> Tokenizers.fromHfFolder(dir));
        assertTrue(e.getMessage().contains("neither"), e.getMessage());
    }
}
