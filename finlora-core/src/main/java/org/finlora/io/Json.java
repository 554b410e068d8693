package org.finlora.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.finlora.FinloraException;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Every JSON document the engine reads goes through here: bounded nesting (real configs and
 * tokenizers nest fewer than 10 levels), bounded string and number lengths, and one-line errors
 * {@code source:line:column: malformed JSON (reason)} instead of Jackson's two-line messages.
 */
public final class Json {
    public static final int MAX_DEPTH = 64;
    private static final StreamReadConstraints LIMITS = StreamReadConstraints.builder()
            .maxNestingDepth(MAX_DEPTH).maxNumberLength(400).maxStringLength(256 << 20).maxNameLength(1 << 20).build();
    /** Field-name interning off: a tokenizer.json vocab has 10^5 distinct keys that would fill the intern cache. */
    private static final JsonFactory FACTORY = JsonFactory.builder().streamReadConstraints(LIMITS)
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES).disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES).build();
    /** The mapper for documents read; lenient on duplicate keys, as Python's json is. */
    public static final ObjectMapper MAPPER = JsonMapper.builder(FACTORY).build();
    /** Duplicate keys refused (safetensors headers, as the reference reader). */
    static final ObjectMapper STRICT = JsonMapper.builder(JsonFactory.builder().streamReadConstraints(LIMITS).build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private Json() {
    }

    /** A JSON file (regular, at most {@code maxBytes}) as a tree. {@code what} names the file's role for errors. */
    public static JsonNode read(Path file, long maxBytes, String what) {
        return parse(file.toString(), InputFiles.readBytes(file, maxBytes, what), maxBytes);
    }

    /** JSON bytes from {@code source} (a file, a URL, a tensor) as a tree; never null. */
    public static JsonNode parse(String source, byte[] bytes, long maxBytes) {
        if (bytes.length > maxBytes) throw new FinloraException(source + ": " + bytes.length + " bytes of JSON is more than " + InputFiles.human(maxBytes));
        return parse(MAPPER, source, bytes);
    }

    static JsonNode parse(ObjectMapper mapper, String source, byte[] bytes) {
        try {
            JsonNode n = mapper.readTree(bytes);
            if (n == null || n.isMissingNode()) throw new FinloraException(source + ": empty JSON document");
            return n;
        } catch (JsonProcessingException e) {
            throw error(source, e);
        } catch (IOException | RuntimeException e) {
            if (e instanceof FinloraException f) throw f;
            throw new FinloraException(source + ": malformed JSON (" + oneLine(e.getMessage()) + ")");
        }
    }

    /** A JSON text (one JSONL row, ...) as a tree; {@code source} already names the place. */
    public static JsonNode parse(String source, String text) {
        try {
            JsonNode n = MAPPER.readTree(text);
            if (n == null || n.isMissingNode()) throw new FinloraException(source + ": empty JSON document");
            return n;
        } catch (JsonProcessingException e) {
            throw error(source, e);
        }
    }

    /** One line of a JSONL file: errors read {@code file:line:column: ...}. */
    public static JsonNode parseLine(Path file, long line, String text) {
        try {
            JsonNode n = MAPPER.readTree(text);
            if (n == null || n.isMissingNode()) throw new FinloraException(file + ":" + line + ": empty JSON document");
            return n;
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            return Json.<JsonNode>fail(new FinloraException(file + ":" + line + (at == null || at.getColumnNr() < 1 ? "" : ":" + at.getColumnNr())
                    + ": malformed JSON (" + oneLine(e.getOriginalMessage()) + ")"));
        }
    }

    private static <T> T fail(FinloraException e) {
        throw e;
    }

    /** {@code source:line:column: malformed JSON (first line of Jackson's reason)}. */
    public static FinloraException error(String source, JsonProcessingException e) {
        JsonLocation at = e.getLocation();
        String where = at == null || at.getLineNr() < 1 ? "" : ":" + at.getLineNr() + ":" + at.getColumnNr();
        return new FinloraException(source + where + ": malformed JSON (" + oneLine(e.getOriginalMessage()) + ")");
    }

    static String oneLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        String l = (nl < 0 ? s : s.substring(0, nl)).replace('\r', ' ');
        return l.length() > 200 ? l.substring(0, 200) + "..." : l;
    }
}
