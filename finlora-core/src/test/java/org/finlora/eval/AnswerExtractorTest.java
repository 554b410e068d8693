package org.finlora.eval;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class AnswerExtractorTest {
    @Test
    void takesTextAfterTheLastAnswerAndStrips() {
        assertEquals("positive", AnswerExtractor.extract(" positive\n"));
        assertEquals("negative", AnswerExtractor.extract("positive\nInstruction: ...\nAnswer: negative "));
        assertEquals("", AnswerExtractor.extract("blah Answer:"));
        assertEquals("x", AnswerExtractor.extract("Answer:Answer: x"));
        assertEquals("answer: lower", AnswerExtractor.extract("answer: lower"), "the delimiter is case-sensitive, as in Python split");
    }

    @Test
    void stripsLikePython() {
        // Python: " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u2000\u3000".isspace() is True; "\u200b".isspace() is False
        assertEquals("a", AnswerExtractor.pythonStrip(" \t\n\r\u000b\u000c\u001c\u001d\u001e\u001f\u0085\u00a0\u2000\u3000a\u00a0"));
        assertEquals("\u200ba", AnswerExtractor.pythonStrip("\u200ba"));
        assertEquals("", AnswerExtractor.pythonStrip("   "));
    }
}
