package org.finlora.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.finlora.io.Checkpoint;
import org.finlora.io.HfFolderLoader;
import org.finlora.kernel.Simd;
import org.finlora.lora.AdaptedWeights;
import org.finlora.lora.LoraAdapter;
import org.finlora.lora.PeftAdapterIO;
import org.finlora.model.Generator;
import org.finlora.model.LlamaModel;
import org.finlora.model.LlamaWeights;
import org.finlora.model.Sampler;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * finetune / merge through Main.run. The overfit run uses stories260K (a trained f32 model: the tiny
 * random fixture's frozen lm_head cannot make logits large enough for a loss near 0); error cases
 * use the tiny Llama 3 fixture (2 layers, dim 64, vocab 300).
 */
class FinetuneCommandTest {
    static final Path TINY = Path.of("../finlora-core/src/test/resources/fixtures/tiny-llama3");
    static final String[] LABELS = {"positive", "negative", "neutral"};

    @TempDir
    static Path tmp;
    static Path adapterDir, trainFile;
    static GenerateCommandTest.Run trained;

    static String prompt(int i) {
        return "Input: item " + (char) ('a' + i) + "\nAnswer: ";
    }

    static Path stories, storiesTok;

    /** 8 examples, overfit: lr 5e-3, 40 steps of the whole set; some options come from a YAML --config. */
    @BeforeAll
    static void overfit() throws Exception {
        assertTrue(Files.isDirectory(TINY), "fixture " + TINY.toAbsolutePath());
        stories = GenerateCommandTest.stories();
        storiesTok = stories.resolveSibling("tok512.bin");
        trainFile = tmp.resolve("train.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            lines.add("{\"context\": " + new ObjectMapper().writeValueAsString(prompt(i)) + ", \"target\": \"" + LABELS[i % 3] + "\"}");
        }
        Files.write(trainFile, lines);
        Path config = tmp.resolve("run.yaml");
        Files.writeString(config, "rank: 8\nalpha: 16\ndropout: 0.0\nlr: 0.005\nepochs: 150\nlr_schedule: constant\nbatch-size: 8\n");
        adapterDir = tmp.resolve("adapter");
        trained = GenerateCommandTest.run("finetune", "--model", stories.toString(), "--tokenizer", storiesTok.toString(), "--train", trainFile.toString(), "--output", adapterDir.toString(),
                "--config", config.toString(), "--epochs", "40", "--eval-data", trainFile.toString(), "--eval-every", "20");
    }

    @Test
    void overfitsEightExamplesToNearZeroLoss() throws Exception {
        assertEquals(0, trained.code(), trained.err());
        assertTrue(Files.isRegularFile(adapterDir.resolve("adapter_config.json")));
        assertTrue(Files.isRegularFile(adapterDir.resolve("adapter_model.safetensors")));
        assertTrue(Files.size(adapterDir.resolve("loss_curve.png")) > 1000);
        assertTrue(trained.err().contains("memory: base weights"), trained.err());
        // --epochs on the command line wins over the config file's 80: 40 steps of one batch of 8
        List<String> metrics = Files.readAllLines(adapterDir.resolve("metrics.jsonl"));
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> steps = new ArrayList<>();
        for (String l : metrics) {
            JsonNode n = json.readTree(l);
            if (n.has("loss")) steps.add(n);
        }
        assertEquals(40, steps.size());
        double first = steps.getFirst().get("loss").asDouble(), last = steps.getLast().get("loss").asDouble();
        assertTrue(first > 1.0, "initial loss " + first);
        assertTrue(last < 0.02, "final loss " + last);
        assertEquals(0.005, steps.get(10).get("lr").asDouble(), 1e-9, "constant schedule from the config");
        Matcher m = Pattern.compile("eval loss ([0-9.]+)").matcher(trained.out());
        assertTrue(m.find(), trained.out());
        assertTrue(Double.parseDouble(m.group(1)) < 0.02, trained.out());
        assertTrue(trained.out().startsWith("finetune done: 40 steps"), trained.out());
        JsonNode cfg = json.readTree(adapterDir.resolve("adapter_config.json").toFile());
        assertEquals(8, cfg.get("r").asInt());
        assertEquals(stories.toString(), cfg.get("base_model_name_or_path").asText());
        assertEquals(7, cfg.get("target_modules").size());
    }

    @Test
    void writtenAdapterLoadsAndChangesGeneration() {
        assertEquals(0, trained.code(), trained.err());
        try (Checkpoint ck = org.finlora.io.ModelLoader.load(stories.toString(), storiesTok)) {
            LlamaWeights base = LlamaWeights.load(ck, null, Simd.configured());
            LoraAdapter ad = PeftAdapterIO.load(adapterDir, ck.config());
            var tok = ck.tokenizer();
            int changed = 0, exact = 0;
            for (int i = 0; i < 8; i++) {
                int[] ids = tok.encode(prompt(i), tok.addsBosByDefault());
                int[] a = new Generator(new LlamaModel(base), tok).generate(ids, 10, new Sampler(0f, 1f, 0), x -> { });
                int[] b = new Generator(new LlamaModel(AdaptedWeights.with(base, ad)), tok).generate(ids, 10, new Sampler(0f, 1f, 0), x -> { });
                if (!java.util.Arrays.equals(a, b)) changed++;
                if (tok.decode(b, true).strip().equals(LABELS[i % 3])) exact++;
            }
            assertTrue(changed >= 6, changed + " of 8 generations changed");
            assertTrue(exact >= 7, exact + " of 8 generations are the trained answer");
        }
    }

    @Test
    void mergeErrorIsNearZeroForAnF32Base() throws Exception {
        assertEquals(0, trained.code(), trained.err());
        Path merged = tmp.resolve("merged");
        GenerateCommandTest.Run r = GenerateCommandTest.run("merge", "--model", stories.toString(), "--tokenizer", storiesTok.toString(),
                "--adapter", adapterDir.toString(), "--output", merged.toString());
        assertEquals(0, r.code(), r.err());
        Matcher m = Pattern.compile("max \\|logit diff\\| ([0-9.eE+-]+)").matcher(r.out());
        assertTrue(m.find(), r.out());
        double err = Double.parseDouble(m.group(1));
        assertTrue(err < 1e-3, "merge error " + err);
        assertTrue(Files.isRegularFile(merged.resolve("config.json")));
        // the merge changed the projections: the merged model answers like the adapter
        try (Checkpoint ck = HfFolderLoader.load(merged, false); Checkpoint base = org.finlora.io.ModelLoader.load(stories.toString(), storiesTok)) {
            float[] q0 = org.finlora.tensor.Floats.toFloatArray(ck.tensor("model.layers.0.self_attn.q_proj.weight"));
            float[] b0 = org.finlora.tensor.Floats.toFloatArray(base.tensor("model.layers.0.self_attn.q_proj.weight"));
            double d = 0;
            for (int i = 0; i < q0.length; i++) d = Math.max(d, Math.abs(q0[i] - b0[i]));
            assertTrue(d > 1e-3, "merged q_proj differs from the base by " + d);
            var tok = base.tokenizer();
            int[] ids = tok.encode(prompt(1), tok.addsBosByDefault());
            int[] out = new Generator(new LlamaModel(LlamaWeights.load(ck, null, Simd.configured())), tok).generate(ids, 10, new Sampler(0f, 1f, 0), x -> { });
            assertEquals(LABELS[1], tok.decode(out, true).strip());
        }
    }

    @Test
    void malformedJsonlFailsWithLineNumberAndNoStackTrace() throws Exception {
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"context\": \"a\", \"target\": \"b\"}\n\n{\"context\": \"a\", \"target\": \n");
        GenerateCommandTest.Run r = GenerateCommandTest.run("finetune", "--model", TINY.toString(), "--train", bad.toString(),
                "--output", tmp.resolve("never").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: " + bad + ":3:") && r.err().contains(": malformed JSON ("), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        assertFalse(Files.exists(tmp.resolve("never")));
        Path missing = tmp.resolve("missing.jsonl");
        Files.writeString(missing, "{\"context\": \"a\"}\n");
        r = GenerateCommandTest.run("finetune", "--model", TINY.toString(), "--train", missing.toString(), "--output", tmp.resolve("never").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains(missing + ":1: missing field \"target\""), r.err());
    }

    @Test
    void adapterOfTheWrongShapeIsAClearError() throws Exception {
        // an adapter made for a model with intermediate size 128 instead of the fixture's 160
        var other = new org.finlora.model.LlamaConfig(64, 128, 2, 4, 2, 16, 300, 512, 1e-5f, 500000f, null, null, false, false);
        Path wrong = tmp.resolve("wrong-adapter");
        PeftAdapterIO.save(LoraAdapter.init(org.finlora.lora.LoraConfig.of(4, 8f, 0f), other, 1), wrong);
        GenerateCommandTest.Run r = GenerateCommandTest.run("merge", "--model", TINY.toString(), "--adapter", wrong.toString(),
                "--output", tmp.resolve("m2").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: ") && r.err().contains("gate_proj.lora_B.weight' has shape [128, 4] but the model needs [160, 4]"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        assertFalse(Files.exists(tmp.resolve("m2")));
    }

    /** Tokens of BOS + prompt(i) for each of the 8 examples. */
    static int[] promptTokens() {
        try (Checkpoint ck = HfFolderLoader.load(TINY)) {
            var tok = ck.tokenizer();
            int[] n = new int[8];
            for (int i = 0; i < 8; i++) n[i] = tok.encode(prompt(i), tok.addsBosByDefault()).length;
            return n;
        }
    }

    @Test
    void summaryReportsTruncation() throws Exception {
        // one token more than the shortest prompt: prompts of that length keep one target token (truncated),
        // longer prompts keep none (skipped)
        int[] p = promptTokens();
        int min = java.util.Arrays.stream(p).min().getAsInt(), max = min + 1;
        long truncated = java.util.Arrays.stream(p).filter(x -> x == min).count();
        Path out = tmp.resolve("short");
        GenerateCommandTest.Run r = GenerateCommandTest.run("finetune", "--model", TINY.toString(), "--train", trainFile.toString(),
                "--output", out.toString(), "--max-seq-len", Integer.toString(max), "--max-steps", "1", "--quant", "nf4", "--rank", "2",
                "--target-modules", "q,k,v", "--no-plot");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains(truncated + " truncated, " + (8 - truncated) + " skipped"), r.out());
        assertTrue(truncated < 8, "the case needs both kinds");
        List<String> targets = new ArrayList<>();
        new ObjectMapper().readTree(out.resolve("adapter_config.json").toFile()).get("target_modules").forEach(n -> targets.add(n.asText()));
        assertEquals(List.of("q_proj", "k_proj", "v_proj"), targets);
    }

    @Test
    void resumeFromACheckpointEndsWithTheSameAdapterAndCurve() throws Exception {
        String[] common = {"finetune", "--model", TINY.toString(), "--train", trainFile.toString(), "--batch-size", "2", "--epochs", "2",
                "--save-every", "2", "--dropout", "0.1", "--lr", "1e-3", "--lr-schedule", "cosine", "--warmup-steps", "2", "--no-plot",
                "--eval-data", trainFile.toString(), "--eval-every", "3"};
        // the first run warms the JIT (Vector API kernels round differently before C2 compiles them)
        for (String name : List.of("warm", "full")) {
            GenerateCommandTest.Run r = GenerateCommandTest.run(concat(common, "--output", tmp.resolve(name).toString()));
            assertEquals(0, r.code(), r.err());
        }
        Path full = tmp.resolve("full"), resumed = tmp.resolve("resumed");
        assertTrue(Files.isDirectory(full.resolve("checkpoints/step-000004")));
        GenerateCommandTest.Run r = GenerateCommandTest.run(concat(common, "--output", resumed.toString(), "--resume",
                full.resolve("checkpoints/step-000004").toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("resuming after step 4"), r.err());
        assertArrayEquals(Files.readAllBytes(full.resolve("adapter_model.safetensors")), Files.readAllBytes(resumed.resolve("adapter_model.safetensors")));
        ObjectMapper json = new ObjectMapper();
        List<String> a = new ArrayList<>(), b = new ArrayList<>();
        for (String l : Files.readAllLines(full.resolve("metrics.jsonl"))) {
            JsonNode n = json.readTree(l);
            if (n.get("step").asInt() > 4) a.add(n.get("step") + " " + n.path("loss") + " " + n.path("eval_loss"));
        }
        for (String l : Files.readAllLines(resumed.resolve("metrics.jsonl"))) {
            JsonNode n = json.readTree(l);
            b.add(n.get("step") + " " + n.path("loss") + " " + n.path("eval_loss"));
        }
        assertEquals(6, a.size(), "steps 5-8 and the evals at 6 and 8 " + a);
        assertEquals(a, b);
    }

    static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
