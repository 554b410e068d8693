package org.finlora.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's main job, end to end at a reduced size: data → nf4 → QLoRA finetune → eval → report. */
class DemoCommandTest {

    @Test
    void demoRunsEndToEndAndWritesTheReport(@TempDir Path dir) throws Exception {
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int rc;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            rc = Main.run("demo", "--output", dir.toString(), "--train-examples", "48", "--dev-examples", "16", "--epochs", "1");
        } finally {
            System.setOut(old);
        }
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, text);
        for (String f : new String[]{"data/train.jsonl", "data/dev.jsonl", "adapter/adapter_config.json",
                "adapter/adapter_model.safetensors", "adapter/metrics.jsonl", "report/report.html", "report/report.md",
                "report/report.csv", "report/report.png"}) {
            assertTrue(Files.size(dir.resolve(f)) > 0, f + " written");
        }
        assertTrue(text.contains("fpb base: accuracy"), text);
        assertTrue(text.contains("fpb adapter: accuracy"), text);
        assertTrue(text.contains("report: " + dir.resolve("report").resolve("report.html").toAbsolutePath()), text);
        assertEquals(16, Files.readAllLines(dir.resolve("data/dev.jsonl")).size());
    }
}
