package org.finlora.golden;

import com.fasterxml.jackson.databind.JsonNode;
import org.finlora.tokenizer.Tokenizer;
import org.finlora.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Tokenizers against the ids the Python reference BPE (tools/bpe_llama3.py) produced. */
class TokenizerReferenceTest {

    @Test
    void tinyLlama3TokenizerJsonMatchesReference() {
        JsonNode ref = Fixtures.json("tiny-llama3-tokenizer.json");
        Tokenizer tok = Tokenizers.fromHfFolder(Fixtures.fixture("tiny-llama3"));
        assertEquals(ref.get("bos_id").asInt(), tok.bosId());
        for (JsonNode c : ref.get("cases")) {
            String text = c.get("text").asText();
            assertArrayEquals(Fixtures.ints(c.get("ids")), tok.encodeWithSpecials(text, false), text);
            assertArrayEquals(Fixtures.ints(c.get("ids_with_bos")), tok.encodeWithSpecials(text, tok.addsBosByDefault()), text);
        }
    }

    @Test
    void llama3TiktokenMatchesReference() {
        JsonNode ref = Fixtures.json("llama3-tokenizer-cases.json");
        Tokenizer tok = Tokenizers.fromTokenizerModel(Fixtures.shared("models/llama3-tokenizer/tokenizer.model"));
        for (JsonNode c : ref.get("cases")) {
            String text = c.get("text").asText();
            int[] ids = tok.encode(text, false);
            assertArrayEquals(Fixtures.ints(c.get("ids")), ids, text);
            assertArrayEquals(Fixtures.ints(c.get("ids_with_bos")), tok.encode(text, true), text);
            assertEquals(text, tok.decode(ids), "round trip of " + text);
        }
    }
}
