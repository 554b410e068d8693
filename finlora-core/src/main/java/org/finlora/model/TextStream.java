package org.finlora.model;

import org.finlora.tokenizer.Tokenizer;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Turns generated token ids into text as they come: each token's bytes (as it follows the previous
 * token) go through an incremental UTF-8 decoder, so a character split across tokens is emitted
 * once complete and invalid bytes become U+FFFD.
 */
public final class TextStream {
    private final Tokenizer tokenizer;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
    private ByteBuffer pending = ByteBuffer.allocate(0);
    private int prev;

    /** prevId: the last token before the streamed ones (e.g. the last prompt token), -1 for none. */
    public TextStream(Tokenizer tokenizer, int prevId) {
        this.tokenizer = tokenizer;
        this.prev = prevId;
    }

    /** The text completed by token id (possibly empty). */
    public String push(int id) {
        byte[] b = tokenizer.tokenBytes(prev, id);
        prev = id;
        ByteBuffer in = ByteBuffer.allocate(pending.remaining() + b.length);
        in.put(pending).put(b).flip();
        CharBuffer out = CharBuffer.allocate(in.remaining() + 2);
        decoder.decode(in, out, false);
        pending = in.slice();
        return out.flip().toString();
    }

    /** Whatever is left at the end (an incomplete character becomes U+FFFD). */
    public String finish() {
        CharBuffer out = CharBuffer.allocate(pending.remaining() + 2);
        decoder.decode(pending, out, true);
        decoder.flush(out);
        pending = ByteBuffer.allocate(0);
        decoder.reset();
        return out.flip().toString();
    }
}
