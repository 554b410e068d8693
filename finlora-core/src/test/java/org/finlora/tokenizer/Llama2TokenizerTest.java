package org.finlora.tokenizer;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class Llama2TokenizerTest {
    static Tokenizer spm;
    static Llama2cTokenizer l2c;

    @BeforeAll
    static void load() {
        spm = TestAssets.llama2();
        l2c = Llama2cTokenizer.load(TestAssets.llama2Bin(), 32000);
    }

    /** karpathy/llama2.c test.c test_prompt_encodings (expected ids from Meta's Llama 2 tokenizer, with BOS). */
    static final Object[][] LLAMA2C_VECTORS = {
            {"", new int[]{1}},
            {"I believe the meaning of life is", new int[]{1, 306, 4658, 278, 6593, 310, 2834, 338}},
            {"Simply put, the theory of relativity states that ",
                    new int[]{1, 3439, 17632, 1925, 29892, 278, 6368, 310, 14215, 537, 5922, 393, 29871}},
            {"A brief message congratulating the team on the launch:\n\n        Hi everyone,\n\n        I just ",
                    new int[]{1, 319, 11473, 2643, 378, 629, 271, 18099, 278, 3815, 373, 278, 6826, 29901, 13, 13, 4706, 6324,
                            14332, 29892, 13, 13, 4706, 306, 925, 29871}},
            {"Translate English to French:\n\n        sea otter => loutre de mer\n        peppermint => menthe poivrée\n        plush girafe => girafe peluche\n        cheese =>",
                    new int[]{1, 4103, 9632, 4223, 304, 5176, 29901, 13, 13, 4706, 7205, 4932, 357, 1149, 301, 449, 276, 316,
                            2778, 13, 4706, 1236, 407, 837, 524, 1149, 6042, 354, 772, 440, 29878, 1318, 13, 4706, 715, 1878,
                            330, 3055, 1725, 1149, 330, 3055, 1725, 4639, 28754, 13, 4706, 923, 968, 1149}},
    };

    @Test
    void modelMetadata() {
        assertInstanceOf(SentencePieceBpeTokenizer.class, spm);
        SentencePieceBpeTokenizer s = (SentencePieceBpeTokenizer) spm;
        assertEquals(32000, spm.vocabSize());
        assertEquals(1, spm.bosId());
        assertEquals(2, s.eosId());
        assertEquals(Set.of(2), spm.stopIds());
        assertTrue(spm.addsBosByDefault());
        assertEquals("<unk>", s.piece(0));
        assertEquals("<0x00>", s.piece(3));
        assertEquals("<0xFF>", s.piece(258));
        assertEquals("\u2581", s.piece(29871));
        assertEquals(2, spm.specialTokenId("</s>"));
    }

    @Test
    void llama2cGoldenVectorsWithSentencePieceModel() {
        for (Object[] v : LLAMA2C_VECTORS) {
            String text = (String) v[0];
            assertArrayEquals((int[]) v[1], spm.encode(text, true), text);
            assertEquals(text, spm.decode((int[]) v[1]));
        }
    }

    @Test
    void llama2cGoldenVectorsWithTokenizerBin() {
        for (Object[] v : LLAMA2C_VECTORS) assertArrayEquals((int[]) v[1], l2c.encode((String) v[0], true), (String) v[0]);
    }

    /** ggerganov/llama.cpp models/ggml-vocab-llama-spm.gguf.out (HF Llama 2 tokenizer, no BOS). */
    @Test
    void llamaCppVocabVectors() {
        List<String> texts = TestAssets.vocabTestTexts();
        List<int[]> expected = TestAssets.vocabTestIds("llamacpp-vocab-llama-spm.out");
        assertEquals(43, expected.size());
        for (int i = 0; i < expected.size(); i++) {
            String t = texts.get(i);
            assertArrayEquals(expected.get(i), spm.encode(t, false), "text " + i + ": " + TestAssets.show(t));
            assertEquals(t, spm.decode(expected.get(i)), "decode " + i);
        }
    }

    static String randomText(Random rnd, int maxLen) {
        int[][] ranges = {{0x20, 0x7E}, {0x20, 0x7E}, {0x20, 0x7E}, {0xA0, 0x24F}, {0x400, 0x4FF}, {0x300, 0x36F},
                {0x4E00, 0x9FFF}, {0x1F300, 0x1FAFF}, {0x09, 0x0D}, {0x3040, 0x30FF}, {0x10000, 0x10FFFF}};
        StringBuilder sb = new StringBuilder();
        int len = rnd.nextInt(maxLen);
        for (int i = 0; i < len; i++) {
            int[] r = ranges[rnd.nextInt(ranges.length)];
            int cp = r[0] + rnd.nextInt(r[1] - r[0] + 1);
            if (cp >= 0xD800 && cp <= 0xDFFF) cp = ' ';
            sb.appendCodePoint(cp);
        }
        return sb.toString();
    }

    /** Two independent implementations (llama2.c's greedy rescans on tokenizer.bin, and the heap BPE on the protobuf) agree. */
    @Test
    void llama2cAndSentencePieceAgree() {
        Random rnd = new Random(2024);
        String[] words = {"the", " The", " quarterly", " earnings", " beat", " estimates", " by", " $0.12", "!", "\n",
                "  ", " naïve", " café", " 東京", " 🦙", "'s", " don't", " 2023", " (EPS)", "\t", " 100%"};
        for (int trial = 0; trial < 300; trial++) {
            String s;
            if (trial % 2 == 0) {
                StringBuilder sb = new StringBuilder();
                int n = rnd.nextInt(12);
                for (int i = 0; i < n; i++) sb.append(words[rnd.nextInt(words.length)]);
                s = sb.toString();
            } else {
                s = randomText(rnd, 30);
            }
            assertArrayEquals(l2c.encode(s, true), spm.encode(s, true), TestAssets.show(s));
        }
    }

    @Test
    void roundTripAndStreaming() {
        Random rnd = new Random(77);
        for (int trial = 0; trial < 300; trial++) {
            String s = randomText(rnd, 50);
            int[] ids = spm.encode(s, true);
            assertEquals(s, spm.decode(ids), TestAssets.show(s));
            Utf8StreamDecoder d = new Utf8StreamDecoder();
            StringBuilder streamed = new StringBuilder();
            int prev = -1;
            for (int id : ids) {
                if (id != spm.bosId()) streamed.append(d.feed(spm.tokenBytes(prev, id)));
                prev = id;
            }
            streamed.append(d.flush());
            assertEquals(s, streamed.toString());
        }
    }

    @Test
    void tokenBytesSemantics() {
        int hello = 15043; // "▁Hello"
        assertArrayEquals(" Hello".getBytes(StandardCharsets.UTF_8), spm.tokenBytes(hello));
        assertArrayEquals("Hello".getBytes(StandardCharsets.UTF_8), spm.tokenBytes(1, hello));
        assertArrayEquals("Hello".getBytes(StandardCharsets.UTF_8), spm.tokenBytes(-1, hello));
        assertArrayEquals(" Hello".getBytes(StandardCharsets.UTF_8), spm.tokenBytes(3186, hello));
        assertArrayEquals(new byte[]{0x0A}, spm.tokenBytes(13));
        assertArrayEquals(new byte[]{(byte) 0xF0}, spm.tokenBytes(243));
        // decode with and without special tokens
        int[] ids = {1, 15043, 3186, 2};
        assertEquals("Hello world", spm.decode(ids));
        assertEquals("Hello world", spm.decode(ids, true));
        assertEquals("<s> Hello world</s>", spm.decode(ids, false));
        // the same ids through llama2.c's decoder
        assertEquals("Hello world", l2c.decode(ids));
    }

    @Test
    void specialsOnlyParsedOnRequest() {
        int[] plain = spm.encode("</s>", false);
        assertTrue(plain.length > 1);
        assertArrayEquals(new int[]{1, 15043, 2}, spm.encodeWithSpecials("Hello</s>", true));
    }

    /**
     * The heap-based encode gives exactly run.c's result: its quadratic scan (best score, leftmost on
     * ties, over every adjacent pair after each merge) re-implemented here from the file itself, on
     * random texts of mixed scripts, spaces and bytes with no piece.
     */
    @Test
    void llama2cEncodeEqualsRunCsQuadraticScan() throws Exception {
        byte[] all = java.nio.file.Files.readAllBytes(TestAssets.llama2Bin());
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(all).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.getInt();
        int n = 32000;
        float[] scores = new float[n];
        java.util.Map<String, Integer> ids = new java.util.HashMap<>();
        for (int i = 0; i < n; i++) {
            scores[i] = b.getFloat();
            byte[] p = new byte[b.getInt()];
            b.get(p);
            ids.putIfAbsent(new String(p, java.nio.charset.StandardCharsets.ISO_8859_1), i);
        }
        String alphabet = "abcdefghij klmnop  qrstuvwxyz.,;:!?'\"0123456789\n\tÄéüß€中文字😀\u0001";
        java.util.SplittableRandom r = new java.util.SplittableRandom(11);
        for (int k = 0; k < 60; k++) {
            StringBuilder sb = new StringBuilder();
            int len = r.nextInt(300);
            while (sb.length() < len) sb.appendCodePoint(alphabet.codePointAt(alphabet.offsetByCodePoints(0, r.nextInt(alphabet.codePointCount(0, alphabet.length())))));
            String text = sb.toString();
            boolean bos = r.nextBoolean();
            assertArrayEquals(runC(text, bos, ids, scores), l2c.encode(text, bos), text);
        }
    }

    /** run.c's encode as written there: merge the first highest-scoring pair until none is left. */
    private static int[] runC(String text, boolean bos, java.util.Map<String, Integer> ids, float[] scores) {
        java.util.List<Integer> t = new java.util.ArrayList<>();
        if (bos) t.add(1);
        if (!text.isEmpty()) t.add(ids.get(" "));
        byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; ) {
            int lead = bytes[i] & 0xFF;
            int len = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 1;
            if (i + len > bytes.length) len = 1;
            Integer id = ids.get(new String(bytes, i, len, java.nio.charset.StandardCharsets.ISO_8859_1));
            if (id != null) t.add(id);
            else for (int k = 0; k < len; k++) t.add((bytes[i + k] & 0xFF) + 3);
            i += len;
        }
        String[] piece = new String[scores.length];
        for (var e : ids.entrySet()) if (piece[e.getValue()] == null) piece[e.getValue()] = e.getKey();
        int start = bos ? 1 : 0;
        while (true) {
            float best = -1e10f;
            int bestIdx = -1, bestId = -1;
            for (int i = start; i + 1 < t.size(); i++) {
                Integer id = ids.get(piece[t.get(i)] + piece[t.get(i + 1)]);
                if (id != null && scores[id] > best) {
                    best = scores[id];
                    bestIdx = i;
                    bestId = id;
                }
            }
            if (bestIdx < 0) break;
            t.set(bestIdx, bestId);
            t.remove(bestIdx + 1);
        }
        return t.stream().mapToInt(Integer::intValue).toArray();
    }
}
