package org.finlora.model;

import org.finlora.tokenizer.Tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/** The tokenizer of synthetic models: ids 0-255 are bytes, 256 is BOS, 257 EOS; higher ids stand for nothing. */
public final class ByteTokenizer implements Tokenizer {
    public static final int BOS = 256;
    public static final int EOS = 257;
    private final int vocabSize;

    public ByteTokenizer(int vocabSize) {
        if (vocabSize < 258) throw new IllegalArgumentException("a byte tokenizer needs a vocabulary of at least 258, got " + vocabSize);
        this.vocabSize = vocabSize;
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int o = addBos ? 1 : 0;
        int[] ids = new int[b.length + o];
        if (addBos) ids[0] = BOS;
        for (int i = 0; i < b.length; i++) ids[i + o] = b[i] & 0xFF;
        return ids;
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) out.writeBytes(tokenBytes(id));
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] tokenBytes(int id) {
        return id >= 0 && id < 256 ? new byte[]{(byte) id} : new byte[0];
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public int bosId() {
        return BOS;
    }

    @Override
    public Set<Integer> stopIds() {
        return Set.of(EOS);
    }

    @Override
    public boolean addsBosByDefault() {
        return true;
    }
}
