package org.finlora.cli;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** generate / perplexity / bench through Main.run with stdout captured. */
class GenerateCommandTest {
    static final String GOLDEN_CONTINUATION = ", there was a little girl named Lily. She loved to play outside in the park. "
            + "One day, she saw a big, red ball. She wanted to play with it, but it was too high";

    static Path stories() {
        Path root = Path.of(System.getProperty("finlora.shared", "/work/shared"));
        if (!Files.isDirectory(root)) root = Path.of("/work/shared");
        Assumptions.assumeTrue(Files.isDirectory(root), "shared assets directory " + root + " does not exist");
        return root.resolve("models/stories260K/stories260K.bin");
    }

    record Run(int code, String out, String err) {
    }

    static synchronized Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void generatePrintsExactlyTheGoldenContinuation() {
        Run r = run("generate", "--model", stories().toString(), "--prompt", "Once upon a time", "--max-tokens", "56");
        assertEquals(0, r.code(), r.err());
        assertEquals(GOLDEN_CONTINUATION + "\n", r.out());
    }

    @Test
    void perplexityEndsWithItsLine(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("t.txt");
        Files.writeString(f, ("Once upon a time" + GOLDEN_CONTINUATION + ". ").repeat(3));
        Run r = run("perplexity", "--model", stories().toString(), "--file", f.toString(), "--ctx", "64");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        String last = lines[lines.length - 1];
        assertTrue(last.matches("perplexity: [0-9]+\\.[0-9]+"), last);
        double ppl = Double.parseDouble(last.substring("perplexity: ".length()));
        assertTrue(ppl > 1 && ppl < 20, last);
    }

    @Test
    void benchGenerateOnTinySyntheticModel() {
        Run r = run("bench", "generate", "--model", "synthetic:tiny", "--prompt-tokens", "16", "--gen-tokens", "8", "--probes", "8");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("prefill: 16 tokens"), r.out());
        assertTrue(r.out().contains("decode: 8 tokens"), r.out());
        // only the form: so few tokens run in the interpreter and C1, where every vector is a heap object
        assertTrue(r.out().matches("(?s).*\ndecode heap allocation: [0-9]+\\.[0-9] KiB/token\n.*"), r.out());
        assertTrue(r.out().matches("(?s).*peak RSS: [0-9.]+ MiB.*"), r.out());
        assertTrue(r.out().matches("(?s).*weights read bandwidth \\(9 reads of [0-9.]+ MiB, around 8 decode parts\\): median [0-9.]+ GB/s.*"), r.out());
        assertTrue(r.out().matches("(?s).*decode vs bandwidth limit: [0-9.]+ of [0-9.]+ tok/s \\(parts [0-9.]+-[0-9.]+\\).*"), r.out());
    }

    @Test
    void benchGenerateProbesOnlyWhenAskedAndRejectsNegativeCounts() {
        Run r = run("bench", "generate", "--model", "synthetic:tiny", "--prompt-tokens", "4", "--gen-tokens", "3");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("decode: 3 tokens"), r.out());
        assertFalse(r.out().contains("bandwidth"), r.out());
        // fewer tokens than parts: one part per token, a probe around each
        r = run("bench", "generate", "--model", "synthetic:tiny", "--prompt-tokens", "4", "--gen-tokens", "3", "--probes", "8");
        assertTrue(r.out().contains("(4 reads of"), r.out());
        r = run("bench", "generate", "--model", "synthetic:tiny", "--prompt-tokens", "4", "--gen-tokens", "3", "--probes", "-1");
        assertNotEquals(0, r.code());
        assertTrue(r.err().strip().endsWith("--probes must be >= 0, got -1"), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
    }
}
