package org.finlora.data;

import org.finlora.FinloraException;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class FinTaskTest {

    @Test
    void unknownTaskListsTheKnownOnes() {
        var e = assertThrows(FinloraException.class, () -> FinTask.byName("fbp"));
        assertTrue(e.getMessage().startsWith("unknown task 'fbp' (known tasks: fpb, fiqa, tfns, nwgi, headline, ner, finer"), e.getMessage());
        for (String n : List.of("xbrl_tag", "xbrl_value", "xbrl_term", "formula", "financebench")) assertTrue(e.getMessage().contains(n));
    }

    @Test
    void namesAndFinLoraAliases() {
        assertSame(FinTask.byName("finer"), FinTask.byName("xbrl_finer"));
        assertSame(FinTask.byName("xbrl_tag"), FinTask.byName("xbrl_tags_extract"));
        assertSame(FinTask.byName("xbrl_value"), FinTask.byName("XBRL-Value-Extract"));
        assertSame(FinTask.byName("FPB"), FinTask.byName("fpb"));
    }

    /** max_new_token_dict in FinLoRA test/test_dataset.py. */
    @Test
    void maxNewTokensAreFinLoras() {
        Map<String, Integer> expected = Map.ofEntries(Map.entry("fpb", 10), Map.entry("fiqa", 10), Map.entry("tfns", 10),
                Map.entry("nwgi", 10), Map.entry("headline", 10), Map.entry("ner", 10), Map.entry("finer", 100),
                Map.entry("fnxl", 100), Map.entry("xbrl_tag", 20), Map.entry("xbrl_value", 20), Map.entry("xbrl_formula", 30),
                Map.entry("xbrl_formula_calc", 30), Map.entry("xbrl_term", 50), Map.entry("formula", 50), Map.entry("financebench", 50));
        for (FinTask t : FinTask.all()) assertEquals(expected.get(t.name()), t.maxNewTokens(), t.name());
        assertEquals(expected.size(), FinTask.all().size());
    }

    @Test
    void promptsAreFinLorasFormat() {
        assertEquals("Instruction: What is the sentiment of this news? Please choose an answer from {negative/neutral/positive}.\n"
                + "Input: Sales rose .\nAnswer: ", FinTask.byName("fpb").prompt("Sales rose ."));
        assertEquals("Instruction: What is the sentiment of this tweet? Please choose an answer from {negative/neutral/positive}.\n"
                + "Input: $X up\nAnswer: ", FinTask.byName("tfns").prompt("$X up"));
        assertEquals("Instruction: What is the sentiment of this tweet? Please choose an answer from {negative/neutral/positive}.\n"
                + "Input: t\nAnswer: ", FinTask.byName("fiqa").prompt(1, "t"));
        assertTrue(FinTask.byName("nwgi").prompt("n").contains("{strong negative/moderately negative/mildly negative/neutral/"
                + "mildly positive/moderately positive/strong positive}.\nInput: n\nAnswer: "));
        assertThrows(IllegalStateException.class, () -> FinTask.byName("ner").prompt("x"));
        assertFalse(FinTask.byName("fpb").matchesFormat("Instruction: What is the sentiment of this tweet? Please choose an answer from "
                + "{negative/neutral/positive}.\nInput: x\nAnswer: "));
    }

    /** Every row of every shared file has its task's prompt format, and fixed-label targets are in the label set. */
    @Test
    void sharedFilesMatchTheirTasks() throws Exception {
        Path dir = SharedData.dir();
        int files = 0;
        for (FinTask t : FinTask.all()) {
            List<Path> paths = new ArrayList<>(t.trainPaths(dir));
            if (t.devFile() != null) paths.add(t.devPath(dir));
            for (Path p : paths) {
                if (!Files.exists(p)) continue;
                files++;
                for (Example e : JsonlReader.read(p, 3000)) {
                    assertTrue(t.matchesFormat(e.context()), e.origin() + " does not match task " + t.name());
                    if (!t.labels().isEmpty()) assertTrue(t.labels().contains(e.target()), e.origin() + ": " + e.target());
                }
            }
        }
        assertEquals(22, files, "all 22 shared JSONL files belong to a task");
    }

    /** The fixed-instruction tasks rebuild the shared rows' contexts exactly from the input text. */
    @Test
    void promptRebuildsSharedContexts() {
        Path dir = SharedData.dir();
        for (String name : List.of("fpb", "tfns", "nwgi")) {
            FinTask t = FinTask.byName(name);
            for (Example e : JsonlReader.read(t.devPath(dir), 50)) {
                String c = e.context();
                String input = c.substring(c.indexOf("\nInput: ") + 8, c.lastIndexOf("\nAnswer: "));
                assertEquals(c, t.prompt(input), e.origin());
            }
        }
    }

    @Test
    void nwgiThreeClassMapping() {
        Map<String, String> m = FinTask.byName("nwgi").threeClassMap();
        assertEquals("negative", m.get("strong negative"));
        assertEquals("negative", m.get("moderately negative"));
        assertEquals("neutral", m.get("mildly negative"));
        assertEquals("neutral", m.get("neutral"));
        assertEquals("neutral", m.get("mildly positive"));
        assertEquals("positive", m.get("moderately positive"));
        assertEquals("positive", m.get("strong positive"));
        assertEquals(7, m.size());
        assertNull(FinTask.byName("fpb").threeClassMap());
    }

    @Test
    void noDefaultFileIsAClearError() {
        var e = assertThrows(FinloraException.class, () -> FinTask.byName("finer").devPath(Path.of("d")));
        assertTrue(e.getMessage().contains("pass --data FILE"));
    }

    @Test
    void inferTaskFromFileNameOrFormat() {
        assertEquals("fpb", FinTask.infer(Path.of("x/fpb_dev.jsonl"), List.of()).name());
        assertEquals("xbrl_formula_calc", FinTask.infer(Path.of("xbrl_formula_calc_extract_test.jsonl"), List.of()).name());
        assertEquals("xbrl_formula", FinTask.infer(Path.of("xbrl_formula_extract_test.jsonl"), List.of()).name());
        assertEquals("finer", FinTask.infer(Path.of("finer_test_batched.jsonl"), List.of()).name());
        assertEquals("nwgi", FinTask.infer(Path.of("mine.jsonl"), List.of(new Example(FinTask.byName("nwgi").prompt("a"), "neutral"))).name());
        // fpb/fiqa/tfns share prompts: by format alone the first that fits wins (they are scored the same way)
        assertEquals("fiqa", FinTask.infer(Path.of("mine.jsonl"), List.of(new Example(FinTask.byName("tfns").prompt("a"), "neutral"))).name());
        var e = assertThrows(FinloraException.class, () -> FinTask.infer(Path.of("mine.jsonl"), List.of(new Example("hello", "x"))));
        assertTrue(e.getMessage().startsWith("mine.jsonl: cannot tell which task this data is for; pass --task (known tasks: fpb,"));
    }
}
