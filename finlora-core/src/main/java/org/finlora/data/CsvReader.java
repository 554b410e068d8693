package org.finlora.data;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.finlora.FinloraException;
import org.finlora.io.InputFiles;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a CSV file (RFC 4180, first row = header) into {@link Example}s: the prompt and answer
 * come from two named columns (FinLoRA's names {@code context}/{@code target} by default), every
 * other column is kept in {@link Example#fields()}. Without those columns, FinGPT-style
 * {@code instruction}/{@code input}/{@code output} columns are formatted as FinLoRA does. Errors name the file and the line.
 */
public final class CsvReader {
    private CsvReader() {
    }

    public static List<Example> read(Path path, int limit) {
        return read(path, "context", "target", limit);
    }

    public static List<Example> read(Path path, String contextColumn, String targetColumn, int limit) {
        CSVFormat format = CSVFormat.RFC4180.builder()
                .setHeader()
                .setSkipHeaderRecord(true)
                .setIgnoreEmptyLines(true)
                .get();
        InputFiles.check(path, InputFiles.DATA, "CSV data");
        List<Example> out = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8);
             CSVParser parser = CSVParser.builder().setReader(reader).setFormat(format).get()) {
            List<String> header = parser.getHeaderNames();
            boolean fingpt = !header.contains(contextColumn) && header.contains("instruction") && header.contains("output");
            if (!fingpt) {
                requireColumn(path, header, contextColumn);
                requireColumn(path, header, targetColumn);
            }
            var it = parser.iterator();
            while (limit <= 0 || out.size() < limit) {
                long lineBefore = parser.getCurrentLineNumber() + 1;
                CSVRecord rec;
                try {
                    if (!it.hasNext()) break;
                    rec = it.next();
                } catch (UncheckedIOException e) {
                    throw new FinloraException(path + ":" + lineBefore + ": malformed CSV (" + e.getCause().getMessage() + ")");
                }
                String where = path + ":" + lineBefore;
                if (!rec.isConsistent()) {
                    throw new FinloraException(where + ": expected " + header.size() + " columns, found " + rec.size());
                }
                Set<String> used = fingpt ? Set.of("instruction", "input", "output") : Set.of(contextColumn, targetColumn);
                Map<String, String> fields = new LinkedHashMap<>();
                for (String h : header) {
                    if (!used.contains(h)) fields.put(h, rec.get(h));
                }
                if (fingpt) {
                    String input = header.contains("input") ? rec.get("input") : "";
                    out.add(new Example(FinTask.formatExample(rec.get("instruction"), input), rec.get("output"), fields, where));
                } else {
                    out.add(new Example(rec.get(contextColumn), rec.get(targetColumn), fields, where));
                }
            }
        } catch (NoSuchFileException e) {
            throw new FinloraException(path + ": no such file");
        } catch (IOException e) {
            throw new FinloraException(path + ": cannot read CSV (" + e.getMessage() + ")", e);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new FinloraException(path + ": malformed CSV (" + e.getMessage() + ")");
        }
        return out;
    }

    private static void requireColumn(Path path, List<String> header, String column) {
        if (!header.contains(column)) {
            throw new FinloraException(path + ":1: no column \"" + column + "\" in the header (columns: " + String.join(", ", header) + ")");
        }
    }
}
