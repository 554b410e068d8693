package org.finlora.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finlora.io.AtomicFiles;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/** Writes examples as FinLoRA JSONL ({"context": ..., "target": ...} plus extra fields), atomically. */
public final class JsonlWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonlWriter() {
    }

    public static String line(Example e) {
        ObjectNode o = JSON.createObjectNode();
        o.put("context", e.context());
        o.put("target", e.target());
        for (var f : e.fields().entrySet()) o.put(f.getKey(), f.getValue());
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    public static void write(Path file, List<Example> examples) {
        AtomicFiles.write(file, w -> {
            for (Example e : examples) {
                w.write(line(e));
                w.write('\n');
            }
        });
    }
}
