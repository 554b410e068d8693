package org.finlora.data;

import java.util.Map;
import java.util.Objects;

/**
 * One dataset row in FinLoRA's format: the prompt ({@code context}) and the expected answer
 * ({@code target}), plus any other fields the row carried (e.g. {@code doc_path} in the XBRL
 * extraction files) as text, and where it came from ("file:line") for error messages.
 */
public record Example(String context, String target, Map<String, String> fields, String origin) {
    /**
     * Longest prompt + answer accepted (characters): far above any FinLoRA task and any context a
     * model here reads, and small enough that tokenizing one example takes well under a second.
     */
    public static final int MAX_CHARS = 1 << 20;

    public Example {
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(target, "target");
        fields = fields == null ? Map.of() : Map.copyOf(fields);
        origin = origin == null ? "" : origin;
        if ((long) context.length() + target.length() > MAX_CHARS) {
            throw new org.finlora.FinloraException((origin.isEmpty() ? "an example" : origin) + ": context and target have "
                    + ((long) context.length() + target.length()) + " characters together, more than the " + MAX_CHARS
                    + " an example may have (split or shorten it)");
        }
    }

    public Example(String context, String target) {
        this(context, target, Map.of(), "");
    }
}
