package org.finlora.tokenizer;

import org.finlora.FinloraException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * GGUF tokenizer metadata (tokenizer.ggml.*) as the GGUF reader hands it over (Long, Float, Boolean,
 * String, List), built here from the real Meta files the way llama.cpp's converter lays it out.
 */
class GgufTokenizerTest {
    static SentencePieceBpeTokenizer spm;
    static Tokenizer tiktoken;
    static Map<String, Object> llama2Meta;
    static Map<String, Object> llama3Meta;

    @BeforeAll
    static void load() throws Exception {
        spm = TestAssets.llama2();
        tiktoken = TestAssets.llama3();

        llama2Meta = new HashMap<>();
        List<Object> tokens = new ArrayList<>(), scores = new ArrayList<>(), types = new ArrayList<>();
        for (int i = 0; i < spm.vocabSize(); i++) {
            tokens.add(spm.piece(i));
            scores.add(spm.score(i));
            types.add((long) spm.pieceType(i));
        }
        llama2Meta.put("tokenizer.ggml.model", "llama");
        llama2Meta.put("tokenizer.ggml.tokens", tokens);
        llama2Meta.put("tokenizer.ggml.scores", scores);
        llama2Meta.put("tokenizer.ggml.token_type", types);
        llama2Meta.put("tokenizer.ggml.bos_token_id", 1L);
        llama2Meta.put("tokenizer.ggml.eos_token_id", 2L);
        llama2Meta.put("tokenizer.ggml.unknown_token_id", 0L);
        llama2Meta.put("tokenizer.ggml.add_bos_token", true);
        llama2Meta.put("tokenizer.chat_template", "llama2 template");

        List<byte[]> ranks = TestAssets.llama3Ranks();
        List<Object> t3 = new ArrayList<>(), ty3 = new ArrayList<>(), m3 = new ArrayList<>();
        for (byte[] r : ranks) {
            t3.add(DerivedVocab.byteLevel(r));
            ty3.add(1L);
        }
        for (String name : ByteLevelBpeTokenizer.llama31SpecialTokens()) {
            t3.add(name);
            ty3.add(3L);
        }
        for (String[] m : TestAssets.llama3Merges()) m3.add(DerivedVocab.byteLevel(m[0]) + " " + DerivedVocab.byteLevel(m[1]));
        llama3Meta = new HashMap<>();
        llama3Meta.put("tokenizer.ggml.model", "gpt2");
        llama3Meta.put("tokenizer.ggml.pre", "llama-bpe");
        llama3Meta.put("tokenizer.ggml.tokens", t3);
        llama3Meta.put("tokenizer.ggml.token_type", ty3);
        llama3Meta.put("tokenizer.ggml.merges", m3);
        llama3Meta.put("tokenizer.ggml.bos_token_id", 128000L);
        llama3Meta.put("tokenizer.ggml.eos_token_id", 128009L);
        llama3Meta.put("tokenizer.chat_template", "llama3 template");
    }

    @Test
    void llamaModelMatchesSentencePiece() {
        Tokenizer g = Tokenizers.fromGgufMetadata(llama2Meta, "test.gguf");
        assertEquals(32000, g.vocabSize());
        assertEquals(1, g.bosId());
        assertEquals(Set.of(2), g.stopIds());
        assertTrue(g.addsBosByDefault());
        assertEquals("llama2 template", g.chatTemplate());
        for (Object[] v : Llama2TokenizerTest.LLAMA2C_VECTORS) assertArrayEquals((int[]) v[1], g.encode((String) v[0], true));
        HfTokenizerJsonTest.assertSameEncoding(spm, g, HfTokenizerJsonTest.sampleTexts(11));
    }

    @Test
    void gpt2ModelMatchesTiktoken() {
        Tokenizer g = Tokenizers.fromGgufMetadata(llama3Meta, "test.gguf");
        assertEquals(128256, g.vocabSize());
        assertEquals(128000, g.bosId());
        assertEquals(Set.of(128001, 128008, 128009), g.stopIds());
        assertEquals("llama3 template", g.chatTemplate());
        HfTokenizerJsonTest.assertSameEncoding(tiktoken, g, HfTokenizerJsonTest.sampleTexts(12));
        String chat = ChatTemplate.llama31(List.of(new ChatTemplate.Message("system", "Be brief."),
                new ChatTemplate.Message("user", "What is EBITDA?")));
        assertArrayEquals(tiktoken.encodeWithSpecials(chat, false), g.encodeWithSpecials(chat, false));
        Random rnd = new Random(3);
        for (int i = 0; i < 50; i++) {
            String s = Llama2TokenizerTest.randomText(rnd, 30);
            assertEquals(s, g.decode(g.encode(s, true)));
        }
    }

    @Test
    void badMetadataIsReported() {
        Map<String, Object> m = new HashMap<>(llama2Meta);
        m.remove("tokenizer.ggml.scores");
        var e = assertThrows(FinloraException.class, () -> Tokenizers.fromGgufMetadata(m, "x.gguf"));
        assertTrue(e.getMessage().startsWith("x.gguf: ") && e.getMessage().contains("tokenizer.ggml.scores"), e.getMessage());

        Map<String, Object> m2 = new HashMap<>(llama2Meta);
        m2.put("tokenizer.ggml.model", "bert");
        e = assertThrows(FinloraException.class, () -> Tokenizers.fromGgufMetadata(m2, "x.gguf"));
        assertTrue(e.getMessage().contains("bert"), e.getMessage());

        Map<String, Object> m3 = new HashMap<>(llama2Meta);
        m3.put("tokenizer.ggml.bos_token_id", 99999L);
        e = assertThrows(FinloraException.class, () -> Tokenizers.fromGgufMetadata(m3, "x.gguf"));
        assertTrue(e.getMessage().contains("bos_token_id"), e.getMessage());

        Map<String, Object> m4 = new HashMap<>(llama3Meta);
        m4.put("tokenizer.ggml.merges", List.of("nonsense"));
        e = assertThrows(FinloraException.class, () -> Tokenizers.fromGgufMetadata(m4, "x.gguf"));
        assertTrue(e.getMessage().contains("tokenizer.ggml.merges[0]"), e.getMessage());

        Map<String, Object> m5 = new HashMap<>(llama3Meta);
        m5.put("tokenizer.ggml.token_type", List.of(1L));
        e = assertThrows(FinloraException.class, () -> Tokenizers.fromGgufMetadata(m5, "x.gguf"));
        assertTrue(e.getMessage().contains("token_type"), e.getMessage());
    }
}
