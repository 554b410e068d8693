package org.finlora.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

class TasksCommandTest {
    @Test
    void listsEveryTaskWithLabelsTokensAndMetric() {
        var buf = new ByteArrayOutputStream();
        TasksCommand.print(new PrintStream(buf, true, StandardCharsets.UTF_8), true);
        String out = buf.toString(StandardCharsets.UTF_8);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("fpb ") && l.contains("accuracy+F1") && l.contains(" 10 ")
                && l.contains("fpb_dev.jsonl") && l.endsWith("negative, neutral, positive")), out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("finer ") && l.contains(" 100 ")), out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("xbrl_term ") && l.contains("text (EM+tokF1)") && l.contains(" 50 ")), out);
        assertTrue(out.contains("hf: zeroshot/twitter-financial-news-sentiment"));
        assertTrue(out.contains("also scored on 3 labels"));
    }

    @Test
    void isRegisteredInMain() {
        PrintStream old = System.out;
        var buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.run("tasks");
        } finally {
            System.setOut(old);
        }
        assertEquals(0, code);
        assertTrue(buf.toString(StandardCharsets.UTF_8).contains("financebench"));
    }
}
