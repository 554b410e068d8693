package org.finlora.data;

import java.util.Map;
import java.util.Objects;

/**
 * One dataset row in FinLoRA's format: the prompt ({@code context}) and the expected answer
 * ({@code target}), plus any other fields the row carried (e.g. {@code doc_path} in the XBRL
 * extraction files) as text, and where it came from ("file:line") for error messages.
 */
public record Example(String context, String target, Map<String, String> fields, String origin) {
    public Example {
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(target, "target");
        fields = fields == null ? Map.of() : Map.copyOf(fields);
        origin = origin == null ? "" : origin;
    }

    public Example(String context, String target) {
        this(context, target, Map.of(), "");
    }
}
