package org.finlora.tokenizer;

import org.finlora.FinloraException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ChatTemplateTest {
    static ChatTemplate.Message m(String role, String content) {
        return new ChatTemplate.Message(role, content);
    }

    /** The format of qlora-facts §8 (llama-models models/llama3/chat_format.py), contents stripped. */
    @Test
    void llama3Format() {
        String s = ChatTemplate.llama3(List.of(m("system", "  You are terse.\n"), m("user", "\tHi there \u00A0")));
        assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n", s);
        assertEquals("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nq<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\na<|eot_id|>",
                ChatTemplate.llama3(List.of(m("user", "q"), m("assistant", "a")), false));
    }

    /** HF Llama 3.1 template: a system block always, starting with the knowledge-cutoff and date lines. */
    @Test
    void llama31Format() {
        assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                + "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n", ChatTemplate.llama31(List.of(m("user", "Hello"))));
        assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                + "Cutting Knowledge Date: December 2023\nToday Date: 01 Jan 2025\n\nBe brief.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>",
                ChatTemplate.llama31(List.of(m("system", "Be brief. "), m("user", "Hello")), "01 Jan 2025", false));
    }

    /** Llama 2: Meta's chat_completion folds the system prompt into the first [INST] and encodes each exchange with BOS/EOS. */
    @Test
    void llama2Format() {
        Tokenizer t = TestAssets.llama2();
        int[] ids = ChatTemplate.llama2(List.of(m("system", "Be brief."), m("user", "Hi"), m("assistant", " Hello! "),
                m("user", "Bye")), t);
        int[] first = t.encode("[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! ", true);
        int[] second = t.encode("[INST] Bye [/INST]", true);
        assertEquals(first.length + 1 + second.length, ids.length);
        assertArrayEquals(first, java.util.Arrays.copyOf(ids, first.length));
        assertEquals(2, ids[first.length]);
        assertArrayEquals(second, java.util.Arrays.copyOfRange(ids, first.length + 1, ids.length));
        assertArrayEquals(new int[]{1, 518, 25580, 29962}, java.util.Arrays.copyOf(second, 4)); // BOS "▁[" "INST" "]"
        assertThrows(FinloraException.class, () -> ChatTemplate.llama2(List.of(m("assistant", "x")), t));
        assertThrows(FinloraException.class, () -> ChatTemplate.llama2(List.of(m("user", "a"), m("assistant", "b")), t));
    }

    /*
     * Expected ids from a public C++ chat-template test that lists HF apply_chat_template outputs for
     * meta-llama/Llama-2-7b-chat-hf and meta-llama/Meta-Llama-3-8B-Instruct (found through the public-code
     * index, file id 62638673195; its repository name was not shown). Chats: "hello"; system "You are
     * assistant." + "hello"; and that plus assistant "how can I help you?" and user "how much is 2+2?".
     */
    static List<List<ChatTemplate.Message>> publishedChats() {
        var sys = m("system", "You are assistant.");
        return List.of(List.of(m("user", "hello")), List.of(sys, m("user", "hello")),
                List.of(sys, m("user", "hello"), m("assistant", "how can I help you?"), m("user", "how much is 2+2?")));
    }

    @Test
    void publishedLlama2ChatIds() {
        Tokenizer t = TestAssets.llama2();
        int[][] expected = {
                {1, 518, 25580, 29962, 22172, 518, 29914, 25580, 29962},
                {1, 518, 25580, 29962, 3532, 14816, 29903, 6778, 13, 3492, 526, 20255, 29889, 13, 29966, 829, 14816, 29903,
                        6778, 13, 13, 12199, 518, 29914, 25580, 29962},
                {1, 518, 25580, 29962, 3532, 14816, 29903, 6778, 13, 3492, 526, 20255, 29889, 13, 29966, 829, 14816, 29903,
                        6778, 13, 13, 12199, 518, 29914, 25580, 29962, 920, 508, 306, 1371, 366, 29973, 29871, 2, 1, 518,
                        25580, 29962, 920, 1568, 338, 29871, 29906, 29974, 29906, 29973, 518, 29914, 25580, 29962}};
        var chats = publishedChats();
        for (int i = 0; i < chats.size(); i++) assertArrayEquals(expected[i], ChatTemplate.llama2(chats.get(i), t), "chat " + i);
    }

    @Test
    void publishedLlama3ChatIds() {
        Tokenizer t = TestAssets.llama3();
        int[][] expected = {
                {128000, 128006, 882, 128007, 271, 15339, 128009, 128006, 78191, 128007, 271},
                {128000, 128006, 9125, 128007, 271, 2675, 527, 18328, 13, 128009, 128006, 882, 128007, 271, 15339, 128009,
                        128006, 78191, 128007, 271},
                {128000, 128006, 9125, 128007, 271, 2675, 527, 18328, 13, 128009, 128006, 882, 128007, 271, 15339, 128009,
                        128006, 78191, 128007, 271, 5269, 649, 358, 1520, 499, 30, 128009, 128006, 882, 128007, 271, 5269, 1790,
                        374, 220, 17, 10, 17, 30, 128009, 128006, 78191, 128007, 271}};
        var chats = publishedChats();
        for (int i = 0; i < chats.size(); i++) {
            assertArrayEquals(expected[i], t.encodeWithSpecials(ChatTemplate.llama3(chats.get(i)), false), "chat " + i);
        }
    }
}
