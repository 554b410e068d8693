package org.finlora.cli;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** bench eval on stories260K and a few FPB dev rows: one line per run and per batch size, answers compared to batch 1. */
class BenchEvalCommandTest {
    static Path fpb() {
        Path f = GenerateCommandTest.stories().getParent().getParent().getParent().resolve("data/fpb_dev.jsonl");
        Assumptions.assumeTrue(Files.isRegularFile(f), f + " not found");
        return f;
    }

    @Test
    void printsEachBatchSizeWithItsRatioToBatchOne() {
        GenerateCommandTest.Run r = GenerateCommandTest.run("bench", "eval", "--model", GenerateCommandTest.stories().toString(),
                "--data", fpb().toString(), "--task", "fpb", "--limit", "5", "--batch-sizes", "3,1", "--rounds", "1", "--warmup", "2");
        assertEquals(0, r.code(), r.err());
        String out = r.out();
        assertTrue(out.contains("task fpb, 5 examples (max 10 new tokens)"), out);
        assertTrue(out.indexOf("round 1 batch   1:") < out.indexOf("round 1 batch   3:"), "batch size 1 runs first: " + out);
        assertTrue(out.contains("answers identical to batch 1"), out);
        assertTrue(out.matches("(?s).*\nbatch   1: [0-9.]+ examples/s, [0-9.]+ tokens/s, 1\\.00 x batch 1 \\(best of 1 rounds\\)\n.*"), out);
        assertTrue(out.matches("(?s).*\nbatch   3: [0-9.]+ examples/s, [0-9.]+ tokens/s, [0-9.]+ x batch 1 .*"), out);
        assertTrue(out.contains("peak RSS: "), out);
    }

    @Test
    void rejectsABatchSizeBelowOne() {
        GenerateCommandTest.Run r = GenerateCommandTest.run("bench", "eval", "--model", GenerateCommandTest.stories().toString(),
                "--data", fpb().toString(), "--batch-sizes", "1,0");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: --batch-sizes: 0"), r.err());
    }
}
