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
    }
}
