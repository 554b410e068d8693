package org.finlora.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.finlora.data.Datasets;
import org.finlora.data.Example;
import org.finlora.io.Checkpoint;
import org.finlora.io.ModelLoader;
import org.finlora.lora.AdaptedWeights;
import org.finlora.lora.LoraAdapter;
import org.finlora.lora.LoraConfig;
import org.finlora.lora.PeftAdapterIO;
import org.finlora.model.Generator;
import org.finlora.model.LlamaConfig;
import org.finlora.model.LlamaModel;
import org.finlora.model.Sampler;
import org.finlora.model.SyntheticModels;
import org.finlora.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.finlora.cli.GenerateCommandTest.run;
import static org.finlora.cli.GenerateCommandTest.stories;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** finlora eval, and --adapter on generate/perplexity, through Main.run on stories260K. */
class EvalCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String METRIC = "accuracy [01]\\.[0-9]{4} f1 [01]\\.[0-9]{4}";

    static Path fpbDev() {
        return stories().getParent().getParent().getParent().resolve("data/fpb_dev.jsonl");
    }

    /** An adapter on every projection of a model of this config; B random (scale bScale) so it changes outputs, or zero. */
    static Path saveAdapter(Path dir, LlamaConfig config, float bScale, long seed) {
        LoraAdapter ad = LoraAdapter.init(LoraConfig.of(4, 8f, 0f), config, seed);
        SplittableRandom rng = new SplittableRandom(seed + 1);
        for (int l = 0; l < ad.nLayers; l++) {
            for (int m = 0; m < 7; m++) {
                float[] b = ad.b(l, m);
                for (int i = 0; i < b.length; i++) b[i] = (float) ((rng.nextDouble() * 2 - 1) * bScale);
            }
        }
        PeftAdapterIO.save(ad, dir);
        return dir;
    }

    /** Greedy continuation of BOS + context by the one-at-a-time Generator (the reference for eval's answers). */
    static String reference(LlamaModel m, Tokenizer tok, String context, int maxNew) {
        int[] ids = tok.encode(context, tok.addsBosByDefault());
        return tok.decode(new Generator(m, tok).generate(ids, maxNew, Sampler.greedy(), null), true);
    }

    static List<JsonNode> jsonLines(Path f) throws Exception {
        return Files.readAllLines(f).stream().map(l -> {
            try {
                return JSON.readTree(l);
            } catch (Exception e) {
                throw new AssertionError(l, e);
            }
        }).toList();
    }

    @Test
    void evalPrintsMetricLinesAndWritesAnswersSummaryAndReport(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out"), rep = dir.resolve("rep");
        GenerateCommandTest.Run r = run("eval", "--model", stories().toString(), "--data", fpbDev().toString(), "--limit", "8",
                "--batch-size", "3", "--output", out.toString(), "--report", rep.toString());
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(1, lines.length, r.out());
        assertTrue(lines[0].matches("fpb base: " + METRIC + " \\(8 examples\\)"), lines[0]);
        assertTrue(r.err().contains("examples/s"), r.err());

        List<JsonNode> answers = jsonLines(out.resolve("base-fpb-answers.jsonl"));
        assertEquals(8, answers.size());
        int correct = 0;
        for (JsonNode a : answers) correct += a.get("correct").asBoolean() ? 1 : 0;
        assertTrue(lines[0].startsWith(String.format(java.util.Locale.ROOT, "fpb base: accuracy %.4f ", correct / 8.0)), lines[0]);
        JsonNode summary = JSON.readTree(Files.readString(out.resolve("base-fpb-summary.json")));
        assertEquals(8, summary.get("examples").asInt());
        assertEquals(3, summary.get("batch_size").asInt());
        assertEquals(10, summary.get("max_new_tokens").asInt());

        // answers are the greedy continuations of BOS + raw context, as one-at-a-time generation gives them
        List<Example> rows = Datasets.read(fpbDev(), 8);
        try (Checkpoint ck = ModelLoader.load(stories().toString(), null)) {
            LlamaModel m = LlamaModel.load(ck, null);
            for (int i : new int[]{0, 4, 7}) {
                assertEquals(reference(m, ck.tokenizer(), rows.get(i).context(), 10), answers.get(i).get("output").asText(), "example " + i);
                assertEquals(rows.get(i).target(), answers.get(i).get("target").asText());
            }
        }
        for (String f : List.of("report.md", "report.csv", "report.html")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
            assertTrue(Files.isRegularFile(rep.resolve(f)), f);
        }
        BufferedImage png = ImageIO.read(rep.resolve("report.png").toFile());
        assertNotNull(png, "report.png is a readable PNG");
        assertEquals(ReportChart.WIDTH, png.getWidth());
        assertEquals(2 * ReportChart.CHART_HEIGHT, png.getHeight());
        try (var s = Files.list(out)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temp files left");
        }
    }

    /**
     * --max-new-tokens N generates N tokens per answer and records N; auto raises NWGI's budget to its longest
     * label in tok512 tokens + 1 (more than FinLoRA's 10) and keeps FPB's 10; a bad value is a one-line error.
     */
    @Test
    void maxNewTokensFixedAndAuto(@TempDir Path dir) throws Exception {
        Path nwgiDev = fpbDev().resolveSibling("nwgi_dev.jsonl");
        Path fixed = dir.resolve("fixed"), auto = dir.resolve("auto"), autoFpb = dir.resolve("auto_fpb");
        GenerateCommandTest.Run r = run("eval", "--model", stories().toString(), "--data", fpbDev().toString(), "--limit", "3",
                "--max-new-tokens", "4", "--output", fixed.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(4, JSON.readTree(Files.readString(fixed.resolve("base-fpb-summary.json"))).get("max_new_tokens").asInt());
        assertTrue(r.err().contains("max new tokens fpb: 4 (4; FinLoRA's value 10)"), r.err());
        List<JsonNode> fixedAnswers = jsonLines(fixed.resolve("base-fpb-answers.jsonl"));
        assertTrue(Files.readString(fixed.resolve("report.md")).contains("Max new tokens: FPB 4."));

        GenerateCommandTest.Run a = run("eval", "--model", stories().toString(), "--data", nwgiDev.toString(), "--limit", "2",
                "--max-new-tokens", "auto", "--output", auto.toString());
        assertEquals(0, a.code(), a.err());
        GenerateCommandTest.Run af = run("eval", "--model", stories().toString(), "--data", fpbDev().toString(), "--limit", "1",
                "--max-new-tokens", "auto", "--output", autoFpb.toString());
        assertEquals(0, af.code(), af.err());
        assertEquals(10, JSON.readTree(Files.readString(autoFpb.resolve("base-fpb-summary.json"))).get("max_new_tokens").asInt());

        List<Example> fpbRows = Datasets.read(fpbDev(), 3), nwgiRows = Datasets.read(nwgiDev, 2);
        try (Checkpoint ck = ModelLoader.load(stories().toString(), null)) {
            Tokenizer tok = ck.tokenizer();
            int longest = 0;
            for (String l : org.finlora.data.FinTask.byName("nwgi").labels()) longest = Math.max(longest, tok.encode(l, false).length);
            assertTrue(longest + 1 > 10, "tok512 needs more than FinLoRA's 10 tokens for some NWGI label: " + longest);
            int nwgiBudget = JSON.readTree(Files.readString(auto.resolve("base-nwgi-summary.json"))).get("max_new_tokens").asInt();
            assertEquals(longest + 1, nwgiBudget);
            assertTrue(a.err().contains("max new tokens nwgi: " + (longest + 1) + " (auto"), a.err());
            LlamaModel m = LlamaModel.load(ck, null);
            for (int i = 0; i < 3; i++) {
                assertEquals(reference(m, tok, fpbRows.get(i).context(), 4), fixedAnswers.get(i).get("output").asText(), "fpb " + i);
            }
            List<JsonNode> autoAnswers = jsonLines(auto.resolve("base-nwgi-answers.jsonl"));
            for (int i = 0; i < 2; i++) {
                assertEquals(reference(m, tok, nwgiRows.get(i).context(), longest + 1), autoAnswers.get(i).get("output").asText(), "nwgi " + i);
            }
        }

        GenerateCommandTest.Run bad = run("eval", "--model", stories().toString(), "--data", fpbDev().toString(), "--max-new-tokens", "lots");
        assertEquals(1, bad.code());
        assertEquals("error: --max-new-tokens lots: expected a number >= 1 or auto", bad.err().strip());
    }

    @Test
    void everyAdapterOnEveryTaskWithTheBaseLoadedOnce(@TempDir Path dir) throws Exception {
        LlamaConfig config;
        try (Checkpoint ck = ModelLoader.load(stories().toString(), null)) {
            config = ck.config();
        }
        Path ad = saveAdapter(dir.resolve("fpb_r4"), config, 0.3f, 5);
        Path out = dir.resolve("out");
        // --tasks without --data reads <finlora.shared>/data; point it at the shared folder actually found
        // (a worktree's ../shared may not exist, and stories() falls back to /work/shared).
        String oldShared = System.getProperty("finlora.shared");
        System.setProperty("finlora.shared", stories().getParent().getParent().getParent().toString());
        GenerateCommandTest.Run r;
        try {
            r = run("eval", "--model", stories().toString(), "--tasks", "fpb,nwgi", "--limit", "4",
                    "--adapter", ad.toString(), "--output", out.toString());
        } finally {
            if (oldShared == null) System.clearProperty("finlora.shared");
            else System.setProperty("finlora.shared", oldShared);
        }
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(4, lines.length, r.out());
        assertTrue(lines[0].matches("fpb base: " + METRIC + " \\(4 examples\\)"), lines[0]);
        assertTrue(lines[1].matches("nwgi base: " + METRIC + " \\(4 examples\\); 3 labels: " + METRIC), lines[1]);
        assertTrue(lines[2].matches("fpb fpb_r4: " + METRIC + " \\(4 examples\\)"), lines[2]);
        assertTrue(lines[3].startsWith("nwgi fpb_r4: accuracy"), lines[3]);
        for (String f : List.of("base-fpb-answers.jsonl", "base-nwgi-summary.json", "fpb_r4-fpb-answers.jsonl", "fpb_r4-nwgi-summary.json")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        List<JsonNode> base = jsonLines(out.resolve("base-fpb-answers.jsonl"));
        List<JsonNode> adapted = jsonLines(out.resolve("fpb_r4-fpb-answers.jsonl"));
        String context = Datasets.read(fpbDev(), 1).get(0).context();
        try (Checkpoint ck = ModelLoader.load(stories().toString(), null)) {
            LlamaModel m = LlamaModel.load(ck, null);
            LlamaModel am = new LlamaModel(AdaptedWeights.with(m.weights, PeftAdapterIO.load(ad, m.config)));
            assertEquals(reference(am, ck.tokenizer(), context, 10), adapted.get(0).get("output").asText());
        }
        boolean differs = false;
        for (int i = 0; i < 4; i++) differs |= !base.get(i).get("output").asText().equals(adapted.get(i).get("output").asText());
        assertTrue(differs, "the adapter should change some answers");
    }

    @Test
    void adapterOfAnotherShapeIsAOneLineError(@TempDir Path dir) {
        Path bad = saveAdapter(dir.resolve("tiny_adapter"), SyntheticModels.config("tiny"), 0.1f, 3);
        Path out = dir.resolve("out");
        GenerateCommandTest.Run r = run("eval", "--model", stories().toString(), "--data", fpbDev().toString(), "--limit", "2",
                "--adapter", bad.toString(), "--output", out.toString());
        assertEquals(1, r.code());
        assertEquals("", r.out());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), err);
        assertTrue(err.startsWith("error: ") && err.contains("adapter_model.safetensors: tensor 'base_model.model.model.layers.0.mlp.gate_proj.lora_B.weight' has shape [160, 4] but the model needs [172, 4]"), err);
        assertFalse(Files.exists(out.resolve("base-fpb-answers.jsonl")), "nothing is evaluated when an adapter does not fit");

        GenerateCommandTest.Run g = run("generate", "--model", stories().toString(), "--prompt", "Hi", "--adapter", bad.toString());
        assertEquals(1, g.code());
        assertTrue(g.err().strip().startsWith("error: ") && !g.err().strip().contains("\n"), g.err());
        GenerateCommandTest.Run missing = run("eval", "--model", stories().toString(), "--task", "fpb", "--adapter", dir.resolve("nope").toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().startsWith("error: --adapter " + dir.resolve("nope") + ": not a folder"), missing.err());
    }

    @Test
    void unknownTaskListsTheKnownTasks() {
        GenerateCommandTest.Run r = run("eval", "--model", stories().toString(), "--task", "nope");
        assertEquals(1, r.code());
        assertEquals("", r.out());
        assertTrue(r.err().startsWith("error: unknown task 'nope' (known tasks: fpb, fiqa, tfns, nwgi, headline, ner,"), r.err());
        assertFalse(r.err().strip().contains("\n"), r.err());
        GenerateCommandTest.Run none = run("eval", "--model", stories().toString());
        assertEquals(1, none.code());
        assertTrue(none.err().startsWith("error: pass --data FILE"), none.err());
        GenerateCommandTest.Run two = run("eval", "--model", stories().toString(), "--data", fpbDev().toString(), "--tasks", "fpb,nwgi");
        assertEquals(1, two.code());
        assertTrue(two.err().startsWith("error: --data reads one file for one task"), two.err());
        GenerateCommandTest.Run noBase = run("eval", "--model", stories().toString(), "--task", "fpb", "--no-base");
        assertEquals(1, noBase.code());
        assertTrue(noBase.err().startsWith("error: --no-base needs at least one --adapter"), noBase.err());
    }

    @Test
    void generateAndPerplexityTakeAnAdapter(@TempDir Path dir) throws Exception {
        LlamaConfig config;
        try (Checkpoint ck = ModelLoader.load(stories().toString(), null)) {
            config = ck.config();
        }
        Path zero = saveAdapter(dir.resolve("zero"), config, 0f, 1);       // B = 0: the base model's function
        Path real = saveAdapter(dir.resolve("real"), config, 0.3f, 2);
        GenerateCommandTest.Run z = run("generate", "--model", stories().toString(), "--prompt", "Once upon a time", "--max-tokens", "56",
                "--adapter", zero.toString());
        assertEquals(0, z.code(), z.err());
        assertEquals(GenerateCommandTest.GOLDEN_CONTINUATION + "\n", z.out());
        GenerateCommandTest.Run a = run("generate", "--model", stories().toString(), "--prompt", "Once upon a time", "--max-tokens", "30",
                "--adapter", real.toString());
        assertEquals(0, a.code(), a.err());
        try (Checkpoint ck = ModelLoader.load(stories().toString(), null)) {
            LlamaModel m = LlamaModel.load(ck, null);
            LlamaModel am = new LlamaModel(AdaptedWeights.with(m.weights, PeftAdapterIO.load(real, m.config)));
            assertEquals(reference(am, ck.tokenizer(), "Once upon a time", 30) + "\n", a.out());
        }
        assertNotEquals(z.out(), a.out());

        Path f = dir.resolve("t.txt");
        Files.writeString(f, ("Once upon a time" + GenerateCommandTest.GOLDEN_CONTINUATION + ". ").repeat(3));
        String pBase = lastLine(run("perplexity", "--model", stories().toString(), "--file", f.toString(), "--ctx", "64"));
        String pZero = lastLine(run("perplexity", "--model", stories().toString(), "--file", f.toString(), "--ctx", "64", "--adapter", zero.toString()));
        String pReal = lastLine(run("perplexity", "--model", stories().toString(), "--file", f.toString(), "--ctx", "64", "--adapter", real.toString()));
        assertTrue(pBase.matches("perplexity: [0-9]+\\.[0-9]+"), pBase);
        assertEquals(pBase, pZero);
        assertNotEquals(pBase, pReal);
    }

    static String lastLine(GenerateCommandTest.Run r) {
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        return lines[lines.length - 1];
    }
}
