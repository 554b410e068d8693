package org.finlora.data;

import org.finlora.FinloraException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class JsonlReaderTest {
    @TempDir
    Path tmp;

    @Test
    void readsSharedFpbDev() {
        List<Example> rows = JsonlReader.read(SharedData.dir().resolve("fpb_dev.jsonl"));
        assertEquals(363, rows.size()); // shared/data/README.md
        Example first = rows.getFirst();
        assertTrue(first.context().startsWith("Instruction: What is the sentiment of this news?"));
        assertTrue(first.context().endsWith("\nAnswer: "));
        assertEquals("positive", first.target());
        assertTrue(first.origin().endsWith("fpb_dev.jsonl:1"));
        long pos = rows.stream().filter(e -> e.target().equals("positive")).count();
        assertEquals(104, pos);
    }

    @Test
    void keepsExtraFieldsSkipsBlankLinesAndHonoursLimit() throws Exception {
        Path f = tmp.resolve("x.jsonl");
        Files.writeString(f, "{\"context\":\"a\",\"target\":\"b\",\"doc_path\":\"d.xml\",\"n\":3}\n\n  \n{\"context\":\"c\",\"target\":\"d\"}\n{\"context\":\"e\",\"target\":\"f\"}\n");
        List<Example> rows = JsonlReader.read(f);
        assertEquals(3, rows.size());
        assertEquals("d.xml", rows.get(0).fields().get("doc_path"));
        assertEquals("3", rows.get(0).fields().get("n"));
        assertTrue(rows.get(1).origin().endsWith(":4"), rows.get(1).origin());
        assertEquals(2, JsonlReader.read(f, 2).size());
    }

    @Test
    void malformedJsonNamesFileAndLine() throws Exception {
        Path f = tmp.resolve("bad.jsonl");
        Files.writeString(f, "{\"context\":\"a\",\"target\":\"b\"}\n{\"context\": \"a\", \"target\"\n");
        var e = assertThrows(FinloraException.class, () -> JsonlReader.read(f));
        assertTrue(e.getMessage().matches(java.util.regex.Pattern.quote(f + ":2:") + "\\d+: malformed JSON \\(.*\\)"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void missingOrNonStringFieldsAreErrors() throws Exception {
        Path f = tmp.resolve("m.jsonl");
        Files.writeString(f, "{\"context\":\"a\"}\n");
        assertEquals(f + ":1: missing field \"target\"", assertThrows(FinloraException.class, () -> JsonlReader.read(f)).getMessage());
        Files.writeString(f, "{\"context\":\"a\",\"target\":\"b\"}\n{\"context\":\"a\",\"target\":5}\n");
        assertEquals(f + ":2: field \"target\" must be a string, found number",
                assertThrows(FinloraException.class, () -> JsonlReader.read(f)).getMessage());
        Files.writeString(f, "[1,2]\n");
        assertTrue(assertThrows(FinloraException.class, () -> JsonlReader.read(f)).getMessage().startsWith(f + ":1: expected a JSON object"));
        Files.write(f, new byte[]{'{', '"', 'c', (byte) 0xff, '"', '}', '\n'});
        assertEquals(f + ":1: not valid UTF-8", assertThrows(FinloraException.class, () -> JsonlReader.read(f)).getMessage());
        assertEquals(tmp.resolve("none.jsonl") + ": file not found (JSONL data)",
                assertThrows(FinloraException.class, () -> JsonlReader.read(tmp.resolve("none.jsonl"))).getMessage());
    }

    @Test
    void writerRoundTrips() {
        Path f = tmp.resolve("out/w.jsonl");
        List<Example> in = List.of(new Example("Instruction: x\nInput: \"q\" \u00e9\nAnswer: ", "neutral", java.util.Map.of("k", "v"), ""));
        JsonlWriter.write(f, in);
        List<Example> back = JsonlReader.read(f);
        assertEquals(in.getFirst().context(), back.getFirst().context());
        assertEquals("neutral", back.getFirst().target());
        assertEquals("v", back.getFirst().fields().get("k"));
    }

    /** FinGPT rows (instruction/input/output) become FinLoRA contexts exactly as format_example builds them. */
    @Test
    void finGptRowsAreFormattedLikeFinLora() throws Exception {
        Path f = tmp.resolve("g.jsonl");
        Files.writeString(f, "{\"instruction\":\"What is the sentiment of this news? Please choose an answer from {negative/neutral/positive}.\","
                + "\"input\":\"Sales rose .\",\"output\":\"positive\",\"id\":1}\n{\"instruction\":\"Q?\",\"input\":\"\",\"output\":\"Yes\"}\n");
        List<Example> rows = JsonlReader.read(f);
        assertEquals(FinTask.byName("fpb").prompt("Sales rose ."), rows.get(0).context());
        assertEquals("positive", rows.get(0).target());
        assertEquals(java.util.Map.of("id", "1"), rows.get(0).fields());
        assertEquals("Instruction: Q?\nAnswer: ", rows.get(1).context());
    }
}
