package org.finlora.tokenizer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Test-side derivations of other tokenizer formats from the real Meta files, written independently
 * of the main code (plain string maps and a quadratic BPE loop).
 */
final class DerivedVocab {
    private DerivedVocab() {
    }

    /** Llama 3 rank file: token bytes by rank. */
    static List<byte[]> tiktokenRanks(Path file) throws Exception {
        List<byte[]> out = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
            if (line.isBlank()) continue;
            out.add(Base64.getDecoder().decode(line.substring(0, line.indexOf(' '))));
        }
        return out;
    }

    private static String latin1(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    /**
     * HF-style merges for tiktoken ranks: BPE each token's bytes using only lower ranks; when that
     * ends in exactly two parts, the pair is the merge that creates the token. Ordered by the
     * token's rank. Returns pairs of Latin-1 strings (one char per byte).
     */
    static List<String[]> tiktokenMerges(List<byte[]> ranks) {
        Map<String, Integer> rank = new HashMap<>();
        for (int i = 0; i < ranks.size(); i++) rank.put(latin1(ranks.get(i)), i);
        List<String[]> merges = new ArrayList<>();
        for (int r = 0; r < ranks.size(); r++) {
            byte[] tok = ranks.get(r);
            if (tok.length < 2) continue;
            List<String> parts = new ArrayList<>();
            for (byte b : tok) parts.add(latin1(new byte[]{b}));
            while (parts.size() > 2) {
                int best = -1, bestRank = Integer.MAX_VALUE;
                for (int i = 0; i + 1 < parts.size(); i++) {
                    Integer pr = rank.get(parts.get(i) + parts.get(i + 1));
                    if (pr != null && pr < r && pr < bestRank) {
                        bestRank = pr;
                        best = i;
                    }
                }
                if (best < 0) break;
                parts.set(best, parts.get(best) + parts.remove(best + 1));
            }
            if (parts.size() == 2) merges.add(new String[]{parts.get(0), parts.get(1)});
        }
        return merges;
    }

    /** GPT-2 bytes_to_unicode, re-derived here: printable bytes keep their code, the rest get 256, 257, ... in byte order. */
    private static final char[] GPT2 = new char[256];

    static {
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean keep = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
            GPT2[b] = keep ? (char) b : (char) (256 + extra++);
        }
    }

    /** Latin-1 string (one char per byte) → GPT-2 byte-level token string. */
    static String byteLevel(String latin1) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < latin1.length(); i++) sb.append(GPT2[latin1.charAt(i)]);
        return sb.toString();
    }

    static String byteLevel(byte[] b) {
        return byteLevel(latin1(b));
    }
}
