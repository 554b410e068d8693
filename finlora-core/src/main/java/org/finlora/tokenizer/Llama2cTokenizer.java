package org.finlora.tokenizer;

import org.finlora.FinloraException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * llama2.c's {@code tokenizer.bin}: int32 max_token_length, then per token f32 score, int32 length
 * and raw bytes. Encoding follows run.c: BOS, a dummy-prefix " " when the text is non-empty, one
 * token per UTF-8 code point (byte fallback at id byte + 3), then greedy merges of the adjacent pair
 * whose concatenation has the highest score (leftmost on ties).
 */
public final class Llama2cTokenizer implements Tokenizer {
    static final int BOS = 1;
    static final int EOS = 2;

    private final byte[][] pieces;
    private final float[] scores;
    /** Piece bytes as Latin-1 strings (one char per byte) so lookups are exact on raw bytes. */
    private final Map<String, Integer> ids = new HashMap<>();

    public Llama2cTokenizer(byte[][] pieces, float[] scores) {
        this.pieces = pieces;
        this.scores = scores;
        for (int i = 0; i < pieces.length; i++) ids.putIfAbsent(new String(pieces[i], StandardCharsets.ISO_8859_1), i);
    }

    public static Llama2cTokenizer load(Path file, int vocabSize) {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new FinloraException(file + ": cannot read tokenizer (" + e.getMessage() + ")");
        }
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < 4) throw new FinloraException(file + ": too short for a llama2.c tokenizer header");
        b.getInt(); // max_token_length: not needed
        byte[][] pieces = new byte[vocabSize][];
        float[] scores = new float[vocabSize];
        for (int i = 0; i < vocabSize; i++) {
            int at = b.position();
            if (b.remaining() < 8) {
                throw new FinloraException(file + ": ends at offset " + at + " after " + i + " of " + vocabSize
                        + " tokens (does the tokenizer match the model's vocab_size?)");
            }
            scores[i] = b.getFloat();
            int len = b.getInt();
            if (len < 0 || len > b.remaining()) {
                throw new FinloraException(file + ": token " + i + " at offset " + at + " has length " + len
                        + ", past the end of the file");
            }
            pieces[i] = new byte[len];
            b.get(pieces[i]);
        }
        return new Llama2cTokenizer(pieces, scores);
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        List<Integer> toks = new ArrayList<>();
        if (addBos) toks.add(BOS);
        if (!text.isEmpty()) {
            Integer sp = ids.get(" ");
            if (sp != null) toks.add(sp);
        }
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int i = 0;
        while (i < bytes.length) {
            int len = utf8Length(bytes[i]);
            if (i + len > bytes.length) len = 1;
            Integer id = ids.get(new String(bytes, i, len, StandardCharsets.ISO_8859_1));
            if (id != null) {
                toks.add(id);
            } else {
                for (int k = 0; k < len; k++) toks.add((bytes[i + k] & 0xFF) + 3);
            }
            i += len;
        }
        int start = addBos ? 1 : 0;
        int[] t = toks.stream().mapToInt(Integer::intValue).toArray();
        int n = t.length;
        // merge[k]: the token pair (t[k], t[k + 1]) merges into, or -1. A merge changes only the pairs
        // beside it, so only those are looked up again; the scan for the best stays over plain ints.
        int[] merge = new int[Math.max(0, n - 1)];
        for (int k = start; k < n - 1; k++) merge[k] = mergeOf(t[k], t[k + 1]);
        while (true) {
            float best = -1e10f;
            int bestIdx = -1;
            for (int k = start; k < n - 1; k++) {
                int id = merge[k];
                if (id >= 0 && scores[id] > best) {   // the first pair of the highest score, as llama2.c
                    best = scores[id];
                    bestIdx = k;
                }
            }
            if (bestIdx < 0) break;
            t[bestIdx] = merge[bestIdx];
            System.arraycopy(t, bestIdx + 2, t, bestIdx + 1, n - bestIdx - 2);
            if (n - bestIdx - 3 > 0) System.arraycopy(merge, bestIdx + 2, merge, bestIdx + 1, n - bestIdx - 3);
            n--;
            if (bestIdx > start) merge[bestIdx - 1] = mergeOf(t[bestIdx - 1], t[bestIdx]);
            if (bestIdx < n - 1) merge[bestIdx] = mergeOf(t[bestIdx], t[bestIdx + 1]);
        }
        return java.util.Arrays.copyOf(t, n);
    }

    /** The token whose piece is piece(a) + piece(b), or -1; cached per pair (the merge loop asks the same pairs again). */
    private int mergeOf(int a, int b) {
        // Long.hashCode of (a << 32 | b) is a ^ b, which collides for every pair with the same xor (with a
        // 512-token vocabulary, 262K pairs share 512 hashes); multiplying by an odd constant is a bijection
        // on 64 bits that spreads the pair over the hash.
        long key = (((long) a << 32) | (b & 0xFFFFFFFFL)) * 0x9E3779B97F4A7C15L;
        Integer m = mergeCache.get(key);
        if (m == null) {
            Integer id = ids.get(str(a) + str(b));
            m = id == null ? -1 : id;
            mergeCache.put(key, m);
        }
        return m;
    }

    private final java.util.concurrent.ConcurrentHashMap<Long, Integer> mergeCache = new java.util.concurrent.ConcurrentHashMap<>();

    private static int utf8Length(byte lead) {
        int b = lead & 0xFF;
        if (b < 0x80) return 1;
        if ((b & 0xE0) == 0xC0) return 2;
        if ((b & 0xF0) == 0xE0) return 3;
        if ((b & 0xF8) == 0xF0) return 4;
        return 1;
    }

    private String str(int id) {
        return new String(pieces[id], StandardCharsets.ISO_8859_1);
    }

    @Override
    public String decode(int[] toks) {
        var out = new java.io.ByteArrayOutputStream();
        int prev = -1;
        for (int id : toks) {
            if (id != BOS && id != EOS) out.writeBytes(tokenBytes(prev, id));
            prev = id;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] tokenBytes(int id) {
        byte[] p = pieces[id];
        // "<0xHH>" pieces stand for one raw byte.
        if (p.length == 6 && p[0] == '<' && p[1] == '0' && p[2] == 'x' && p[5] == '>') {
            int v = Integer.parseInt(new String(p, 3, 2, StandardCharsets.ISO_8859_1), 16);
            return new byte[]{(byte) v};
        }
        return p;
    }

    @Override
    public byte[] tokenBytes(int prevId, int id) {
        byte[] p = tokenBytes(id);
        if (prevId == BOS && p.length > 0 && p[0] == ' ') return java.util.Arrays.copyOfRange(p, 1, p.length);
        return p;
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    @Override
    public int bosId() {
        return BOS;
    }

    /** llama2.c stops at EOS and also at BOS, which delimits stories in its training data. */
    @Override
    public Set<Integer> stopIds() {
        return Set.of(BOS, EOS);
    }

    @Override
    public boolean addsBosByDefault() {
        return true;
    }
}
