package org.finlora.tokenizer;

import org.finlora.FinloraException;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * SentencePiece-style BPE (Llama 2): spaces become "▁", a dummy "▁" prefix is added, the text is
 * split into code points (unknown ones fall back to {@code <0xHH>} byte pieces) and adjacent pairs
 * are merged, best first. "Best" is the highest score of the merged piece (sentencepiece
 * bpe_model.cc, leftmost on ties) or, for an HF tokenizer.json, the lowest merge rank.
 */
public final class SentencePieceBpeTokenizer implements Tokenizer {
    public static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;
    static final String SPACE = "\u2581";

    private final String[] pieces;
    private final float[] scores;
    private final int[] types;
    private final Map<String, Integer> pieceIds = new HashMap<>();
    private final int[] byteIds = new int[256];
    private final PairTable merges;
    /** Id of each single-UTF-16-char piece usable as an initial symbol, else -1 (saves a map lookup per character). */
    private final int[] charIds = new int[65536];
    /**
     * True when no mergeable piece has "▁" right after another character: then no merge can cross the
     * start of a "▁"-word, and each word can be merged on its own (same result, smaller heaps).
     */
    private final boolean wordsAreIndependent;
    private final String[] userDefined;
    private final SpecialTokenMatcher specials;
    private final int unk;
    private final String source;
    private int bos;
    private int eos;
    private final boolean byteFallback;
    private final boolean addDummyPrefix;
    /** HF Metaspace prepend_scheme "first": only a segment at the very start of the text gets the prefix. */
    private final boolean prefixFirstSegmentOnly;
    private final boolean removeExtraWhitespaces;
    private Set<Integer> stops;
    private boolean addsBos;
    private String chatTemplate;

    /**
     * @param scores  per piece (sentencepiece merge order: higher first); ignored when {@code hfMerges} is given
     * @param hfMerges HF merge rules as piece-string pairs in rank order, or null to merge by score
     */
    SentencePieceBpeTokenizer(String[] pieces, float[] scores, int[] types, List<String[]> hfMerges,
                              int unk, int bos, int eos, boolean byteFallback, boolean addDummyPrefix,
                              boolean prefixFirstSegmentOnly, boolean removeExtraWhitespaces,
                              Set<Integer> stops, boolean addsBos, String chatTemplate, String source) {
        this.pieces = pieces;
        this.scores = scores;
        this.types = types;
        this.unk = unk;
        this.source = source;
        this.bos = bos;
        this.eos = eos;
        this.byteFallback = byteFallback;
        this.addDummyPrefix = addDummyPrefix;
        this.prefixFirstSegmentOnly = prefixFirstSegmentOnly;
        this.removeExtraWhitespaces = removeExtraWhitespaces;
        this.stops = Set.copyOf(stops);
        this.addsBos = addsBos;
        this.chatTemplate = chatTemplate;
        Arrays.fill(byteIds, -1);
        Map<String, Integer> specialIds = new LinkedHashMap<>();
        List<String> user = new ArrayList<>();
        for (int id = 0; id < pieces.length; id++) {
            String p = pieces[id];
            if (p == null) continue;
            int t = types[id];
            if (t == BYTE) {
                int b = byteValue(p);
                if (b < 0) throw new FinloraException(source + ": byte piece " + id + " is \"" + p + "\", expected <0xHH>");
                if (byteIds[b] < 0) byteIds[b] = id;
                continue;
            }
            pieceIds.putIfAbsent(p, id);
            if (t == CONTROL || t == UNKNOWN) specialIds.putIfAbsent(p, id);
            if (t == USER_DEFINED) {
                user.add(p);
                specialIds.putIfAbsent(p, id);
            }
        }
        user.sort(Comparator.comparingInt(String::length).reversed());
        userDefined = user.toArray(String[]::new);
        specials = new SpecialTokenMatcher(specialIds);
        if (byteFallback) {
            for (int b = 0; b < 256; b++) {
                if (byteIds[b] < 0) {
                    throw new FinloraException(source + ": byte fallback is on but there is no <0x"
                            + String.format("%02X", b) + "> piece");
                }
            }
        }
        merges = hfMerges != null ? mergesFromRules(hfMerges, source) : mergesFromScores(scores);
        Arrays.fill(charIds, -1);
        boolean independent = true;
        for (int id = 0; id < pieces.length; id++) {
            String p = pieces[id];
            if (p == null || types[id] == CONTROL || types[id] == UNKNOWN || types[id] == BYTE) continue;
            if (p.length() == 1 && charIds[p.charAt(0)] < 0 && pieceIds.get(p) == id) charIds[p.charAt(0)] = id;
            if (mergeable(id)) {
                for (int k = 1; k < p.length(); k++) {
                    if (p.charAt(k) == '\u2581' && p.charAt(k - 1) != '\u2581') independent = false;
                }
            }
        }
        wordsAreIndependent = independent;
    }

    static int byteValue(String p) {
        if (p.length() != 6 || !p.startsWith("<0x") || p.charAt(5) != '>') return -1;
        try {
            return Integer.parseInt(p.substring(3, 5), 16);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private boolean mergeable(int id) {
        return types[id] == NORMAL || types[id] == USER_DEFINED;
    }

    /** sentencepiece: a pair merges when the concatenation is a piece; higher score first, so rank = score order. */
    private PairTable mergesFromScores(float[] scores) {
        Integer[] order = new Integer[pieces.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Float.compare(scores[b], scores[a]));
        int[] rank = new int[pieces.length];
        int r = 0;
        for (int i = 0; i < order.length; i++) {
            if (i > 0 && scores[order[i]] != scores[order[i - 1]]) r++;
            rank[order[i]] = r;
        }
        PairTable table = new PairTable(pieces.length * 4);
        for (int id = 0; id < pieces.length; id++) {
            String p = pieces[id];
            if (p == null || !mergeable(id)) continue;
            for (int k = p.offsetByCodePoints(0, 1); k < p.length(); k = p.offsetByCodePoints(k, 1)) {
                Integer left = pieceIds.get(p.substring(0, k));
                Integer right = pieceIds.get(p.substring(k));
                if (left != null && right != null) table.put(left, right, rank[id], id);
            }
        }
        return table;
    }

    private PairTable mergesFromRules(List<String[]> rules, String source) {
        PairTable table = new PairTable(rules.size());
        for (int i = 0; i < rules.size(); i++) {
            String[] rule = rules.get(i);
            Integer left = pieceIds.get(rule[0]);
            Integer right = pieceIds.get(rule[1]);
            Integer merged = pieceIds.get(rule[0] + rule[1]);
            if (left == null || right == null || merged == null) {
                throw new FinloraException(source + ": merge " + i + " \"" + rule[0] + " " + rule[1]
                        + "\" uses a piece missing from the vocabulary");
            }
            table.put(left, right, i, merged);
        }
        return table;
    }

    // ---- encoding ----

    @Override
    public int[] encode(String text, boolean addBos) {
        IntList out = new IntList();
        if (addBos && bos >= 0) out.add(bos);
        encodeSegment(text, true, out);
        return out.toArray();
    }

    @Override
    public int[] encodeWithSpecials(String text, boolean addBos) {
        IntList out = new IntList();
        if (addBos && bos >= 0) out.add(bos);
        boolean[] atStart = {true};
        specials.split(text, s -> {
            encodeSegment(s, atStart[0], out);
            atStart[0] = false;
        }, id -> {
            out.add(id);
            atStart[0] = false;
        });
        return out.toArray();
    }

    private void encodeSegment(String text, boolean atTextStart, IntList out) {
        if (removeExtraWhitespaces) text = collapseSpaces(text);
        if (text.isEmpty()) return;
        if (addDummyPrefix && (atTextStart || !prefixFirstSegmentOnly)) text = " " + text;
        String s = text.replace(" ", SPACE);
        int[] ids = new int[s.length() * 4];
        int[] wordStarts = new int[s.length() + 1];
        int words = 0;
        int n = 0;
        for (int i = 0; i < s.length(); ) {
            if (wordsAreIndependent && i > 0 && s.charAt(i) == '\u2581' && s.charAt(i - 1) != '\u2581') wordStarts[words++] = n;
            String user = userDefined.length == 0 ? null : matchUserDefined(s, i);
            if (user != null) {
                ids[n++] = pieceIds.get(user);
                i += user.length();
                continue;
            }
            char c = s.charAt(i);
            if (!Character.isSurrogate(c) && charIds[c] >= 0) {
                ids[n++] = charIds[c];
                i++;
                continue;
            }
            int cp = s.codePointAt(i);
            int len = Character.charCount(cp);
            Integer id = pieceIds.get(s.substring(i, i + len));
            if (id != null && types[id] != CONTROL && types[id] != UNKNOWN && types[id] != BYTE) {
                ids[n++] = id;
            } else if (byteFallback) {
                for (byte b : s.substring(i, i + len).getBytes(StandardCharsets.UTF_8)) {
                    if (byteIds[b & 0xFF] < 0) throw unknown(cp);
                    ids[n++] = byteIds[b & 0xFF];
                }
            } else {
                if (unk < 0) throw unknown(cp);
                ids[n++] = unk;
            }
            i += len;
        }
        wordStarts[words++] = n;
        int from = 0;
        for (int w = 0; w < words; w++) {
            int to = wordStarts[w];
            if (to == from) continue;
            int[] word = Arrays.copyOfRange(ids, from, to);
            int m = BpeMerger.merge(word, word.length, merges);
            out.addAll(word, m);
            from = to;
        }
    }

    private String matchUserDefined(String s, int at) {
        for (String u : userDefined) if (s.startsWith(u, at)) return u;
        return null;
    }

    /** sentencepiece remove_extra_whitespaces: trim spaces and squeeze runs to one. */
    private static String collapseSpaces(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        boolean pendingSpace = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == ' ') {
                pendingSpace = !sb.isEmpty();
            } else {
                if (pendingSpace) sb.append(' ');
                pendingSpace = false;
                sb.append(c);
            }
        }
        return sb.toString();
    }

    // ---- decoding ----

    @Override
    public String decode(int[] ids) {
        return decode(ids, id -> id == bos || stops.contains(id));
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        return decode(ids, id -> skipSpecialTokens && isSpecial(id));
    }

    private String decode(int[] ids, java.util.function.IntPredicate skip) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean first = true;
        for (int id : ids) {
            if (skip.test(id)) continue;
            byte[] b = tokenBytes(id);
            // the dummy prefix: the first piece loses its leading space
            int from = first && types[id] == NORMAL && b.length > 0 && b[0] == ' ' && addDummyPrefix ? 1 : 0;
            out.write(b, from, b.length - from);
            first = false;
        }
        return Utf8StreamDecoder.decode(out.toByteArray());
    }

    /** A character with no piece, no byte-fallback piece and no unknown token to stand for it. */
    private FinloraException unknown(int cp) {
        return new FinloraException(source + ": character U+" + String.format("%04X", cp) + " has no token, no byte-fallback token "
                + "and the vocabulary has no unknown token");
    }

    @Override
    public byte[] tokenBytes(int id) {
        if (id < 0 || id >= pieces.length || pieces[id] == null) {
            throw new FinloraException("token id " + id + " is outside the vocabulary of " + pieces.length);
        }
        if (types[id] == BYTE) return new byte[]{(byte) byteValue(pieces[id])};
        String p = pieces[id];
        if (types[id] == NORMAL || types[id] == USER_DEFINED || types[id] == UNUSED) p = p.replace(SPACE, " ");
        return p.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] tokenBytes(int prevId, int id) {
        byte[] b = tokenBytes(id);
        if ((prevId == bos || prevId < 0) && addDummyPrefix && types[id] == NORMAL && b.length > 0 && b[0] == ' ') {
            return Arrays.copyOfRange(b, 1, b.length);
        }
        return b;
    }

    @Override
    public boolean isSpecial(int id) {
        return id >= 0 && id < types.length && (types[id] == CONTROL || types[id] == UNKNOWN);
    }

    @Override
    public int specialTokenId(String text) {
        return specials.id(text);
    }

    /** The piece string of an id ("▁Hello", "<0x0A>", "<s>"). */
    public String piece(int id) {
        return pieces[id];
    }

    /** The piece's score (merge priority; all zero when built from an HF tokenizer.json). */
    public float score(int id) {
        return scores[id];
    }

    /** The piece's SentencePiece type: {@link #NORMAL}, {@link #UNKNOWN}, {@link #CONTROL}, {@link #USER_DEFINED}, {@link #UNUSED}, {@link #BYTE}. */
    public int pieceType(int id) {
        return types[id];
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    @Override
    public int bosId() {
        return bos;
    }

    public int eosId() {
        return eos;
    }

    @Override
    public Set<Integer> stopIds() {
        return stops;
    }

    @Override
    public boolean addsBosByDefault() {
        return addsBos;
    }

    @Override
    public String chatTemplate() {
        return chatTemplate;
    }

    /** Sets BOS, EOS, stop ids, the BOS rule and the chat template (loaders only, before the tokenizer is shared). */
    void configure(int bos, int eos, Set<Integer> stops, boolean addsBos, String chatTemplate) {
        this.bos = bos;
        this.eos = eos;
        this.stops = Set.copyOf(stops);
        this.addsBos = addsBos;
        this.chatTemplate = chatTemplate;
    }
}
