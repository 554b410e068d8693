package org.finlora.data;

import org.finlora.FinloraException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class CsvReaderTest {
    @TempDir
    Path tmp;

    @Test
    void readsQuotedFieldsAndKeepsOtherColumns() throws Exception {
        Path f = tmp.resolve("d.csv");
        Files.writeString(f, "id,context,target\n1,\"Instruction: a, b\nAnswer: \",positive\n2,plain,\"say \"\"no\"\"\"\n");
        List<Example> rows = CsvReader.read(f, 0);
        assertEquals(2, rows.size());
        assertEquals("Instruction: a, b\nAnswer: ", rows.get(0).context());
        assertEquals("positive", rows.get(0).target());
        assertEquals("1", rows.get(0).fields().get("id"));
        assertEquals("say \"no\"", rows.get(1).target());
        assertEquals(1, CsvReader.read(f, 1).size());
        assertSame(Datasets.read(f, 0).getClass(), rows.getClass());
        assertEquals(2, Datasets.read(f, 0).size());
    }

    @Test
    void namedColumns() throws Exception {
        Path f = tmp.resolve("t.csv");
        Files.writeString(f, "text,label\nhello,2\n");
        Example e = CsvReader.read(f, "text", "label", 0).getFirst();
        assertEquals("hello", e.context());
        assertEquals("2", e.target());
    }

    @Test
    void errorsNameFileAndLine() throws Exception {
        Path f = tmp.resolve("bad.csv");
        Files.writeString(f, "prompt,answer\na,b\n");
        var e = assertThrows(FinloraException.class, () -> CsvReader.read(f, 0));
        assertEquals(f + ":1: no column \"context\" in the header (columns: prompt, answer)", e.getMessage());
        Files.writeString(f, "context,target\na,b\nc\n");
        e = assertThrows(FinloraException.class, () -> CsvReader.read(f, 0));
        assertEquals(f + ":3: expected 2 columns, found 1", e.getMessage());
    }

    @Test
    void finGptColumnsAreFormattedLikeFinLora() throws Exception {
        Path f = tmp.resolve("g.csv");
        Files.writeString(f, "input,output,instruction\nGold slips,No,Does the news headline talk about price going up? Please choose an answer from {Yes/No}.\n");
        Example e = CsvReader.read(f, 0).getFirst();
        assertTrue(FinTask.byName("headline").matchesFormat(e.context()), e.context());
        assertEquals("Instruction: Does the news headline talk about price going up? Please choose an answer from {Yes/No}.\nInput: Gold slips\nAnswer: ", e.context());
        assertEquals("No", e.target());
    }
}
