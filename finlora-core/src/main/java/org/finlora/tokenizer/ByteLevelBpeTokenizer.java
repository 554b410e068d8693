package org.finlora.tokenizer;

import org.finlora.FinloraException;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte-level BPE as used by Llama 3 (tiktoken ranks, HF tokenizer.json "BPE" with a ByteLevel
 * pre-tokenizer, GGUF "gpt2"). Text is split by a regex into pieces; each piece's UTF-8 bytes are
 * looked up whole (tiktoken; HF {@code ignore_merges}) and otherwise merged from single bytes,
 * lowest rank first. Special tokens are only recognised by {@link #encodeWithSpecials}.
 * Loaded from Meta's tiktoken file it also cuts the input as Meta's reference does (400,000-character
 * chunks, whitespace/non-whitespace runs of at most 25,000); the HF and GGUF paths do not, as HF doesn't.
 */
public final class ByteLevelBpeTokenizer implements Tokenizer {
    /** Llama 3 pre-tokenizer regex (llama-models models/llama3/tokenizer.py {@code pat_str}). */
    public static final String LLAMA3_SPLIT =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** GPT-2 pre-tokenizer regex (HF ByteLevel pre-tokenizer with use_regex). */
    public static final String GPT2_SPLIT =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /** Meta's reference chunking (llama-models tokenizer.py): 400k-character chunks, runs capped at 25k. */
    static final int MAX_ENCODE_CHARS = 400_000;
    static final int MAX_RUN_CHARS = 25_000;

    private final byte[][] tokenBytes;
    private final boolean[] special;
    private final ByteSliceMap vocab;
    private final int[] byteIds = new int[256];
    private final BpeMerger.PairRanker ranker;
    private final boolean wholePieceFirst;
    private final boolean metaChunking;
    private final boolean addPrefixSpace;
    private final Pattern split;
    private final String source, splitRegex;
    /** The Llama 3 regex is matched by {@link Llama3PreTokenizer} instead of java.util.regex (same pieces, faster). */
    private final boolean fastLlama3Split;
    private final SpecialTokenMatcher specials;
    private int bos;
    private Set<Integer> stops;
    private boolean addsBos;
    private String chatTemplate;

    /**
     * @param tokenBytes   per id: the raw bytes of a regular token, or the UTF-8 text of a special token (null = unused id)
     * @param special      per id: whether it is a special/added token (never produced by BPE)
     * @param merges       pair → (rank, merged id); null means tiktoken: a pair's rank is the id of its concatenation
     */
    ByteLevelBpeTokenizer(byte[][] tokenBytes, boolean[] special, PairTable merges, boolean wholePieceFirst,
                          boolean metaChunking, boolean addPrefixSpace, String splitRegex, int bos,
                          Set<Integer> stops, boolean addsBos, String chatTemplate, String source) {
        this.tokenBytes = tokenBytes;
        this.special = special;
        this.wholePieceFirst = wholePieceFirst;
        this.metaChunking = metaChunking;
        this.addPrefixSpace = addPrefixSpace;
        this.bos = bos;
        this.stops = Set.copyOf(stops);
        this.addsBos = addsBos;
        this.chatTemplate = chatTemplate;
        try {
            this.split = Pattern.compile(splitRegex, Pattern.UNICODE_CHARACTER_CLASS);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new FinloraException(source + ": pre-tokenizer regex does not compile in Java (" + e.getDescription() + ")");
        }
        this.fastLlama3Split = splitRegex.equals(LLAMA3_SPLIT);
        this.source = source;
        this.splitRegex = splitRegex;
        vocab = new ByteSliceMap(tokenBytes.length);
        Map<String, Integer> specialIds = new LinkedHashMap<>();
        for (int id = 0; id < tokenBytes.length; id++) {
            if (tokenBytes[id] == null) continue;
            if (special[id]) specialIds.putIfAbsent(new String(tokenBytes[id], StandardCharsets.UTF_8), id);
            else vocab.putIfAbsent(tokenBytes[id], id);
        }
        specials = new SpecialTokenMatcher(specialIds);
        for (int b = 0; b < 256; b++) {
            byteIds[b] = vocab.get(new byte[]{(byte) b}, 0, 1);
            if (byteIds[b] < 0) {
                throw new FinloraException(source + ": byte-level vocabulary has no token for byte 0x"
                        + String.format("%02X", b));
            }
        }
        if (merges != null) {
            this.ranker = merges;
        } else {
            this.ranker = (l, r) -> {
                int id = vocab.getConcat(this.tokenBytes[l], this.tokenBytes[r]);
                return id < 0 ? -1 : ((long) id << 32) | id;
            };
        }
    }

    /** Llama 3.1 special-token names for ids base+0 .. base+255 (transformers DEFAULT_LLAMA_SPECIAL_TOKENS["3.1"]). */
    public static List<String> llama31SpecialTokens() {
        List<String> names = new ArrayList<>(List.of("<|begin_of_text|>", "<|end_of_text|>",
                "<|reserved_special_token_0|>", "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>",
                "<|reserved_special_token_2|>", "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>",
                "<|eot_id|>", "<|python_tag|>"));
        for (int k = 3; names.size() < 256; k++) names.add("<|reserved_special_token_" + k + "|>");
        return names;
    }

    /**
     * Meta's tiktoken {@code tokenizer.model}: lines "base64(bytes) rank". The 256 Llama 3.1 special
     * tokens follow the last rank; BOS {@code <|begin_of_text|>}; stops end_of_text, eom_id, eot_id.
     */
    public static ByteLevelBpeTokenizer fromTiktoken(byte[] file, String source) {
        String text = new String(file, StandardCharsets.US_ASCII);
        List<byte[]> ranks = new ArrayList<>();
        int lineNo = 0;
        for (int at = 0; at < text.length(); ) {
            int eol = text.indexOf('\n', at);
            if (eol < 0) eol = text.length();
            String line = text.substring(at, eol).strip();
            at = eol + 1;
            lineNo++;
            if (line.isEmpty()) continue;
            int sp = line.indexOf(' ');
            if (sp <= 0) throw new FinloraException(source + ": line " + lineNo + " is not \"base64 rank\"");
            byte[] bytes;
            int rank;
            try {
                bytes = Base64.getDecoder().decode(line.substring(0, sp));
                rank = Integer.parseInt(line.substring(sp + 1).strip());
            } catch (IllegalArgumentException e) {
                throw new FinloraException(source + ": line " + lineNo + " is not \"base64 rank\" (" + e.getMessage() + ")");
            }
            if (rank != ranks.size()) {
                throw new FinloraException(source + ": line " + lineNo + " has rank " + rank + ", expected " + ranks.size());
            }
            if (bytes.length == 0) throw new FinloraException(source + ": line " + lineNo + " has an empty token");
            ranks.add(bytes);
        }
        if (ranks.size() < 256) throw new FinloraException(source + ": only " + ranks.size() + " ranks, not a tiktoken BPE file");
        int base = ranks.size();
        List<String> names = llama31SpecialTokens();
        byte[][] tokens = new byte[base + names.size()][];
        boolean[] special = new boolean[tokens.length];
        for (int i = 0; i < base; i++) tokens[i] = ranks.get(i);
        for (int i = 0; i < names.size(); i++) {
            tokens[base + i] = names.get(i).getBytes(StandardCharsets.UTF_8);
            special[base + i] = true;
        }
        // begin_of_text, end_of_text, eom_id, eot_id
        return new ByteLevelBpeTokenizer(tokens, special, null, true, true, false, LLAMA3_SPLIT, base,
                Set.of(base + 1, base + 8, base + 9), true, null, source);
    }

    // ---- encoding ----

    @Override
    public int[] encode(String text, boolean addBos) {
        IntList out = new IntList();
        if (addBos && bos >= 0) out.add(bos);
        encodeOrdinary(text, out);
        return out.toArray();
    }

    /** Encodes text in which special-token texts such as {@code <|eot_id|>} stand for their ids (chat templates). */
    @Override
    public int[] encodeWithSpecials(String text, boolean addBos) {
        IntList out = new IntList();
        if (addBos && bos >= 0) out.add(bos);
        specials.split(text, s -> encodeOrdinary(s, out), out::add);
        return out.toArray();
    }

    private void encodeOrdinary(String text, IntList out) {
        if (addPrefixSpace && !text.isEmpty() && text.charAt(0) != ' ') text = " " + text;
        if (!metaChunking) {
            encodeSplit(text, out);
            return;
        }
        int cps = text.codePointCount(0, text.length());
        int start = 0;
        for (int c = 0; c < cps; c += MAX_ENCODE_CHARS) {
            int end = text.offsetByCodePoints(start, Math.min(MAX_ENCODE_CHARS, cps - c));
            splitLongRuns(text.substring(start, end), out);
            start = end;
        }
    }

    /** Python str.isspace(): White_Space-like characters (Zs, Zl, Zp, bidi WS/B/S controls). */
    static boolean isPythonSpace(int cp) {
        if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
        return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
    }

    /** Cuts a chunk so no run of whitespace or non-whitespace exceeds {@link #MAX_RUN_CHARS} code points. */
    private void splitLongRuns(String s, IntList out) {
        int runLen = 0;
        boolean runIsSpace = !s.isEmpty() && isPythonSpace(s.codePointAt(0));
        int sliceStart = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            boolean space = isPythonSpace(cp);
            if (runIsSpace != space) {
                runLen = 1;
                runIsSpace = space;
            } else if (++runLen > MAX_RUN_CHARS) {
                encodeSplit(s.substring(sliceStart, i), out);
                sliceStart = i;
                runLen = 1;
            }
            i += Character.charCount(cp);
        }
        encodeSplit(s.substring(sliceStart), out);
    }

    private void encodeSplit(String text, IntList out) {
        Scratch scratch = new Scratch();
        if (fastLlama3Split) {
            Llama3PreTokenizer.split(text, 0, text.length(), (start, end) -> encodePiece(text, start, end, out, scratch));
            return;
        }
        Matcher m = split.matcher(text);
        int last = 0;
        try {
            while (m.find()) {
                if (m.end() == m.start()) continue;
                if (m.start() > last) encodePiece(text, last, m.start(), out, scratch);
                encodePiece(text, m.start(), m.end(), out, scratch);
                last = m.end();
            }
        } catch (StackOverflowError e) {
            // java.util.regex recurses once per repetition of a group such as (?:.|\n)*: a long input overflows the stack
            throw new FinloraException(source + ": the pre-tokenizer Split regex " + HfTokenizerJson.quote(splitRegex) + " recursed too deep on a "
                    + text.length() + "-character text; use a regex without a repeated alternation (e.g. (?s).* instead of (?:.|\\n)*)");
        }
        if (last < text.length()) encodePiece(text, last, text.length(), out, scratch);
    }

    /** Per-call buffers so encoding allocates little per piece (and the tokenizer stays thread-safe). */
    private static final class Scratch {
        byte[] bytes = new byte[64];
        int[] ids = new int[64];
    }

    private void encodePiece(String text, int start, int end, IntList out, Scratch sc) {
        if (sc.bytes.length < (end - start) * 3) {
            sc.bytes = new byte[(end - start) * 3];
            sc.ids = new int[(end - start) * 3];
        }
        int n = utf8(text, start, end, sc.bytes);
        byte[] b = sc.bytes;
        if (wholePieceFirst) {
            int id = vocab.get(b, 0, n);
            if (id >= 0) {
                out.add(id);
                return;
            }
        }
        int[] ids = sc.ids;
        for (int i = 0; i < n; i++) ids[i] = byteIds[b[i] & 0xFF];
        int m = BpeMerger.merge(ids, n, ranker);
        out.addAll(ids, m);
    }

    /** UTF-8 of text[start, end) into dst (at most 3 bytes per char); a lone surrogate becomes '?' as String.getBytes does. */
    static int utf8(String text, int start, int end, byte[] dst) {
        int n = 0;
        for (int i = start; i < end; i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                dst[n++] = (byte) c;
            } else if (c < 0x800) {
                dst[n++] = (byte) (0xC0 | (c >> 6));
                dst[n++] = (byte) (0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(text.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, text.charAt(++i));
                dst[n++] = (byte) (0xF0 | (cp >> 18));
                dst[n++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                dst[n++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                dst[n++] = (byte) (0x80 | (cp & 0x3F));
            } else if (Character.isSurrogate(c)) {
                dst[n++] = '?';
            } else {
                dst[n++] = (byte) (0xE0 | (c >> 12));
                dst[n++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                dst[n++] = (byte) (0x80 | (c & 0x3F));
            }
        }
        return n;
    }

    // ---- decoding ----

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) {
            if (id == bos || stops.contains(id)) continue;
            out.writeBytes(tokenBytes(id));
        }
        return Utf8StreamDecoder.decode(out.toByteArray());
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) {
            if (skipSpecialTokens && isSpecial(id)) continue;
            out.writeBytes(tokenBytes(id));
        }
        return Utf8StreamDecoder.decode(out.toByteArray());
    }

    @Override
    public byte[] tokenBytes(int id) {
        if (id < 0 || id >= tokenBytes.length || tokenBytes[id] == null) {
            throw new FinloraException("token id " + id + " is outside the vocabulary of " + tokenBytes.length);
        }
        return tokenBytes[id].clone();
    }

    @Override
    public boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    @Override
    public int specialTokenId(String text) {
        return specials.id(text);
    }

    @Override
    public int vocabSize() {
        return tokenBytes.length;
    }

    @Override
    public int bosId() {
        return bos;
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

    /** Sets BOS, stop ids, the BOS rule and the chat template (loaders only, before the tokenizer is shared). */
    void configure(int bos, Set<Integer> stops, boolean addsBos, String chatTemplate) {
        this.bos = bos;
        this.stops = Set.copyOf(stops);
        this.addsBos = addsBos;
        this.chatTemplate = chatTemplate;
    }
}
