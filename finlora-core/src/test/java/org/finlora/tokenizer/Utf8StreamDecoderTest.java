package org.finlora.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class Utf8StreamDecoderTest {
    static byte[] b(int... v) {
        byte[] out = new byte[v.length];
        for (int i = 0; i < v.length; i++) out[i] = (byte) v[i];
        return out;
    }

    /** Expected strings from Python 3: bytes(...).decode("utf-8", "replace") (maximal-subpart replacement). */
    @Test
    void lossyDecodingMatchesPython() {
        assertEquals("\uFFFD", Utf8StreamDecoder.decode(b(0xF0, 0x9F, 0x98)));
        assertEquals("\uFFFD(\uFFFD", Utf8StreamDecoder.decode(b(0xE2, 0x28, 0xA1)));
        assertEquals("\uFFFD\uFFFD\uFFFDA", Utf8StreamDecoder.decode(b(0xF0, 0x80, 0x80, 0x41)));
        assertEquals("\uFFFD\uFFFD\uFFFD", Utf8StreamDecoder.decode(b(0xED, 0xA0, 0x80))); // a UTF-8-encoded surrogate
        assertEquals("\uFFFD\uFFFD", Utf8StreamDecoder.decode(b(0xC0, 0xAF)));
        assertEquals("\uFFFD\uFFFD\uFFFD\uFFFD", Utf8StreamDecoder.decode(b(0xF4, 0x90, 0x80, 0x80)));
        assertEquals("\uFFFD\uFFFD\uFFFD\uFFFDA", Utf8StreamDecoder.decode(b(0xE1, 0x80, 0xE2, 0xF0, 0x91, 0x92, 0xF1, 0xBF, 0x41)));
        assertEquals("\uFFFD\uFFFD\uFFFD", Utf8StreamDecoder.decode(b(0xFF, 0xFE, 0x80)));
        assertEquals("a\u00E9\u4E2D\uD83E\uDD99", Utf8StreamDecoder.decode("a\u00E9\u4E2D\uD83E\uDD99".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    @Test
    void holdsIncompleteCharacters() {
        Utf8StreamDecoder d = new Utf8StreamDecoder();
        assertEquals("", d.feed(b(0xF0, 0x9F)));
        assertEquals(2, d.pendingBytes());
        assertEquals("", d.feed(b(0xA6)));
        assertEquals("\uD83E\uDD99x", d.feed(b(0x99, 'x')));
        assertEquals(0, d.pendingBytes());
        assertEquals("", d.feed(b(0xE4, 0xB8)));
        assertEquals("\uFFFD", d.flush());
        // an impossible continuation is not held back
        assertEquals("\uFFFD\uFFFD", d.feed(b(0xE0, 0x80)));
    }

    @Test
    void streamEqualsWholeDecodeOnRandomBytes() {
        Random rnd = new Random(1);
        int[] pool = {0x41, 0x20, 0xC3, 0xA9, 0xE4, 0xB8, 0xAD, 0xF0, 0x9F, 0xA6, 0x99, 0x80, 0xBF, 0xED, 0xA0, 0xF4, 0x90, 0xFF, 0xC0, 0xE0};
        for (int trial = 0; trial < 2000; trial++) {
            byte[] all = new byte[rnd.nextInt(20)];
            for (int i = 0; i < all.length; i++) all[i] = (byte) pool[rnd.nextInt(pool.length)];
            Utf8StreamDecoder d = new Utf8StreamDecoder();
            StringBuilder sb = new StringBuilder();
            int at = 0;
            while (at < all.length) {
                int n = 1 + rnd.nextInt(Math.min(4, all.length - at));
                sb.append(d.feed(java.util.Arrays.copyOfRange(all, at, at + n)));
                at += n;
            }
            sb.append(d.flush());
            assertEquals(Utf8StreamDecoder.decode(all), sb.toString());
            // on valid UTF-8 the lossy decoder agrees with the JDK's
            if (validUtf8(all)) assertEquals(new String(all, java.nio.charset.StandardCharsets.UTF_8), sb.toString());
        }
    }

    static boolean validUtf8(byte[] b) {
        try {
            java.nio.charset.StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(b));
            return true;
        } catch (java.nio.charset.CharacterCodingException e) {
            return false;
        }
    }
}
