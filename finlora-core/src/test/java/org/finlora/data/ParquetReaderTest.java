package org.finlora.data;

import blue.strategic.parquet.ParquetWriter;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Types;
import org.finlora.FinloraException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Writes real Parquet files with the same library (no Hadoop install) and reads them back. */
class ParquetReaderTest {
    @TempDir
    Path tmp;

    record Row(String context, String target, long id) {
    }

    private static Path write(Path file, List<Row> rows, boolean withTarget) throws Exception {
        var b = Types.buildMessage()
                .required(PrimitiveType.PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("context");
        if (withTarget) b = b.required(PrimitiveType.PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("target");
        MessageType schema = b.required(PrimitiveType.PrimitiveTypeName.INT64).named("id").named("row");
        try (ParquetWriter<Row> w = ParquetWriter.writeFile(schema, file.toFile(), (r, vw) -> {
            vw.write("context", r.context());
            if (withTarget) vw.write("target", r.target());
            vw.write("id", r.id());
        })) {
            for (Row r : rows) w.write(r);
        }
        return file;
    }

    @Test
    void readsStringColumnsAndKeepsOthers() throws Exception {
        Path f = write(tmp.resolve("d.parquet"), List.of(
                new Row("Instruction: x\nInput: Ünïcode €\nAnswer: ", "positive", 7),
                new Row("second", "negative", 8)), true);
        assertTrue(Files.size(f) > 0);
        List<Example> rows = ParquetReader.read(f, 0);
        assertEquals(2, rows.size());
        assertEquals("Instruction: x\nInput: Ünïcode €\nAnswer: ", rows.get(0).context());
        assertEquals("positive", rows.get(0).target());
        assertEquals("7", rows.get(0).fields().get("id"));
        assertEquals("negative", rows.get(1).target());
        assertEquals(1, ParquetReader.read(f, 1).size());
        assertEquals(2, Datasets.read(f, 0).size());
    }

    @Test
    void missingColumnIsAnError() throws Exception {
        Path f = write(tmp.resolve("n.parquet"), List.of(new Row("a", null, 1)), false);
        var e = assertThrows(FinloraException.class, () -> ParquetReader.read(f, 0));
        assertTrue(e.getMessage().startsWith(f + ": row 1: missing value in column \"target\""), e.getMessage());
    }

    @Test
    void notParquetIsAnError() throws Exception {
        Path f = tmp.resolve("x.parquet");
        Files.writeString(f, "this is not parquet");
        var e = assertThrows(FinloraException.class, () -> ParquetReader.read(f, 0));
        assertTrue(e.getMessage().startsWith(f + ": cannot read Parquet"), e.getMessage());
    }

    @Test
    void finGptColumnsAreFormattedLikeFinLora() throws Exception {
        MessageType schema = Types.buildMessage()
                .required(PrimitiveType.PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("input")
                .required(PrimitiveType.PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("output")
                .required(PrimitiveType.PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("instruction")
                .named("row");
        Path f = tmp.resolve("g.parquet");
        try (ParquetWriter<String[]> w = ParquetWriter.writeFile(schema, f.toFile(), (r, vw) -> {
            vw.write("input", r[0]);
            vw.write("output", r[1]);
            vw.write("instruction", r[2]);
        })) {
            w.write(new String[]{"$X up", "positive", "What is the sentiment of this tweet? Please choose an answer from {negative/neutral/positive}."});
        }
        Example e = ParquetReader.read(f, 0).getFirst();
        assertEquals(FinTask.byName("tfns").prompt("$X up"), e.context());
        assertEquals("positive", e.target());
    }
}
