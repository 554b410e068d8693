package org.finlora.cli;

import org.finlora.lora.PeftAdapterIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What the fault campaign broke, through Main.run: outputs written whole and never over an
 * earlier run unasked, stale temp files of killed runs removed, one permission policy, checks
 * that fail before the work instead of after it, and one-line errors for what escaped before.
 */
class HardeningCommandTest {
    static final Path TINY = FinetuneCommandTest.TINY;
    @TempDir
    static Path tmp;
    static Path train;

    @BeforeAll
    static void data() throws Exception {
        train = tmp.resolve("train.jsonl");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 4; i++) sb.append("{\"context\": \"Input: item ").append(i).append("\\nAnswer: \", \"target\": \"positive\"}\n");
        Files.writeString(train, sb.toString());
    }

    static GenerateCommandTest.Run finetune(Path out, String... more) {
        String[] base = {"finetune", "--model", TINY.toString(), "--train", train.toString(), "--output", out.toString(), "--max-steps", "1",
                "--no-plot"};
        return GenerateCommandTest.run(FinetuneCommandTest.concat(base, more));
    }

    @Test
    void finetuneRefusesANonEmptyOutputUnlessAskedAndCleansItsStaleTempFiles() throws Exception {
        Path out = tmp.resolve("run");
        GenerateCommandTest.Run r = finetune(out);
        assertEquals(0, r.code(), r.err());
        assertFalse(Files.exists(out.resolve("checkpoints")), "the safety checkpoint goes once the adapter is written (--save-every 0)");
        assertTrue(Files.isRegularFile(out.resolve(PeftAdapterIO.MANIFEST_FILE)));
        r = finetune(out);
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: --output " + out + ": the folder is not empty; pass --overwrite"), r.err());
        // a temp file of a killed run (its process is gone) and one of a live process (ours)
        Path dead = out.resolve("." + PeftAdapterIO.WEIGHTS_FILE + ".finlora-tmp-2147483646-abc");
        Path live = out.resolve("." + PeftAdapterIO.WEIGHTS_FILE + ".finlora-tmp-" + ProcessHandle.current().pid() + "-abc");
        Files.writeString(dead, "x");
        Files.writeString(live, "x");
        Files.writeString(out.resolve("notes.txt"), "mine");
        r = finetune(out, "--overwrite", "--alpha", "64");
        assertEquals(0, r.code(), r.err());
        assertFalse(Files.exists(dead), "stale temp file of a dead run removed");
        assertTrue(Files.exists(live), "a live process's temp file is left alone");
        assertEquals("mine", Files.readString(out.resolve("notes.txt")), "--overwrite removes only what finetune writes");
        assertTrue(Files.readString(out.resolve(PeftAdapterIO.CONFIG_FILE)).contains("\"lora_alpha\": 64"));
        Files.delete(live);
    }

    @Test
    void outputsFollowTheUmaskLikeAnyOtherFile() throws Exception {
        Path out = tmp.resolve("perm");
        assertEquals(0, finetune(out, "--save-every", "1").code());
        var plain = Files.getPosixFilePermissions(Files.createFile(tmp.resolve("plain-file")));
        var plainDir = Files.getPosixFilePermissions(Files.createDirectory(tmp.resolve("plain-dir")));
        for (String f : new String[]{PeftAdapterIO.CONFIG_FILE, PeftAdapterIO.WEIGHTS_FILE, PeftAdapterIO.MANIFEST_FILE, "metrics.jsonl",
                "checkpoints/step-000001/optimizer.bin", "checkpoints/step-000001/adapter_model.safetensors"}) {
            assertEquals(PosixFilePermissions.toString(plain), PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve(f))), f);
        }
        assertEquals(PosixFilePermissions.toString(plainDir), PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("checkpoints/step-000001"))));
    }

    @Test
    void aFailedAdapterWriteKeepsTheTrainedStateToResumeFrom() throws Exception {
        Path out = tmp.resolve("diskfull");
        assertEquals(0, finetune(out, "--save-every", "1").code());
        // the adapter path is now a non-empty folder: the final write fails as a full disk would
        Files.delete(out.resolve(PeftAdapterIO.WEIGHTS_FILE));
        Files.createDirectories(out.resolve(PeftAdapterIO.WEIGHTS_FILE).resolve("blocker"));
        GenerateCommandTest.Run r = finetune(out, "--resume", out.toString(), "--save-every", "0");
        assertEquals(1, r.code(), r.err());
        Path kept = out.resolve("checkpoints/step-000001");
        assertTrue(r.err().contains("the trained state is kept in " + kept) && r.err().contains("--resume " + kept), r.err());
        assertTrue(Files.isRegularFile(kept.resolve("trainer_state.json")));
        assertEquals(1, r.err().strip().lines().filter(l -> l.startsWith("error:")).count());
    }

    @Test
    void anAdapterFolderMixedFromTwoRunsIsRefused() throws Exception {
        Path out = tmp.resolve("mixed");
        assertEquals(0, finetune(out).code());
        Path cfg = out.resolve(PeftAdapterIO.CONFIG_FILE);
        Files.writeString(cfg, Files.readString(cfg).replace("\"lora_alpha\": 16", "\"lora_alpha\": 64"));
        GenerateCommandTest.Run r = GenerateCommandTest.run("generate", "--model", TINY.toString(), "--adapter", out.toString(), "--prompt", "a",
                "--max-tokens", "1");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("does not match " + PeftAdapterIO.MANIFEST_FILE), r.err());
    }

    @Test
    void evalChecksItsOutputFolderBeforeRunning() throws Exception {
        Path blocker = Files.writeString(tmp.resolve("a-file"), "x");
        GenerateCommandTest.Run r = GenerateCommandTest.run("eval", "--model", TINY.toString(), "--data", train.toString(), "--task", "fpb",
                "--output", blocker.resolve("results").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: " + blocker.resolve("results") + ": cannot write answers and summaries there"), r.err());
        assertFalse(r.err().contains("examples/s"), "nothing was evaluated");
    }

    @Test
    void devicesAndMissingFilesGetTheRightMessage() {
        GenerateCommandTest.Run r = GenerateCommandTest.run("eval", "--model", TINY.toString(), "--data", "/dev/zero", "--task", "fpb");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: /dev/zero: not a regular file"), r.err());
        Path stories = GenerateCommandTest.stories();
        r = GenerateCommandTest.run("generate", "--model", stories.toString(), "--tokenizer", tmp.resolve("nope.bin").toString(), "--prompt", "a");
        assertEquals(1, r.code());
        assertEquals("error: " + tmp.resolve("nope.bin") + ": --tokenizer file not found", r.err().strip());
        r = GenerateCommandTest.run("generate", "--model", stories.toString(), "--tokenizer", "/dev/zero", "--prompt", "a");
        assertTrue(r.err().startsWith("error: /dev/zero: not a regular file"), r.err());
    }

    @Test
    void nanWeightsAreNamedInsteadOfPrintingPerplexityNaN() throws Exception {
        Path stories = GenerateCommandTest.stories();
        Path bad = tmp.resolve("nan.bin");
        Files.copy(stories, bad);
        try (FileChannel ch = FileChannel.open(bad, StandardOpenOption.READ, StandardOpenOption.WRITE); Arena a = Arena.ofConfined()) {
            MemorySegment m = ch.map(FileChannel.MapMode.READ_WRITE, 0, ch.size(), a);
            // the first weight after the 28-byte header and the embedding: layer 0's attention norm
            int dim = m.get(ValueLayout.JAVA_INT_UNALIGNED, 0), vocab = Math.abs(m.get(ValueLayout.JAVA_INT_UNALIGNED, 20));
            m.set(ValueLayout.JAVA_FLOAT_UNALIGNED, 28 + 4L * vocab * dim, Float.NaN);
        }
        Path text = Files.writeString(tmp.resolve("text.txt"), "Once upon a time there was a little girl who liked to play.");
        GenerateCommandTest.Run r = GenerateCommandTest.run("perplexity", "--model", bad.toString(), "--tokenizer",
                stories.resolveSibling("tok512.bin").toString(), "--file", text.toString());
        assertEquals(1, r.code(), r.out());
        assertFalse(r.out().contains("perplexity: NaN"), r.out());
        assertTrue(r.err().contains("model.layers.0.input_layernorm element 0 holds NaN"), r.err());
        r = GenerateCommandTest.run("generate", "--model", bad.toString(), "--tokenizer", stories.resolveSibling("tok512.bin").toString(),
                "--prompt", "Once upon a time", "--max-tokens", "4");
        assertEquals(1, r.code(), r.out());
        assertTrue(r.err().startsWith("error: the model's output is NaN: its weights are not finite"), r.err());
    }

    @Test
    void aCraftedTrainerStateCannotReachPastTheRun() throws Exception {
        Path out = tmp.resolve("crafted-state");
        assertEquals(0, finetune(out, "--save-every", "1").code());
        Path state = out.resolve("checkpoints/step-000001/trainer_state.json");
        Files.writeString(state, Files.readString(state).replaceFirst("\"batch_index\" : \\d+", "\"batch_index\" : 2000000000"));
        GenerateCommandTest.Run r = finetune(out, "--resume", out.toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("batch_index 2000000000) does not fit this run"), r.err());
    }

    @Test
    void errorsThatEscapedBeforeAreOneLine() {
        for (Throwable t : new Throwable[]{new OutOfMemoryError("Java heap space"), new StackOverflowError(), new IllegalStateException("a\nb")}) {
            var err = new java.io.ByteArrayOutputStream();
            var old = System.err;
            System.setErr(new java.io.PrintStream(err, true));
            try {
                assertEquals(1, Main.report(t));
            } finally {
                System.setErr(old);
            }
            String s = err.toString();
            assertEquals(1, s.strip().lines().count(), s);
            assertTrue(s.startsWith("error: "), s);
        }
        GenerateCommandTest.Run r = finetune(tmp.resolve("huge-rank"), "--rank", "100000000");
        assertEquals(1, r.code());
        assertTrue(r.err().lines().anyMatch(l -> l.startsWith("error: training") && l.contains("--rank")), r.err());
        r = finetune(tmp.resolve("big-rank"), "--rank", "5000000");
        assertEquals(1, r.code());
        assertTrue(r.err().lines().anyMatch(l -> l.startsWith("error: training needs") && l.contains("FINLORA_JAVA_OPTS=-Xmx")), r.err());
        r = finetune(tmp.resolve("huge-batch"), "--batch-size", "100000", "--max-seq-len", "4096");
        assertEquals(1, r.code());
        assertTrue(r.err().lines().anyMatch(l -> l.startsWith("error: training") && l.contains("batches of 100000 x") && l.contains("--batch-size")), r.err());
    }
}
