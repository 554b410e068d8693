package org.finlora.tokenizer;

import org.finlora.FinloraException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
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
        if (pieces.length < MIN_VOCAB) {
            throw new FinloraException("a llama2.c tokenizer needs at least " + MIN_VOCAB + " tokens (<unk>, <s>, </s> and 256 byte fallbacks), got " + pieces.length);
        }
        this.pieces = pieces;
        this.scores = scores;
        for (int i = 0; i < pieces.length; i++) ids.putIfAbsent(new String(pieces[i], StandardCharsets.ISO_8859_1), i);
    }

    /** 3 specials, then one byte-fallback token per byte value at id byte + 3 (run.c's encode relies on it). */
    static final int MIN_VOCAB = 259;
    /** Longest piece accepted (llama2.c's own tokenizers stay under 64 bytes). */
    static final int MAX_PIECE_BYTES = 1 << 16;

    public static Llama2cTokenizer load(Path file, int vocabSize) {
        if (vocabSize < MIN_VOCAB) {
            throw new FinloraException(file + ": the model's vocab_size " + vocabSize + " is too small for a llama2.c tokenizer (at least "
                    + MIN_VOCAB + ": <unk>, <s>, </s> and 256 byte fallbacks)");
        }
        byte[] all = org.finlora.io.InputFiles.readBytes(file, org.finlora.io.InputFiles.TOKENIZER, "llama2.c tokenizer");
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < 4) throw new FinloraException(file + ": too short for a llama2.c tokenizer header");
        b.getInt(); // max_token_length: not needed
        // every token takes at least 8 bytes: a vocab_size the file cannot hold fails before allocating for it
        if ((long) vocabSize * 8 > b.remaining()) {
            throw new FinloraException(file + ": " + all.length + " bytes cannot hold " + vocabSize
                    + " tokens (does the tokenizer match the model's vocab_size?)");
        }
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
            if (len < 0 || len > b.remaining() || len > MAX_PIECE_BYTES) {
                throw new FinloraException(file + ": token " + i + " at offset " + at + " has length " + len
                        + (len > MAX_PIECE_BYTES && len <= b.remaining() ? " (at most " + MAX_PIECE_BYTES + ")" : ", past the end of the file"));
            }
            if (!Float.isFinite(scores[i])) throw new FinloraException(file + ": token " + i + " at offset " + at + " has score " + scores[i]);
            pieces[i] = new byte[len];
            b.get(pieces[i]);
        }
        return new Llama2cTokenizer(pieces, scores);
    }

    /**
     * run.c's encode with the same result in O(n log n): merges come off a heap ordered by score
     * (highest first) then position (leftmost first) over a linked list of tokens; a heap entry
     * whose pair has changed since it was pushed is skipped when it surfaces.
     */
    @Override
    public int[] encode(String text, boolean addBos) {
        IntList toks = new IntList();
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
        int[] t = toks.toArray();
        int n = t.length;
        int[] next = new int[n], prev = new int[n], version = new int[n];
        for (int k = 0; k < n; k++) {
            next[k] = k + 1 < n ? k + 1 : -1;
            prev[k] = k - 1;
        }
        java.util.PriorityQueue<Candidate> heap = new java.util.PriorityQueue<>();
        for (int k = start; k + 1 < n; k++) push(heap, t, version, k, k + 1);
        boolean[] gone = new boolean[n];
        while (!heap.isEmpty()) {
            Candidate c = heap.poll();
            if (gone[c.left] || gone[c.right] || next[c.left] != c.right || version[c.left] != c.leftVersion
                    || version[c.right] != c.rightVersion) continue;
            t[c.left] = c.id;
            version[c.left]++;
            gone[c.right] = true;
            int after = next[c.right];
            next[c.left] = after;
            if (after >= 0) prev[after] = c.left;
            if (prev[c.left] >= start) push(heap, t, version, prev[c.left], c.left);
            if (after >= 0) push(heap, t, version, c.left, after);
        }
        int[] out = new int[n];
        int m = 0;
        for (int k = 0; k >= 0 && k < n; k = next[k]) out[m++] = t[k];
        return java.util.Arrays.copyOf(out, m);
    }

    /** A possible merge of the adjacent tokens at list positions left and right, as they were when pushed. */
    private record Candidate(float score, int left, int right, int id, int leftVersion, int rightVersion) implements Comparable<Candidate> {
        @Override
        public int compareTo(Candidate o) {
            int s = Float.compare(o.score, score);   // highest score first
            return s != 0 ? s : Integer.compare(left, o.left);   // then leftmost, as run.c's first-best scan
        }
    }

    private void push(java.util.PriorityQueue<Candidate> heap, int[] t, int[] version, int left, int right) {
        int id = mergeOf(t[left], t[right]);
        if (id >= 0) heap.add(new Candidate(scores[id], left, right, id, version[left], version[right]));
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
            int hi = Character.digit(p[3], 16), lo = Character.digit(p[4], 16);
            if (hi >= 0 && lo >= 0) return new byte[]{(byte) (hi * 16 + lo)};
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
