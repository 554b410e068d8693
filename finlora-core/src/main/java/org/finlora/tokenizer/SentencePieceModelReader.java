package org.finlora.tokenizer;

import org.finlora.FinloraException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Reads a SentencePiece {@code tokenizer.model} (protobuf ModelProto) without a protobuf library:
 * pieces (field 1: piece=1, score=2, type=3), trainer_spec (field 2: model_type=3, byte_fallback=35,
 * unk/bos/eos_id=40/41/42) and normalizer_spec (field 3: name=1, add_dummy_prefix=3,
 * remove_extra_whitespaces=4, escape_whitespaces=5).
 */
final class SentencePieceModelReader {
    private final byte[] buf;
    private final String source;
    private int pos;

    private SentencePieceModelReader(byte[] buf, String source) {
        this.buf = buf;
        this.source = source;
    }

    static SentencePieceBpeTokenizer read(byte[] file, String source) {
        return new SentencePieceModelReader(file, source).readModel();
    }

    private SentencePieceBpeTokenizer readModel() {
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        int modelType = 1, unk = 0, bos = 1, eos = 2;
        boolean byteFallback = false, addDummyPrefix = true, removeExtra = true, escapeWs = true;
        String normalizer = "";
        pos = 0;
        while (pos < buf.length) {
            long tag = varint();
            int field = (int) (tag >>> 3), wire = (int) (tag & 7);
            if (field == 1 && wire == 2) {
                int end = lengthEnd();
                String piece = null;
                float score = 0;
                int type = SentencePieceBpeTokenizer.NORMAL;
                while (pos < end) {
                    long t = varint();
                    int f = (int) (t >>> 3), w = (int) (t & 7);
                    if (f == 1 && w == 2) {
                        int e = lengthEnd();
                        piece = new String(buf, pos, e - pos, StandardCharsets.UTF_8);
                        pos = e;
                    } else if (f == 2 && w == 5) {
                        score = Float.intBitsToFloat(fixed32());
                    } else if (f == 3 && w == 0) {
                        type = (int) varint();
                    } else {
                        skip(w);
                    }
                }
                checkEnd(end);
                if (piece == null) throw error("piece " + pieces.size() + " has no text");
                pieces.add(piece);
                scores.add(score);
                types.add(type);
            } else if (field == 2 && wire == 2) {
                int end = lengthEnd();
                while (pos < end) {
                    long t = varint();
                    int f = (int) (t >>> 3), w = (int) (t & 7);
                    if (w == 0 && f == 3) modelType = (int) varint();
                    else if (w == 0 && f == 35) byteFallback = varint() != 0;
                    else if (w == 0 && f == 40) unk = (int) varint();
                    else if (w == 0 && f == 41) bos = (int) varint();
                    else if (w == 0 && f == 42) eos = (int) varint();
                    else skip(w);
                }
                checkEnd(end);
            } else if (field == 3 && wire == 2) {
                int end = lengthEnd();
                while (pos < end) {
                    long t = varint();
                    int f = (int) (t >>> 3), w = (int) (t & 7);
                    if (f == 1 && w == 2) {
                        int e = lengthEnd();
                        normalizer = new String(buf, pos, e - pos, StandardCharsets.UTF_8);
                        pos = e;
                    } else if (w == 0 && f == 3) addDummyPrefix = varint() != 0;
                    else if (w == 0 && f == 4) removeExtra = varint() != 0;
                    else if (w == 0 && f == 5) escapeWs = varint() != 0;
                    else skip(w);
                }
                checkEnd(end);
            } else {
                skip(wire);
            }
        }
        if (pieces.isEmpty()) throw error("no pieces (is this a SentencePiece model?)");
        if (modelType != 2) {
            throw error("trainer_spec.model_type is " + modelType + " (1=UNIGRAM, 2=BPE); only BPE models are supported");
        }
        if (!normalizer.isEmpty() && !normalizer.equals("identity")) {
            throw error("normalizer_spec.name is \"" + normalizer + "\"; only \"identity\" is supported");
        }
        if (!escapeWs) throw error("normalizer_spec.escape_whitespaces=false is not supported");
        int n = pieces.size();
        float[] s = new float[n];
        int[] ty = new int[n];
        for (int i = 0; i < n; i++) {
            s[i] = scores.get(i);
            ty[i] = types.get(i);
        }
        Set<Integer> stops = eos >= 0 && eos < n ? Set.of(eos) : Set.of();
        return new SentencePieceBpeTokenizer(pieces.toArray(String[]::new), s, ty, null, unk,
                bos >= 0 && bos < n ? bos : -1, eos >= 0 && eos < n ? eos : -1, byteFallback, addDummyPrefix,
                false, removeExtra, stops, bos >= 0 && bos < n, null, source);
    }

    private FinloraException error(String what) {
        return new FinloraException(source + ": " + what);
    }

    private long varint() {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= buf.length) throw error("truncated varint at offset " + pos);
            int b = buf[pos++] & 0xFF;
            v |= (long) (b & 0x7F) << shift;
            if (b < 0x80) return v;
        }
        throw error("malformed varint ending at offset " + pos);
    }

    private int fixed32() {
        if (pos + 4 > buf.length) throw error("truncated fixed32 at offset " + pos);
        int v = (buf[pos] & 0xFF) | (buf[pos + 1] & 0xFF) << 8 | (buf[pos + 2] & 0xFF) << 16 | (buf[pos + 3] & 0xFF) << 24;
        pos += 4;
        return v;
    }

    /** Reads a length prefix and returns the end offset of the field, checked against the file. */
    private int lengthEnd() {
        int at = pos;
        long len = varint();
        if (len < 0 || len > buf.length - pos) throw error("field length " + len + " at offset " + at + " runs past the end");
        return pos + (int) len;
    }

    private void checkEnd(int end) {
        if (pos != end) throw error("nested message overruns its length at offset " + pos);
    }

    private void skip(int wire) {
        switch (wire) {
            case 0 -> varint();
            case 1 -> {
                if (pos + 8 > buf.length) throw error("truncated fixed64 at offset " + pos);
                pos += 8;
            }
            case 2 -> pos = lengthEnd();
            case 5 -> fixed32();
            default -> throw error("unknown protobuf wire type " + wire + " at offset " + pos);
        }
    }
}
