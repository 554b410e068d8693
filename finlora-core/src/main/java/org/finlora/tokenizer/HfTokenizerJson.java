package org.finlora.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import org.finlora.FinloraException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds a tokenizer from an HF {@code tokenizer.json} whose model is "BPE": byte-level (a
 * ByteLevel pre-tokenizer, Llama 3) or SentencePiece-style (Prepend/Replace "▁" normalizer or
 * Metaspace, byte_fallback; Llama 2).
 */
final class HfTokenizerJson {
    /** Token ids above this are refused before anything is allocated for them (real vocabularies stay under 10^6). */
    static final int MAX_VOCAB = 10_000_000;

    private HfTokenizerJson() {
    }

    /** A value from the file, quoted for a one-line message (control characters escaped, long values cut). */
    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length() && i < 120; i++) {
            char ch = s.charAt(i);
            if (ch < 0x20 || ch == 0x7f) b.append(String.format("\\u%04x", (int) ch));
            else b.append(ch);
        }
        return b.append(s.length() > 120 ? "...\"" : "\"").toString();
    }

    static Tokenizer build(JsonNode root, String source) {
        JsonNode model = root.path("model");
        String type = model.path("type").asText("");
        if (!type.equals("BPE")) {
            throw new FinloraException(source + ": model.type is \"" + type + "\"; only \"BPE\" tokenizers are supported");
        }
        JsonNode vocab = model.path("vocab");
        if (!vocab.isObject() || vocab.isEmpty()) throw new FinloraException(source + ": model.vocab is missing or empty");
        List<String[]> merges = readMerges(model.path("merges"), source);

        int size = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            var e = it.next();
            JsonNode id = e.getValue();
            if (!id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0 || id.intValue() >= MAX_VOCAB) {
                throw new FinloraException(source + ": model.vocab[" + quote(e.getKey()) + "] = " + quote(id.toString())
                        + " is not a token id in [0, " + MAX_VOCAB + ")");
            }
            size = Math.max(size, id.intValue() + 1);
        }
        JsonNode added = root.path("added_tokens");
        if (!added.isMissingNode() && !added.isNull() && !added.isArray()) throw new FinloraException(source + ": added_tokens is not an array");
        for (JsonNode a : added) {
            JsonNode id = a.path("id");
            if (!id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0 || id.intValue() >= MAX_VOCAB
                    || !a.path("content").isTextual() || a.path("content").textValue().isEmpty()) {
                throw new FinloraException(source + ": added_tokens entry " + quote(a.toString()) + " needs a token id in [0, " + MAX_VOCAB
                        + ") and a non-empty content string");
            }
            size = Math.max(size, id.intValue() + 1);
        }

        boolean byteLevel = hasType(root.path("pre_tokenizer"), "ByteLevel") || hasType(root.path("decoder"), "ByteLevel");
        String bosText = templateSpecialToken(root.path("post_processor"));
        if (byteLevel) return buildByteLevel(root, vocab, merges, added, size, bosText, source);
        return buildSentencePiece(root, vocab, merges, added, size, bosText, source);
    }

    private static List<String[]> readMerges(JsonNode node, String source) {
        List<String[]> merges = new ArrayList<>();
        int i = 0;
        for (JsonNode m : node) {
            if (m.isTextual()) {
                String s = m.asText();
                int sp = s.indexOf(' ', 1);
                if (sp < 0) throw new FinloraException(source + ": model.merges[" + i + "] \"" + s + "\" is not \"a b\"");
                merges.add(new String[]{s.substring(0, sp), s.substring(sp + 1)});
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                merges.add(new String[]{m.get(0).asText(), m.get(1).asText()});
            } else {
                throw new FinloraException(source + ": model.merges[" + i + "] is neither \"a b\" nor [a, b]");
            }
            i++;
        }
        return merges;
    }

    /** Whether a component (or one inside a Sequence) has this type. */
    private static boolean hasType(JsonNode node, String type) {
        return find(node, type) != null;
    }

    private static JsonNode find(JsonNode node, String type) {
        if (node == null || node.isMissingNode() || node.isNull()) return null;
        if (type.equals(node.path("type").asText())) return node;
        for (String list : new String[]{"pretokenizers", "normalizers", "decoders", "processors"}) {
            for (JsonNode child : node.path(list)) {
                JsonNode f = find(child, type);
                if (f != null) return f;
            }
        }
        return null;
    }

    /** The special token a TemplateProcessing post-processor puts before sequence A (the BOS it adds), or null. */
    private static String templateSpecialToken(JsonNode post) {
        JsonNode tp = find(post, "TemplateProcessing");
        if (tp == null) return null;
        for (JsonNode piece : tp.path("single")) {
            if (piece.has("Sequence")) return null;
            if (piece.has("SpecialToken")) return piece.path("SpecialToken").path("id").asText(null);
        }
        return null;
    }

    private static ByteLevelBpeTokenizer buildByteLevel(JsonNode root, JsonNode vocab, List<String[]> merges,
                                                        JsonNode added, int size, String bosText, String source) {
        byte[][] tokens = new byte[size][];
        boolean[] special = new boolean[size];
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            var e = it.next();
            byte[] b = ByteLevelAlphabet.decode(e.getKey());
            if (b == null || b.length == 0) {
                throw new FinloraException(source + ": vocab entry \"" + e.getKey() + "\" is not a byte-level token");
            }
            tokens[e.getValue().asInt()] = b;
        }
        for (JsonNode a : added) {
            int id = a.path("id").asInt();
            tokens[id] = a.path("content").asText().getBytes(StandardCharsets.UTF_8);
            special[id] = true;
        }
        PairTable table = new PairTable(merges.size());
        Map<String, Integer> ids = new java.util.HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            var e = it.next();
            ids.put(e.getKey(), e.getValue().asInt());
        }
        for (int i = 0; i < merges.size(); i++) {
            String[] m = merges.get(i);
            Integer l = ids.get(m[0]), r = ids.get(m[1]), merged = ids.get(m[0] + m[1]);
            if (l == null || r == null || merged == null) {
                throw new FinloraException(source + ": merge " + i + " \"" + m[0] + " " + m[1] + "\" uses a token missing from the vocab");
            }
            table.put(l, r, i, merged);
        }
        // Pre-tokenizer: a Split regex (Llama 3) or ByteLevel's own GPT-2 regex.
        String regex = null;
        JsonNode splitNode = find(root.path("pre_tokenizer"), "Split");
        if (splitNode != null) {
            JsonNode pat = splitNode.path("pattern");
            if (pat.has("Regex")) regex = pat.path("Regex").asText();
            else if (pat.has("String")) regex = java.util.regex.Pattern.quote(pat.path("String").asText());
            String behavior = splitNode.path("behavior").asText("Isolated");
            if (!behavior.equals("Isolated") || splitNode.path("invert").asBoolean(false)) {
                throw new FinloraException(source + ": Split pre-tokenizer behavior " + behavior + " is not supported (only Isolated)");
            }
        }
        JsonNode bl = find(root.path("pre_tokenizer"), "ByteLevel");
        boolean addPrefixSpace = bl != null && bl.path("add_prefix_space").asBoolean(false);
        if (regex == null) {
            regex = bl != null && !bl.path("use_regex").asBoolean(true) ? "(?s).+" : ByteLevelBpeTokenizer.GPT2_SPLIT;
        }
        boolean ignoreMerges = root.path("model").path("ignore_merges").asBoolean(false);
        int bos = idOfAdded(added, bosText != null ? bosText : "<|begin_of_text|>");
        Set<Integer> stops = new java.util.HashSet<>();
        for (String n : new String[]{"<|end_of_text|>", "<|eom_id|>", "<|eot_id|>"}) {
            int id = idOfAdded(added, n);
            if (id >= 0) stops.add(id);
        }
        return new ByteLevelBpeTokenizer(tokens, special, table, ignoreMerges, false, addPrefixSpace,
                regex, bos, stops, bosText != null, null, source);
    }

    private static int idOfAdded(JsonNode added, String content) {
        for (JsonNode a : added) if (a.path("content").asText().equals(content)) return a.path("id").asInt();
        return -1;
    }

    private static SentencePieceBpeTokenizer buildSentencePiece(JsonNode root, JsonNode vocab, List<String[]> merges,
                                                                JsonNode added, int size, String bosText, String source) {
        JsonNode model = root.path("model");
        boolean byteFallback = model.path("byte_fallback").asBoolean(false);
        String unkText = model.path("unk_token").asText(null);
        String[] pieces = new String[size];
        int[] types = new int[size];
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            var e = it.next();
            int id = e.getValue().asInt();
            pieces[id] = e.getKey();
            types[id] = byteFallback && SentencePieceBpeTokenizer.byteValue(e.getKey()) >= 0
                    ? SentencePieceBpeTokenizer.BYTE : SentencePieceBpeTokenizer.NORMAL;
        }
        for (JsonNode a : added) {
            int id = a.path("id").asInt();
            pieces[id] = a.path("content").asText();
            types[id] = a.path("special").asBoolean(true) ? SentencePieceBpeTokenizer.CONTROL : SentencePieceBpeTokenizer.USER_DEFINED;
        }
        int unk = -1;
        for (int id = 0; id < size; id++) {
            if (pieces[id] != null && pieces[id].equals(unkText)) {
                types[id] = SentencePieceBpeTokenizer.UNKNOWN;
                unk = id;
            }
        }
        // Dummy prefix: legacy normalizer Prepend("▁") (every segment) or Metaspace prepend_scheme.
        boolean addDummyPrefix = false, firstOnly = false;
        JsonNode prepend = find(root.path("normalizer"), "Prepend");
        if (prepend != null && prepend.path("prepend").asText().equals(SentencePieceBpeTokenizer.SPACE)) addDummyPrefix = true;
        JsonNode meta = find(root.path("pre_tokenizer"), "Metaspace");
        if (meta != null) {
            if (meta.path("split").asBoolean(false)) {
                throw new FinloraException(source + ": Metaspace pre-tokenizer with split=true is not supported");
            }
            String scheme = meta.path("prepend_scheme").asText(meta.path("add_prefix_space").asBoolean(true) ? "always" : "never");
            if (!scheme.equals("never")) addDummyPrefix = true;
            firstOnly = scheme.equals("first");
        }
        for (int id = 0; id < size; id++) if (pieces[id] == null) {
            pieces[id] = "<unused_" + id + ">";
            types[id] = SentencePieceBpeTokenizer.UNUSED;
        }
        int bos = indexOf(pieces, bosText != null ? bosText : "<s>");
        int eos = indexOf(pieces, "</s>");
        return new SentencePieceBpeTokenizer(pieces, new float[size], types, merges, unk, bos, eos, byteFallback,
                addDummyPrefix, firstOnly, false, eos >= 0 ? Set.of(eos) : Set.of(), bosText != null, null, source);
    }

    static int indexOf(String[] pieces, String text) {
        for (int i = 0; i < pieces.length; i++) if (text.equals(pieces[i])) return i;
        return -1;
    }
}
