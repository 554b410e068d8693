package org.finlora.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import org.finlora.FinloraException;
import org.finlora.io.InputFiles;
import org.finlora.io.Json;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds and builds the tokenizer of a model source. The entry points the io loaders call.
 */
public final class Tokenizers {
    private Tokenizers() {
    }

    /**
     * The tokenizer of an HF model folder: tokenizer.json (+ tokenizer_config.json for BOS/EOS and
     * the chat template, + generation_config.json for stop ids), else tokenizer.model (Meta tiktoken
     * ranks or SentencePiece protobuf).
     */
    public static Tokenizer fromHfFolder(Path dir) {
        Path json = dir.resolve("tokenizer.json");
        Path model = dir.resolve("tokenizer.model");
        Tokenizer t;
        if (InputFiles.exists(json)) {
            t = HfTokenizerJson.build(readJson(json, InputFiles.TOKENIZER), json.toString());
        } else if (InputFiles.exists(model)) {
            t = fromTokenizerModel(model);
        } else {
            throw new FinloraException(dir + ": no tokenizer.json or tokenizer.model in the model folder");
        }
        applyHfConfig(t, dir);
        return t;
    }

    /** A {@code tokenizer.model}: Meta's tiktoken rank file (Llama 3) or a SentencePiece protobuf (Llama 2). */
    public static Tokenizer fromTokenizerModel(Path file) {
        byte[] bytes = InputFiles.readBytes(file, InputFiles.TOKENIZER, "tokenizer.model");
        String source = file.toString();
        // A protobuf ModelProto starts with field 1 (pieces), wire type 2: byte 0x0A. A tiktoken file starts with base64.
        if (bytes.length > 0 && bytes[0] == 0x0A) return SentencePieceModelReader.read(bytes, source);
        if (bytes.length > 0 && isBase64Char(bytes[0])) return ByteLevelBpeTokenizer.fromTiktoken(bytes, source);
        throw new FinloraException(source + ": neither a SentencePiece protobuf nor a tiktoken rank file (first byte 0x"
                + (bytes.length == 0 ? "--" : String.format("%02X", bytes[0])) + ")");
    }

    /** An HF {@code tokenizer.json} alone (no tokenizer_config.json). */
    public static Tokenizer fromTokenizerJson(Path file) {
        return HfTokenizerJson.build(readJson(file, InputFiles.TOKENIZER), file.toString());
    }

    private static boolean isBase64Char(byte b) {
        return (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '+' || b == '/';
    }

    private static JsonNode readJson(Path file, long maxBytes) {
        JsonNode n = Json.read(file, maxBytes, file.getFileName() + "");
        if (!n.isObject()) throw new FinloraException(file + ": expected a JSON object");
        return n;
    }

    /** tokenizer_config.json (bos/eos token, add_bos_token, chat_template) and generation_config.json (eos_token_id). */
    private static void applyHfConfig(Tokenizer t, Path dir) {
        int bos = t.bosId();
        boolean addBos = t.addsBosByDefault();
        String template = t.chatTemplate();
        Set<Integer> stops = new LinkedHashSet<>(t.stopIds());
        int eos = t instanceof SentencePieceBpeTokenizer sp ? sp.eosId() : -1;
        Path cfgFile = dir.resolve("tokenizer_config.json");
        if (InputFiles.exists(cfgFile)) {
            JsonNode cfg = readJson(cfgFile, InputFiles.SMALL_JSON);
            String bosText = tokenText(cfg.path("bos_token"));
            if (bosText != null) {
                int id = idOf(t, bosText);
                if (id < 0) throw new FinloraException(cfgFile + ": bos_token \"" + bosText + "\" is not in the vocabulary");
                bos = id;
            }
            String eosText = tokenText(cfg.path("eos_token"));
            if (eosText != null) {
                int id = idOf(t, eosText);
                if (id < 0) throw new FinloraException(cfgFile + ": eos_token \"" + eosText + "\" is not in the vocabulary");
                eos = id;
                stops = new LinkedHashSet<>(Set.of(id));
            }
            if (cfg.path("add_bos_token").isBoolean()) addBos = cfg.path("add_bos_token").asBoolean();
            JsonNode tpl = cfg.path("chat_template");
            if (tpl.isTextual()) {
                template = tpl.asText();
            } else if (tpl.isArray()) {
                for (JsonNode named : tpl) {
                    if (template == null || named.path("name").asText().equals("default")) template = named.path("template").asText(null);
                }
            }
        }
        Path genFile = dir.resolve("generation_config.json");
        if (InputFiles.exists(genFile)) {
            JsonNode gen = readJson(genFile, InputFiles.SMALL_JSON).path("eos_token_id");
            if (gen.isIntegralNumber() && gen.canConvertToInt()) stops.add(gen.asInt());
            else if (!gen.isMissingNode() && !gen.isNull() && !gen.isArray()) throw new FinloraException(genFile + ": eos_token_id is not an integer or a list of integers");
            for (JsonNode e : gen) {
                if (!e.isIntegralNumber() || !e.canConvertToInt()) throw new FinloraException(genFile + ": eos_token_id has a non-integer entry " + HfTokenizerJson.quote(e.toString()));
                stops.add(e.asInt());
            }
        }
        for (int s : stops) {
            if (s < 0 || s >= t.vocabSize()) throw new FinloraException(dir + ": stop token id " + s + " is outside the vocabulary of " + t.vocabSize());
        }
        if (t instanceof ByteLevelBpeTokenizer b) b.configure(bos, stops, addBos, template);
        else if (t instanceof SentencePieceBpeTokenizer s) s.configure(bos, eos, stops, addBos, template);
    }

    private static String tokenText(JsonNode n) {
        if (n.isTextual()) return n.asText();
        if (n.isObject() && n.path("content").isTextual()) return n.path("content").asText();
        return null;
    }

    /** Id of a token given by its text in tokenizer_config.json: a special token, a piece, or a single regular token. */
    private static int idOf(Tokenizer t, String text) {
        int id = t.specialTokenId(text);
        if (id >= 0) return id;
        if (t instanceof SentencePieceBpeTokenizer sp) {
            for (int i = 0; i < sp.vocabSize(); i++) if (text.equals(sp.piece(i))) return i;
            return -1;
        }
        int[] ids = t.encode(text, false);
        return ids.length == 1 && new String(t.tokenBytes(ids[0]), StandardCharsets.UTF_8).equals(text) ? ids[0] : -1;
    }

    /**
     * The tokenizer stored in GGUF metadata (tokenizer.ggml.*). Values: integers as Long, f32 as
     * Float, f64 as Double, bool as Boolean, strings as String, arrays as java.util.List.
     */
    public static Tokenizer fromGgufMetadata(Map<String, Object> metadata, String source) {
        String model = string(metadata, "tokenizer.ggml.model", source);
        List<String> tokens = stringList(metadata, "tokenizer.ggml.tokens", source);
        int n = tokens.size();
        int[] types = new int[n];
        Object typeList = metadata.get("tokenizer.ggml.token_type");
        if (typeList != null) {
            List<?> tl = list(typeList, "tokenizer.ggml.token_type", source);
            if (tl.size() != n) throw new FinloraException(source + ": tokenizer.ggml.token_type has " + tl.size() + " entries for " + n + " tokens");
            for (int i = 0; i < n; i++) types[i] = (int) number(tl.get(i), "tokenizer.ggml.token_type[" + i + "]", source);
        } else {
            java.util.Arrays.fill(types, SentencePieceBpeTokenizer.NORMAL);
        }
        int bos = optInt(metadata, "tokenizer.ggml.bos_token_id", -1, n, source);
        int eos = optInt(metadata, "tokenizer.ggml.eos_token_id", -1, n, source);
        String template = metadata.get("tokenizer.chat_template") instanceof String s ? s : null;
        Object addBosValue = metadata.get("tokenizer.ggml.add_bos_token");
        switch (model) {
            case "llama" -> {
                List<?> sl = list(require(metadata, "tokenizer.ggml.scores", source), "tokenizer.ggml.scores", source);
                if (sl.size() != n) throw new FinloraException(source + ": tokenizer.ggml.scores has " + sl.size() + " entries for " + n + " tokens");
                float[] scores = new float[n];
                boolean byteFallback = false;
                for (int i = 0; i < n; i++) {
                    scores[i] = (float) number(sl.get(i), "tokenizer.ggml.scores[" + i + "]", source);
                    if (types[i] == SentencePieceBpeTokenizer.BYTE) byteFallback = true;
                }
                int unk = optInt(metadata, "tokenizer.ggml.unknown_token_id", -1, n, source);
                boolean addSpace = !(metadata.get("tokenizer.ggml.add_space_prefix") instanceof Boolean b) || b;
                boolean removeExtra = metadata.get("tokenizer.ggml.remove_extra_whitespaces") instanceof Boolean b && b;
                if (bos < 0) bos = 1 < n ? 1 : -1;
                if (eos < 0) eos = 2 < n ? 2 : -1;
                boolean addBos = !(addBosValue instanceof Boolean b) || b;
                return new SentencePieceBpeTokenizer(tokens.toArray(String[]::new), scores, types, null, unk, bos, eos,
                        byteFallback, addSpace, false, removeExtra, eos >= 0 ? Set.of(eos) : Set.of(), addBos, template, source);
            }
            case "gpt2" -> {
                String pre = metadata.get("tokenizer.ggml.pre") instanceof String s ? s : "llama-bpe";
                String regex = switch (pre) {
                    case "llama-bpe", "llama3", "llama-v3" -> ByteLevelBpeTokenizer.LLAMA3_SPLIT;
                    case "gpt-2" -> ByteLevelBpeTokenizer.GPT2_SPLIT;
                    default -> throw new FinloraException(source + ": tokenizer.ggml.pre \"" + pre
                            + "\" is not supported (expected llama-bpe or gpt-2)");
                };
                byte[][] bytes = new byte[n][];
                boolean[] special = new boolean[n];
                for (int i = 0; i < n; i++) {
                    String tok = tokens.get(i);
                    if (types[i] == SentencePieceBpeTokenizer.CONTROL || types[i] == SentencePieceBpeTokenizer.USER_DEFINED
                            || types[i] == SentencePieceBpeTokenizer.UNUSED) {
                        bytes[i] = tok.getBytes(StandardCharsets.UTF_8);
                        special[i] = true;
                    } else {
                        bytes[i] = ByteLevelAlphabet.decode(tok);
                        if (bytes[i] == null || bytes[i].length == 0) {
                            throw new FinloraException(source + ": tokenizer.ggml.tokens[" + i + "] \"" + tok + "\" is not a byte-level token");
                        }
                    }
                }
                List<String> mergeList = stringList(metadata, "tokenizer.ggml.merges", source);
                Map<String, Integer> ids = new java.util.HashMap<>();
                for (int i = 0; i < n; i++) if (!special[i]) ids.putIfAbsent(tokens.get(i), i);
                PairTable table = new PairTable(mergeList.size());
                for (int i = 0; i < mergeList.size(); i++) {
                    String m = mergeList.get(i);
                    int sp = m.indexOf(' ', 1);
                    Integer l = sp < 0 ? null : ids.get(m.substring(0, sp));
                    Integer r = sp < 0 ? null : ids.get(m.substring(sp + 1));
                    Integer merged = sp < 0 ? null : ids.get(m.substring(0, sp) + m.substring(sp + 1));
                    if (l == null || r == null || merged == null) {
                        throw new FinloraException(source + ": tokenizer.ggml.merges[" + i + "] \"" + m + "\" is not a merge of two tokens");
                    }
                    table.put(l, r, i, merged);
                }
                Set<Integer> stops = new LinkedHashSet<>();
                if (eos >= 0) stops.add(eos);
                int eot = optInt(metadata, "tokenizer.ggml.eot_token_id", -1, n, source);
                int eom = optInt(metadata, "tokenizer.ggml.eom_token_id", -1, n, source);
                if (eot >= 0) stops.add(eot);
                if (eom >= 0) stops.add(eom);
                for (String name : new String[]{"<|end_of_text|>", "<|eom_id|>", "<|eot_id|>"}) {
                    int id = tokens.indexOf(name);
                    if (id >= 0 && special[id]) stops.add(id);
                }
                boolean addBos = !(addBosValue instanceof Boolean b) || b;
                // llama.cpp's llama-bpe pre-tokenizer looks whole pieces up first (HF ignore_merges).
                return new ByteLevelBpeTokenizer(bytes, special, table, !pre.equals("gpt-2"), false, false, regex, bos,
                        stops, addBos && bos >= 0, template, source);
            }
            default -> throw new FinloraException(source + ": tokenizer.ggml.model \"" + model
                    + "\" is not supported (expected \"llama\" or \"gpt2\")");
        }
    }

    private static Object require(Map<String, Object> m, String key, String source) {
        Object v = m.get(key);
        if (v == null) throw new FinloraException(source + ": GGUF metadata has no " + key);
        return v;
    }

    private static String string(Map<String, Object> m, String key, String source) {
        if (!(require(m, key, source) instanceof String s)) throw new FinloraException(source + ": " + key + " is not a string");
        return s;
    }

    private static List<?> list(Object v, String key, String source) {
        if (!(v instanceof List<?> l)) throw new FinloraException(source + ": " + key + " is not an array");
        return l;
    }

    private static List<String> stringList(Map<String, Object> m, String key, String source) {
        List<?> l = list(require(m, key, source), key, source);
        List<String> out = new ArrayList<>(l.size());
        for (int i = 0; i < l.size(); i++) {
            if (!(l.get(i) instanceof String s)) throw new FinloraException(source + ": " + key + "[" + i + "] is not a string");
            out.add(s);
        }
        return out;
    }

    private static double number(Object v, String key, String source) {
        if (!(v instanceof Number x)) throw new FinloraException(source + ": " + key + " is not a number");
        return x.doubleValue();
    }

    private static int optInt(Map<String, Object> m, String key, int dflt, int vocab, String source) {
        Object v = m.get(key);
        if (v == null) return dflt;
        long x = (long) number(v, key, source);
        if (x < 0 || x >= vocab) throw new FinloraException(source + ": " + key + " = " + x + " is outside the vocabulary of " + vocab);
        return (int) x;
    }
}
