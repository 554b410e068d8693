package org.finlora.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.finlora.FinloraException;
import org.finlora.data.Example;
import org.finlora.data.FinTask;
import org.finlora.data.JsonlReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The evaluator's bookkeeping, with a lookup-table generator standing in for the model. */
class EvaluatorTest {
    @TempDir
    Path tmp;

    /** Answers each prompt from a table; records the batches it was given. */
    static final class TableGenerator implements TextGenerator {
        final Map<String, String> table;
        final List<Integer> batchSizes = new ArrayList<>();
        int maxNewTokens = -1;

        TableGenerator(Map<String, String> table) {
            this.table = table;
        }

        @Override
        public List<String> generate(List<String> prompts, int maxNewTokens) {
            batchSizes.add(prompts.size());
            this.maxNewTokens = maxNewTokens;
            List<String> out = new ArrayList<>();
            for (String p : prompts) out.add(table.getOrDefault(p, ""));
            return out;
        }
    }

    private static Example fpb(String input, String target, int line) {
        return new Example(FinTask.byName("fpb").prompt(input), target, Map.of(), "t.jsonl:" + line);
    }

    @Test
    void batchesProgressScoresAndFiles() throws Exception {
        FinTask task = FinTask.byName("fpb");
        List<Example> ex = List.of(fpb("a", "positive", 1), fpb("b", "positive", 2), fpb("c", "negative", 3),
                fpb("d", "neutral", 4), fpb("e", "neutral", 5));
        var gen = new TableGenerator(Map.of(
                ex.get(0).context(), " positive<junk>",
                ex.get(1).context(), "negative",
                ex.get(2).context(), "negative\nAnswer: negative",
                ex.get(3).context(), "I think so",
                ex.get(4).context(), "Neutral."));
        List<int[]> progress = new ArrayList<>();
        TaskResult r = Evaluator.evaluate("base", task, ex, gen, 2, (done, total) -> progress.add(new int[]{done, total}));
        assertEquals(List.of(2, 2, 1), gen.batchSizes);
        assertEquals(10, gen.maxNewTokens);
        assertEquals(List.of("0/5", "2/5", "4/5", "5/5"), progress.stream().map(p -> p[0] + "/" + p[1]).toList());
        assertEquals(5, r.examples());
        assertEquals(0.6, r.accuracy(), 1e-15);
        // y_true pos,pos,neg,neu,neu; y_pred pos,"negative",neg,"I think so",neu
        // negative tp1 fp1 -> 2/3 (w1); neutral tp1 fn1 -> 2/3 (w2); positive tp1 fn1 -> 2/3 (w2)
        assertEquals(2.0 / 3, r.f1(), 1e-15);
        assertTrue(Double.isNaN(r.accuracy3()));
        assertEquals("positive<junk>", r.answers().get(0).answer());
        assertEquals("positive", r.answers().get(0).predicted());
        assertNull(r.answers().get(3).predicted());

        List<Path> files = Evaluator.writeAll(tmp.resolve("out"), r);
        assertEquals(List.of("base-fpb-answers.jsonl", "base-fpb-summary.json"), files.stream().map(p -> p.getFileName().toString()).toList());
        List<String> lines = Files.readAllLines(files.get(0));
        assertEquals(5, lines.size());
        JsonNode l3 = new ObjectMapper().readTree(lines.get(2));
        assertEquals("t.jsonl:3", l3.get("origin").asText());
        assertEquals("negative\nAnswer: negative", l3.get("output").asText());
        assertEquals("negative", l3.get("answer").asText());
        assertTrue(l3.get("correct").asBoolean());
        assertTrue(new ObjectMapper().readTree(lines.get(3)).get("predicted").isNull());
        TaskResult back = Evaluator.readSummary(files.get(1));
        assertEquals(r.accuracy(), back.accuracy(), 0);
        assertEquals(r.f1(), back.f1(), 0);
        assertEquals("base", back.model());
        assertEquals("FPB", back.title());
        try (var s = Files.list(tmp.resolve("out"))) {
            assertEquals(2, s.count(), "no temp files left behind");
        }
    }

    /**
     * A generator that, like a model writing one character per token, can only spell the first
     * maxNewTokens characters of its answer: with FinLoRA's 10, " moderately positive" is cut to
     * " moderatel" and matches no label; with the budget raised to 20 the whole label fits and is
     * scored. The result and the summary JSON record the budget actually used.
     */
    @Test
    void maxNewTokensIsPassedToTheGeneratorAndRecorded() throws Exception {
        FinTask task = FinTask.byName("nwgi");
        List<Example> ex = List.of(new Example(task.prompt("x"), "moderately positive"), new Example(task.prompt("y"), "neutral"));
        List<Integer> asked = new ArrayList<>();
        TextGenerator spelled = (prompts, max) -> {
            asked.add(max);
            List<String> out = new ArrayList<>();
            for (String p : prompts) {
                String full = p.equals(ex.get(0).context()) ? " moderately positive" : " neutral";
                out.add(full.substring(0, Math.min(full.length(), max)));
            }
            return out;
        };
        TaskResult finlora = Evaluator.evaluate("a", task, ex, spelled, 1, Evaluator.Progress.NONE);
        assertEquals(List.of(10, 10), asked);
        assertEquals(10, finlora.maxNewTokens());
        assertEquals(0.5, finlora.accuracy(), 0);
        assertEquals("moderatel", finlora.answers().get(0).answer());
        assertNull(finlora.answers().get(0).predicted());

        asked.clear();
        TaskResult wide = Evaluator.evaluate("a", task, ex, spelled, 2, 20, Evaluator.Progress.NONE);
        assertEquals(List.of(20), asked);
        assertEquals(20, wide.maxNewTokens());
        assertEquals(1.0, wide.accuracy(), 0);
        assertEquals("moderately positive", wide.answers().get(0).predicted());
        Path summary = Evaluator.writeAll(tmp, wide).get(1);
        assertEquals(20, new ObjectMapper().readTree(Files.readString(summary)).get("max_new_tokens").asInt());
        assertEquals(20, Evaluator.readSummary(summary).maxNewTokens());
        assertThrows(FinloraException.class, () -> Evaluator.evaluate("a", task, ex, spelled, 1, 0, Evaluator.Progress.NONE));
    }

    @Test
    void nwgiAlsoScoredOnThreeLabels() {
        FinTask task = FinTask.byName("nwgi");
        List<Example> ex = List.of(new Example(task.prompt("x"), "moderately positive"), new Example(task.prompt("y"), "mildly negative"));
        var gen = new TableGenerator(Map.of(ex.get(0).context(), "strong positive", ex.get(1).context(), "neutral"));
        TaskResult r = Evaluator.evaluate("a1", task, ex, gen, 8, Evaluator.Progress.NONE);
        assertEquals(0.0, r.accuracy(), 0);
        assertEquals(1.0, r.accuracy3(), 0);
        assertEquals(1.0, r.f13(), 0);
    }

    @Test
    void finerIsScoredPerTag() {
        FinTask task = FinTask.byName("finer");
        List<Example> ex = List.of(new Example("p1", "Revenues,Goodwill"), new Example("p2", "Goodwill"));
        var gen = new TableGenerator(Map.of("p1", "Revenues, LongTermDebt, Extra", "p2", "Goodwill"));
        TaskResult r = Evaluator.evaluate("base", task, ex, gen, 4, Evaluator.Progress.NONE);
        assertEquals(3, r.examples());
        assertEquals(2.0 / 3, r.accuracy(), 1e-15);
        assertEquals("revenues,", r.answers().get(0).predicted());
        assertFalse(r.answers().get(0).correct());
        assertTrue(r.answers().get(1).correct());
    }

    @Test
    void textTasksUseTheSubstitute() {
        FinTask task = FinTask.byName("xbrl_term");
        List<Example> ex = List.of(new Example("Explain this XBRL term briefly in one sentence: X. Answer:", "Amount of cash."));
        var gen = new TableGenerator(Map.of(ex.get(0).context(), " amount of cash."));
        TaskResult r = Evaluator.evaluate("base", task, ex, gen, 1, Evaluator.Progress.NONE);
        assertEquals(1.0, r.accuracy(), 0);
        assertEquals(1.0, r.f1(), 0);
    }

    @Test
    void rowsWithoutWhatTheTaskNeedsAreErrors() {
        FinTask fpb = FinTask.byName("fpb");
        var gen = new TableGenerator(Map.of());
        var e = assertThrows(FinloraException.class,
                () -> Evaluator.evaluate("base", fpb, List.of(fpb("a", "positive", 1), fpb("b", "bullish", 7)), gen, 1, Evaluator.Progress.NONE));
        assertEquals("t.jsonl:7: target \"bullish\" is not a label of task fpb (negative, neutral, positive)", e.getMessage());
        e = assertThrows(FinloraException.class, () -> Evaluator.evaluate("base", FinTask.byName("xbrl_value"),
                List.of(new Example("c", " ", Map.of(), "v.jsonl:3")), gen, 1, Evaluator.Progress.NONE));
        assertTrue(e.getMessage().startsWith("v.jsonl:3: empty \"target\""), e.getMessage());
        assertThrows(FinloraException.class, () -> Evaluator.evaluate("base", fpb, List.of(), gen, 1, Evaluator.Progress.NONE));
        assertThrows(FinloraException.class, () -> Evaluator.evaluate("base", fpb, List.of(fpb("a", "positive", 1)), gen, 0, Evaluator.Progress.NONE));
    }

    /** A perfect generator on the real shared dev set scores 1.0; one answering "neutral" scores the neutral share. */
    @Test
    void sharedDevSetWithOracleAndConstantGenerators() {
        Path dev = org.finlora.data.Datasets.sharedDataDir().resolve("fpb_dev.jsonl");
        if (!Files.exists(dev)) dev = Path.of("/work/shared/data/fpb_dev.jsonl");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(dev));
        List<Example> ex = JsonlReader.read(dev);
        TextGenerator oracle = (prompts, max) -> {
            List<String> out = new ArrayList<>();
            for (String p : prompts) for (Example e : ex) if (e.context().equals(p)) {
                out.add(" " + e.target());
                break;
            }
            return out;
        };
        TaskResult r = Evaluator.evaluate("oracle", FinTask.byName("fpb"), ex, oracle, 8, Evaluator.Progress.NONE);
        assertEquals(1.0, r.accuracy(), 0);
        assertEquals(1.0, r.f1(), 0);
        TextGenerator constant = (prompts, max) -> prompts.stream().map(p -> "neutral").toList();
        TaskResult c = Evaluator.evaluate("neutral", FinTask.byName("fpb"), ex, constant, 8, Evaluator.Progress.NONE);
        assertEquals(206.0 / 363, c.accuracy(), 1e-15); // 206 neutral rows (shared/data/README.md)
        // only "neutral" has F1 > 0: P = 206/363, R = 1 -> F1 = 2*206/(206+363); weight 206/363
        assertEquals(2.0 * 206 / (206 + 363) * 206 / 363, c.f1(), 1e-12);
    }
}
