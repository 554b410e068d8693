package org.finlora.eval;

import org.finlora.data.Example;
import org.finlora.data.FinTask;
import org.finlora.data.SyntheticSentiment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class EvalSuiteTest {
    @TempDir
    Path tmp;

    @Test
    void everyModelOnEveryTaskWithOneDataReadPerTask() throws Exception {
        List<Example> fpb = SyntheticSentiment.generate(30, 3);
        FinTask nwgiTask = FinTask.byName("nwgi");
        List<Example> nwgi = List.of(new Example(nwgiTask.prompt("a"), "strong positive"), new Example(nwgiTask.prompt("b"), "neutral"));
        Map<String, Example> byPrompt = new HashMap<>();
        for (Example e : fpb) byPrompt.put(e.context(), e);
        for (Example e : nwgi) byPrompt.put(e.context(), e);
        // "base" always says neutral; "oracle" answers the target
        Map<String, TextGenerator> gens = Map.of(
                "base", (prompts, max) -> prompts.stream().map(p -> "neutral").toList(),
                "oracle", (prompts, max) -> prompts.stream().map(p -> byPrompt.get(p).target()).toList());
        List<String> asked = new ArrayList<>();
        Map<String, Integer> reads = new HashMap<>();
        List<String> pairsSeen = new ArrayList<>();
        List<TaskResult> rs = EvalSuite.run(List.of("base", "oracle"), m -> {
                    asked.add(m);
                    return gens.get(m);
                }, List.of(FinTask.byName("fpb"), nwgiTask),
                t -> {
                    reads.merge(t.name(), 1, Integer::sum);
                    return t.name().equals("fpb") ? fpb : nwgi;
                }, 4, (model, task, done, total, pair, pairs) -> {
                    if (done == total) pairsSeen.add(model + "/" + task.name() + " " + (pair + 1) + "/" + pairs);
                }, tmp);
        assertEquals(List.of("base", "oracle"), asked);
        assertEquals(Map.of("fpb", 1, "nwgi", 1), reads);
        assertEquals(List.of("base/fpb 1/4", "base/nwgi 2/4", "oracle/fpb 3/4", "oracle/nwgi 4/4"), pairsSeen);
        assertEquals(4, rs.size());
        assertEquals(1.0 / 3, rs.get(0).accuracy(), 1e-15); // balanced synthetic set, one third neutral
        assertEquals(1.0, rs.get(2).accuracy(), 0);
        assertEquals(1.0, rs.get(3).accuracy3(), 0);
        for (String f : List.of("base-fpb-answers.jsonl", "base-nwgi-summary.json", "oracle-fpb-summary.json", "report.md", "report.csv", "report.html")) {
            assertTrue(Files.exists(tmp.resolve(f)), f);
        }
        String md = Files.readString(tmp.resolve("report.md"));
        assertTrue(md.contains("| oracle | 100.00 / 1.000 | 100.00 / 1.000 | 100.00 / 1.000 |"), md);
        assertTrue(md.contains("Max new tokens: FPB 10, NWGI 10."), md);
    }

    /** The per-task budget is computed once per task from its examples and reaches every model's generator. */
    @Test
    void perTaskBudgetReachesTheGeneratorsAndTheReport() throws Exception {
        FinTask fpbTask = FinTask.byName("fpb"), nwgiTask = FinTask.byName("nwgi");
        List<Example> fpb = List.of(new Example(fpbTask.prompt("a"), "neutral"));
        List<Example> nwgi = List.of(new Example(nwgiTask.prompt("b"), "neutral"));
        List<String> seen = new ArrayList<>();
        Map<String, Integer> budgetCalls = new HashMap<>();
        List<TaskResult> rs = EvalSuite.run(List.of("base", "a1"),
                m -> (prompts, max) -> {
                    seen.add(m + " " + max);
                    return prompts.stream().map(p -> "neutral").toList();
                }, List.of(fpbTask, nwgiTask), t -> t == fpbTask ? fpb : nwgi, 4,
                (t, ex) -> {
                    budgetCalls.merge(t.name(), 1, Integer::sum);
                    assertEquals(1, ex.size());
                    return t == nwgiTask ? 21 : 7;
                }, (model, task, done, total, pair, pairs) -> {
                }, tmp);
        assertEquals(Map.of("fpb", 1, "nwgi", 1), budgetCalls);
        assertEquals(List.of("base 7", "base 21", "a1 7", "a1 21"), seen);
        assertEquals(List.of(7, 21, 7, 21), rs.stream().map(TaskResult::maxNewTokens).toList());
        assertEquals(21, Evaluator.readSummary(tmp.resolve("a1-nwgi-summary.json")).maxNewTokens());
        assertTrue(Files.readString(tmp.resolve("report.md")).contains("Max new tokens: FPB 7, NWGI 21."));
    }
}
