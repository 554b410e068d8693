package org.finlora.tokenizer;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Locates /work/shared assets and the llama.cpp vocab test vectors. */
final class TestAssets {
    private TestAssets() {
    }

    static Path shared() {
        String prop = System.getProperty("finlora.shared");
        Path p = prop != null ? Path.of(prop) : null;
        if (p == null || !Files.isDirectory(p)) p = Path.of("/work/shared");
        Assumptions.assumeTrue(Files.isDirectory(p), "shared assets directory not found: " + p);
        return p;
    }

    private static Tokenizer llama3;
    private static SentencePieceBpeTokenizer llama2;
    private static List<byte[]> ranks;
    private static List<String[]> merges;

    /** The Llama 3 tiktoken tokenizer, loaded once per test JVM (tokenizers are immutable). */
    static synchronized Tokenizer llama3() {
        if (llama3 == null) llama3 = Tokenizers.fromTokenizerModel(llama3Model());
        return llama3;
    }

    /** The Llama 2 SentencePiece tokenizer, loaded once per test JVM. */
    static synchronized SentencePieceBpeTokenizer llama2() {
        if (llama2 == null) llama2 = (SentencePieceBpeTokenizer) Tokenizers.fromTokenizerModel(llama2Model());
        return llama2;
    }

    static synchronized List<byte[]> llama3Ranks() throws Exception {
        if (ranks == null) ranks = DerivedVocab.tiktokenRanks(llama3Model());
        return ranks;
    }

    /** Merges derived from the Llama 3 ranks (slow-ish; computed once). */
    static synchronized List<String[]> llama3Merges() throws Exception {
        if (merges == null) merges = DerivedVocab.tiktokenMerges(llama3Ranks());
        return merges;
    }

    static Path llama3Model() {
        return shared().resolve("models/llama3-tokenizer/tokenizer.model");
    }

    static Path llama2Model() {
        return shared().resolve("models/llama2-tokenizer/tokenizer.model");
    }

    static Path llama2Bin() {
        return shared().resolve("models/llama2-tokenizer/tokenizer.bin");
    }

    static String resource(String name) {
        try (InputStream in = TestAssets.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("missing test resource " + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The llama.cpp vocab test texts (see resources README). */
    static List<String> vocabTestTexts() {
        String all = resource("llamacpp-vocab-test.inp");
        String sep = "\n__ggml_vocab_test__\n";
        List<String> texts = new ArrayList<>(Arrays.asList(all.split(sep, -1)));
        texts.remove(texts.size() - 1); // text after the final separator is empty
        return texts;
    }

    static List<int[]> vocabTestIds(String file) {
        List<int[]> out = new ArrayList<>();
        for (String line : resource(file).split("\n", -1)) {
            String t = line.strip();
            out.add(t.isEmpty() ? new int[0] : Arrays.stream(t.split(" +")).mapToInt(Integer::parseInt).toArray());
        }
        if (out.get(out.size() - 1).length == 0) out.remove(out.size() - 1);
        return out;
    }

    static String show(String s) {
        StringBuilder sb = new StringBuilder();
        s.codePoints().forEach(cp -> sb.append(cp >= 32 && cp < 127 ? String.valueOf((char) cp) : String.format("\\u{%X}", cp)));
        return sb.toString();
    }
}
