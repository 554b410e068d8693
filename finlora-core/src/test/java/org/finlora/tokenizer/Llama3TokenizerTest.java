package org.finlora.tokenizer;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

class Llama3TokenizerTest {
    static Tokenizer tok;

    @BeforeAll
    static void load() {
        tok = TestAssets.llama3();
    }

    static int[] concat(int[]... parts) {
        IntList l = new IntList();
        for (int[] p : parts) l.addAll(p, p.length);
        return l.toArray();
    }

    @Test
    void vocabularyAndSpecialIds() {
        assertInstanceOf(ByteLevelBpeTokenizer.class, tok);
        assertEquals(128256, tok.vocabSize());
        assertEquals(128000, tok.bosId());
        assertEquals(Set.of(128001, 128008, 128009), tok.stopIds());
        assertTrue(tok.addsBosByDefault());
        assertEquals(128000, tok.specialTokenId("<|begin_of_text|>"));
        assertEquals(128004, tok.specialTokenId("<|finetune_right_pad_id|>"));
        assertEquals(128006, tok.specialTokenId("<|start_header_id|>"));
        assertEquals(128010, tok.specialTokenId("<|python_tag|>"));
        assertEquals(128011, tok.specialTokenId("<|reserved_special_token_3|>"));
        assertEquals(128255, tok.specialTokenId("<|reserved_special_token_247|>"));
    }

    /** meta-llama/llama-models models/llama3/tests/api/test_tokenizer.py: test_encode / test_decode. */
    @Test
    void metaReferenceEncodeDecode() {
        int[] expected = {128000, 2028, 374, 264, 1296, 11914, 13, 128001};
        int[] ids = concat(tok.encode("This is a test sentence.", true), new int[]{128001});
        assertArrayEquals(expected, ids);
        assertEquals("<|begin_of_text|>This is a test sentence.<|end_of_text|>", tok.decode(expected, false));
        assertEquals("This is a test sentence.", tok.decode(expected));
        assertEquals("This is a test sentence.", tok.decode(expected, true));
    }

    /** meta-llama/llama-models models/llama3/tests/api/test_tokenizer.py: test_encode_dialog. */
    @Test
    void metaReferenceDialog() {
        String prompt = ChatTemplate.llama3(List.of(
                new ChatTemplate.Message("system", "This is a test sentence."),
                new ChatTemplate.Message("user", "This is a response.")));
        int[] expected = {128000, 128006, 9125, 128007, 271, 2028, 374, 264, 1296, 11914, 13, 128009,
                128006, 882, 128007, 271, 2028, 374, 264, 2077, 13, 128009, 128006, 78191, 128007, 271};
        assertArrayEquals(expected, tok.encodeWithSpecials(prompt, false));
    }

    /** b4rtaz/distributed-llama src/tokenizer-test.cpp (expected ids in its comment). */
    @Test
    void chatHeaderEncoding() {
        String text = "<|start_header_id|>user<|end_header_id|>\n\nhello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
        int[] expected = {128000, 128006, 882, 128007, 271, 15339, 128009, 128006, 78191, 128007, 271};
        assertArrayEquals(expected, tok.encodeWithSpecials(text, true));
    }

    /** ggerganov/llama.cpp models/ggml-vocab-llama-bpe.gguf.inp/.out (HF Llama 3 tokenizer, no BOS). */
    @Test
    void llamaCppVocabVectors() {
        List<String> texts = TestAssets.vocabTestTexts();
        List<int[]> expected = TestAssets.vocabTestIds("llamacpp-vocab-llama-bpe.out");
        assertEquals(44, texts.size());
        assertEquals(texts.size(), expected.size());
        for (int i = 0; i < texts.size(); i++) {
            String t = texts.get(i);
            assertArrayEquals(expected.get(i), tok.encode(t, false), "text " + i + ": " + TestAssets.show(t));
            assertEquals(t, tok.decode(expected.get(i)), "decode " + i);
        }
    }

    @Test
    void specialTextIsOrdinaryInEncode() {
        int[] ids = tok.encode("<|eot_id|>", false);
        assertTrue(ids.length > 1);
        for (int id : ids) assertTrue(id < 128000, "special id " + id + " produced by encode()");
        assertEquals("<|eot_id|>", tok.decode(ids));
        assertArrayEquals(new int[]{128009}, tok.encodeWithSpecials("<|eot_id|>", false));
        // unknown <|...|> texts stay text in both modes
        assertArrayEquals(tok.encode("<|not_special|>", false), tok.encodeWithSpecials("<|not_special|>", false));
    }

    /** The split regex with UNICODE_CHARACTER_CLASS behaves like the Rust/Python (Unicode) regex. */
    @Test
    void splitRegexUnicodeSemantics() {
        Pattern p = Pattern.compile(ByteLevelBpeTokenizer.LLAMA3_SPLIT, Pattern.UNICODE_CHARACTER_CLASS);
        Pattern ws = Pattern.compile("\\s", Pattern.UNICODE_CHARACTER_CLASS);
        // \s is Unicode White_Space: NEL, NBSP, ideographic space yes; the file/group separators 0x1C-0x1F no.
        for (int cp : new int[]{0x09, 0x0A, 0x0D, 0x20, 0x85, 0xA0, 0x2028, 0x3000}) {
            assertTrue(ws.matcher(Character.toString(cp)).matches(), Integer.toHexString(cp));
        }
        for (int cp : new int[]{0x1C, 0x1F, 0x200B, 0xFEFF}) assertFalse(ws.matcher(Character.toString(cp)).matches());
        // Expected pieces computed with Python's `regex` module (2026.5.9) on the same pattern, the engine
        // family tiktoken/HF use (fancy-regex/onig): Unicode classes, (?i) with simple case folding.
        assertEquals(List.of("Hello", " world", "'S", " ", "123", "4", " ", "\u00BD", "!!\n\n", " \u00A0", " x"),
                pieces(p, "Hello world'S 1234 \u00BD!!\n\n \u00A0 x"));
        assertEquals(List.of("I", "'LL", " na\u00EFve", " \u03A9\u03BC\u03AD\u03B3\u03B1", " ", "123", "456", "7"),
                pieces(p, "I'LL na\u00EFve \u03A9\u03BC\u03AD\u03B3\u03B1 1234567"));
        assertEquals(List.of("a", "   ", " b", "  "), pieces(p, "a    b  "));
        assertEquals(List.of("x", "\u001C\u001C", "y", " \u0085", "\u0085z"), pieces(p, "x\u001C\u001Cy \u0085\u0085z"));
        assertEquals(List.of("a", "'\u017F", " b"), pieces(p, "a'\u017F b"));
        assertEquals(List.of("  \r\n\r\n", " ", " x", "\u3000", "\u3000y"), pieces(p, "  \r\n\r\n  x\u3000\u3000y"));
    }

    /** The hand-written Llama 3 matcher cuts exactly where java.util.regex does, on adversarial random text. */
    @Test
    void handWrittenSplitMatchesRegex() {
        Pattern p = Pattern.compile(ByteLevelBpeTokenizer.LLAMA3_SPLIT, Pattern.UNICODE_CHARACTER_CLASS);
        int[] pool = {' ', ' ', ' ', '\n', '\r', '\t', 0x0B, 0x0C, 0x1C, 0x85, 0xA0, 0x2028, 0x3000, 0x200B, '\'', '\'', 's', 'S',
                't', 'r', 'e', 'E', 'v', 'l', 'L', 'm', 'd', 'D', 0x17F, 0x212A, 'a', 'Z', '0', '7', 0xBD, 0x2163, 0x0661,
                '!', '.', '-', '"', '`', 0x1F680, 0x1F600, 0x200D, 0xFE0F, 0x301, 0x4E2D, 0x17B6, 0x1780, 0x10400, 0xD800, 0xDC00};
        Random rnd = new Random(99);
        for (int trial = 0; trial < 3000; trial++) {
            StringBuilder sb = new StringBuilder();
            int len = rnd.nextInt(25);
            for (int i = 0; i < len; i++) sb.appendCodePoint(pool[rnd.nextInt(pool.length)]);
            String s = sb.toString();
            List<String> expected = pieces(p, s);
            List<String> got = new java.util.ArrayList<>();
            Llama3PreTokenizer.split(s, 0, s.length(), (a, b) -> got.add(s.substring(a, b)));
            assertEquals(expected, got, TestAssets.show(s));
        }
    }

    private static List<String> pieces(Pattern p, String s) {
        return p.matcher(s).results().map(r -> r.group()).toList();
    }

    @Test
    void roundTripRandomUnicode() {
        Random rnd = new Random(12345);
        int[][] ranges = {{0x20, 0x7E}, {0xA0, 0x24F}, {0x370, 0x3FF}, {0x400, 0x4FF}, {0x300, 0x36F}, {0x4E00, 0x9FFF},
                {0x1780, 0x17FF}, {0x1F300, 0x1FAFF}, {0x0, 0x1F}, {0x2000, 0x206F}, {0xAC00, 0xD7A3}, {0x10000, 0x10FFFF}};
        for (int trial = 0; trial < 400; trial++) {
            StringBuilder sb = new StringBuilder();
            int len = rnd.nextInt(40);
            for (int i = 0; i < len; i++) {
                int[] r = ranges[rnd.nextInt(ranges.length)];
                int cp = r[0] + rnd.nextInt(r[1] - r[0] + 1);
                if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'x';
                sb.appendCodePoint(cp);
            }
            String s = sb.toString();
            int[] ids = tok.encode(s, true);
            assertEquals(128000, ids[0]);
            assertEquals(s, tok.decode(ids), TestAssets.show(s));
            // streaming the token bytes gives the same text
            Utf8StreamDecoder d = new Utf8StreamDecoder();
            StringBuilder streamed = new StringBuilder();
            int prev = -1;
            for (int i = 1; i < ids.length; i++) {
                streamed.append(d.feed(tok.tokenBytes(prev, ids[i])));
                prev = ids[i];
            }
            streamed.append(d.flush());
            assertEquals(s, streamed.toString());
        }
    }

    @Test
    void partialUtf8DecodesWithReplacement() {
        int[] ids = tok.encode("🦙", false); // several byte tokens
        assertTrue(ids.length > 1);
        String partial = tok.decode(java.util.Arrays.copyOf(ids, ids.length - 1));
        assertEquals("\uFFFD", partial);
    }

    /** llama-models tokenizer.py: runs longer than 25,000 whitespace/non-whitespace characters are cut. */
    @Test
    void longRunsAreChunkedLikeMeta() {
        String a = "a".repeat(30_000);
        assertArrayEquals(concat(tok.encode("a".repeat(25_000), false), tok.encode("a".repeat(5_000), false)),
                tok.encode(a, false));
        String spaces = " ".repeat(26_000) + "x";
        int[] ids = tok.encode(spaces, false);
        assertEquals(spaces, tok.decode(ids));
        assertArrayEquals(concat(tok.encode(" ".repeat(25_000), false), tok.encode(" ".repeat(1_000) + "x", false)), ids);
    }

    /** Not a timing assertion: a 1 MB mixed text must simply encode and round-trip. */
    @Test
    void megabyteText() {
        StringBuilder sb = new StringBuilder();
        Random rnd = new Random(7);
        String[] words = {"the", " revenue", " grew", " 12.5%", " year-over-year", ",", "\n", " 财报", " Ünïcödé", " 🚀", "  ", "\t", "EBITDA"};
        while (sb.length() < 1_000_000) sb.append(words[rnd.nextInt(words.length)]);
        String s = sb.toString();
        int[] ids = tok.encode(s, false);
        assertTrue(ids.length > 100_000);
        assertEquals(s, tok.decode(ids));
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        assertTrue(bytes.length >= 1_000_000);
    }
}
