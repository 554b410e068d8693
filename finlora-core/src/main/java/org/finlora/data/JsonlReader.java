package org.finlora.data;

import com.fasterxml.jackson.databind.JsonNode;
import org.finlora.FinloraException;
import org.finlora.io.InputFiles;
import org.finlora.io.Json;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * Streams FinLoRA JSONL: one JSON object per line with string fields {@code context} and
 * {@code target}; other fields are kept as text in {@link Example#fields()}. FinGPT-style rows
 * ({@code instruction}, {@code input}, {@code output}) are turned into FinLoRA's context the way
 * FinLoRA's format_example does. Blank lines are skipped. Every problem is a {@link FinloraException} "file:line: reason".
 */
public final class JsonlReader implements Iterator<Example>, Closeable {
    /** Longest line read (a row is at most Example.MAX_CHARS of text plus its JSON quoting). */
    static final int MAX_LINE_CHARS = 4 * Example.MAX_CHARS + 4096;

    private final Path path;
    private final BufferedReader in;
    private final String contextField;
    private final String targetField;
    private int lineNumber;
    private Example next;

    public JsonlReader(Path path) {
        this(path, "context", "target");
    }

    /** Reads rows whose prompt and answer live in the given fields (FinLoRA: context, target). */
    public JsonlReader(Path path, String contextField, String targetField) {
        this.path = path;
        this.contextField = contextField;
        this.targetField = targetField;
        InputFiles.check(path, InputFiles.DATA, "JSONL data");
        try {
            var decoder = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT);
            this.in = new BufferedReader(new InputStreamReader(Files.newInputStream(path), decoder), 1 << 16);
        } catch (NoSuchFileException e) {
            throw new FinloraException(path + ": file not found");
        } catch (IOException e) {
            throw new FinloraException(path + ": cannot open (" + e.getMessage() + ")", e);
        }
    }

    /** The next line without its terminator, or null at the end; a line longer than MAX_LINE_CHARS is an error. */
    private String readLine() throws IOException {
        StringBuilder sb = null;
        while (true) {
            if (pos == lim) {
                lim = in.read(buf, 0, buf.length);
                pos = 0;
                if (lim <= 0) {
                    lim = 0;
                    return sb == null ? null : sb.toString();
                }
            }
            if (skipLf) {
                skipLf = false;
                if (buf[pos] == '\n') {
                    pos++;
                    continue;
                }
            }
            if (sb == null) sb = new StringBuilder();
            int start = pos;
            while (pos < lim && buf[pos] != '\n' && buf[pos] != '\r') pos++;
            if (sb.length() + (pos - start) > MAX_LINE_CHARS) {
                throw new FinloraException(path + ":" + (lineNumber + 1) + ": line longer than " + MAX_LINE_CHARS + " characters (one example per line)");
            }
            sb.append(buf, start, pos - start);
            if (pos < lim) {
                skipLf = buf[pos] == '\r';
                pos++;
                return sb.toString();
            }
        }
    }

    private final char[] buf = new char[1 << 16];
    private int pos, lim;
    /** The last line ended with '\r': a '\n' right after belongs to it. */
    private boolean skipLf;

    /** Reads the whole file (at most {@code limit} rows when limit > 0). */
    public static List<Example> read(Path path, int limit) {
        List<Example> out = new ArrayList<>();
        try (JsonlReader r = new JsonlReader(path)) {
            while (r.hasNext() && (limit <= 0 || out.size() < limit)) out.add(r.next());
        }
        return out;
    }

    public static List<Example> read(Path path) {
        return read(path, 0);
    }

    @Override
    public boolean hasNext() {
        if (next != null) return true;
        try {
            String line;
            while ((line = readLine()) != null) {
                lineNumber++;
                if (line.isBlank()) continue;
                next = parse(line);
                return true;
            }
            return false;
        } catch (CharacterCodingException e) {
            throw new FinloraException(path + ":" + (lineNumber + 1) + ": not valid UTF-8");
        } catch (IOException e) {
            throw new FinloraException(path + ":" + (lineNumber + 1) + ": read failed (" + e.getMessage() + ")", e);
        }
    }

    @Override
    public Example next() {
        if (!hasNext()) throw new NoSuchElementException();
        Example e = next;
        next = null;
        return e;
    }

    /** Line number of the last row returned (1-based, counting blank lines). */
    public int lineNumber() {
        return lineNumber;
    }

    private Example parse(String line) {
        String where = path + ":" + lineNumber;
        JsonNode node = Json.parseLine(path, lineNumber, line);
        if (!node.isObject()) {
            throw new FinloraException(where + ": expected a JSON object {\"" + contextField + "\": ..., \"" + targetField + "\": ...}");
        }
        String context, target;
        Set<String> used;
        if (!node.has(contextField) && node.has("instruction") && node.has("output")) {
            // FinGPT-style row: build FinLoRA's context as its format_example does
            String input = node.has("input") ? stringField(node, "input", where) : "";
            context = FinTask.formatExample(stringField(node, "instruction", where), input);
            target = stringField(node, "output", where);
            used = Set.of("instruction", "input", "output");
        } else {
            context = stringField(node, contextField, where);
            target = stringField(node, targetField, where);
            used = Set.of(contextField, targetField);
        }
        Map<String, String> fields = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            var f = it.next();
            if (used.contains(f.getKey())) continue;
            JsonNode v = f.getValue();
            fields.put(f.getKey(), v.isTextual() ? v.textValue() : v.toString());
        }
        return new Example(context, target, fields, where);
    }

    private static String stringField(JsonNode node, String name, String where) {
        JsonNode v = node.get(name);
        if (v == null) throw new FinloraException(where + ": missing field \"" + name + "\"");
        if (!v.isTextual()) {
            throw new FinloraException(where + ": field \"" + name + "\" must be a string, found " + v.getNodeType().toString().toLowerCase());
        }
        return v.textValue();
    }

    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
