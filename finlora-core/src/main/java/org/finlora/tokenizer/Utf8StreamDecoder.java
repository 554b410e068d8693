package org.finlora.tokenizer;

/**
 * Turns token bytes into text while streaming: {@link #feed} returns the characters completed so
 * far and keeps a trailing, still-incomplete UTF-8 sequence for the next call. Invalid bytes become
 * U+FFFD, one per maximal ill-formed subpart (Unicode §3.9, as Python's and Rust's lossy decoders
 * do), so the concatenated output always equals {@link #decode} of all bytes at once.
 */
public final class Utf8StreamDecoder {
    private byte[] pending = new byte[0];

    /** Adds bytes; returns the text of every sequence that is now complete (or definitely invalid). */
    public String feed(byte[] bytes) {
        byte[] all = new byte[pending.length + bytes.length];
        System.arraycopy(pending, 0, all, 0, pending.length);
        System.arraycopy(bytes, 0, all, pending.length, bytes.length);
        int keep = incompleteTail(all, all.length);
        StringBuilder sb = new StringBuilder(all.length);
        decode(all, 0, all.length - keep, sb);
        pending = java.util.Arrays.copyOfRange(all, all.length - keep, all.length);
        return sb.toString();
    }

    /** Ends the stream: a leftover incomplete sequence becomes one U+FFFD. */
    public String flush() {
        StringBuilder sb = new StringBuilder();
        decode(pending, 0, pending.length, sb);
        pending = new byte[0];
        return sb.toString();
    }

    /** Bytes held back waiting for the rest of a character. */
    public int pendingBytes() {
        return pending.length;
    }

    /** Lossy UTF-8 decoding with one U+FFFD per maximal ill-formed subpart. */
    public static String decode(byte[] b) {
        StringBuilder sb = new StringBuilder(b.length);
        decode(b, 0, b.length, sb);
        return sb.toString();
    }

    static void decode(byte[] b, int off, int end, StringBuilder out) {
        int i = off;
        while (i < end) {
            int lead = b[i] & 0xFF;
            if (lead < 0x80) {
                out.append((char) lead);
                i++;
                continue;
            }
            int need = sequenceLength(lead);
            if (need == 0) {
                out.append('\uFFFD');
                i++;
                continue;
            }
            int cp = lead & (need == 2 ? 0x1F : need == 3 ? 0x0F : 0x07);
            int k = 1;
            while (k < need && i + k < end && inRange(lead, k, b[i + k] & 0xFF)) {
                cp = (cp << 6) | (b[i + k] & 0x3F);
                k++;
            }
            if (k == need) out.appendCodePoint(cp);
            else out.append('\uFFFD');
            i += k;
        }
    }

    /** Length of the sequence a lead byte starts, or 0 if it cannot start one. */
    private static int sequenceLength(int lead) {
        if (lead >= 0xC2 && lead <= 0xDF) return 2;
        if (lead >= 0xE0 && lead <= 0xEF) return 3;
        if (lead >= 0xF0 && lead <= 0xF4) return 4;
        return 0;
    }

    /** Whether byte {@code c} may be continuation number {@code k} (1-based) after {@code lead}. */
    private static boolean inRange(int lead, int k, int c) {
        if (k == 1) {
            if (lead == 0xE0) return c >= 0xA0 && c <= 0xBF;
            if (lead == 0xED) return c >= 0x80 && c <= 0x9F;
            if (lead == 0xF0) return c >= 0x90 && c <= 0xBF;
            if (lead == 0xF4) return c >= 0x80 && c <= 0x8F;
        }
        return c >= 0x80 && c <= 0xBF;
    }

    /** Length of a trailing valid-but-unfinished sequence (0 to 3 bytes) in b[0, len). */
    static int incompleteTail(byte[] b, int len) {
        for (int back = 1; back <= 3 && back <= len; back++) {
            int lead = b[len - back] & 0xFF;
            if (lead >= 0x80 && lead < 0xC0) continue; // a continuation byte: look further back
            int need = sequenceLength(lead);
            if (need <= back) return 0;
            for (int k = 1; k < back; k++) if (!inRange(lead, k, b[len - back + k] & 0xFF)) return 0;
            return back;
        }
        return 0;
    }
}
