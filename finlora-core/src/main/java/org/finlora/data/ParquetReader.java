package org.finlora.data;

import blue.strategic.parquet.Hydrator;
import org.apache.parquet.io.api.Binary;
import org.finlora.FinloraException;
import org.finlora.io.InputFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Reads a Parquet file (flat schema of primitive columns, as the Hugging Face Hub's converted
 * datasets are) into {@link Example}s: two named string columns become prompt and answer, the
 * other columns are kept as text; FinGPT-style instruction/input/output columns are formatted as
 * FinLoRA's format_example does. Uses parquet-java through parquet-floor, which needs no Hadoop
 * install. Errors name the file and the row.
 */
public final class ParquetReader {
    private ParquetReader() {
    }

    public static List<Example> read(Path path, int limit) {
        return read(path, "context", "target", limit);
    }

    public static List<Example> read(Path path, String contextColumn, String targetColumn, int limit) {
        InputFiles.check(path, InputFiles.DATA, "Parquet data");
        List<Example> out = new ArrayList<>();
        Hydrator<Map<String, Object>, Map<String, Object>, String[]> hydrator = new Hydrator<>() {
            @Override
            public Map<String, Object> start() {
                return new LinkedHashMap<>();
            }

            @Override
            public Map<String, Object> add(Map<String, Object> row, String[] column, Object value) {
                row.put(String.join(".", column), value);
                return row;
            }

            @Override
            public Map<String, Object> finish(Map<String, Object> row) {
                return row;
            }
        };
        try (Stream<Map<String, Object>> rows = blue.strategic.parquet.ParquetReader.streamContent(path.toFile(), hydrator)) {
            var it = rows.iterator();
            long rowNumber = 0;
            while (it.hasNext() && (limit <= 0 || out.size() < limit)) {
                Map<String, Object> row = it.next();
                rowNumber++;
                String where = path + ": row " + rowNumber;
                String context, target;
                Set<String> used;
                if (!row.containsKey(contextColumn) && row.containsKey("instruction") && row.containsKey("output")) {
                    // FinGPT-style row: FinLoRA's format_example
                    Object input = row.get("input");
                    context = FinTask.formatExample(stringColumn(row, "instruction", where), input == null ? "" : text(input));
                    target = stringColumn(row, "output", where);
                    used = Set.of("instruction", "input", "output");
                } else {
                    context = stringColumn(row, contextColumn, where);
                    target = stringColumn(row, targetColumn, where);
                    used = Set.of(contextColumn, targetColumn);
                }
                Map<String, String> fields = new LinkedHashMap<>();
                for (var e : row.entrySet()) {
                    if (used.contains(e.getKey())) continue;
                    fields.put(e.getKey(), text(e.getValue()));
                }
                out.add(new Example(context, target, fields, where));
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof FinloraException fe) throw fe;
            throw new FinloraException(path + ": cannot read Parquet (" + e + ")", e);
        }
        return out;
    }

    private static String stringColumn(Map<String, Object> row, String name, String where) {
        Object v = row.get(name);
        if (v == null) {
            throw new FinloraException(where + ": missing value in column \"" + name + "\" (columns present: " + String.join(", ", row.keySet()) + ")");
        }
        if (!(v instanceof String) && !(v instanceof Binary)) {
            throw new FinloraException(where + ": column \"" + name + "\" must be a string, found " + v.getClass().getSimpleName());
        }
        return text(v);
    }

    private static String text(Object v) {
        if (v instanceof Binary b) return b.toStringUsingUTF8();
        return String.valueOf(v);
    }
}
