package org.finlora.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Finds special-token texts (e.g. {@code <|eot_id|>}) in a string, longest match first. */
final class SpecialTokenMatcher {
    private final Map<String, Integer> ids;
    private final Pattern pattern;

    SpecialTokenMatcher(Map<String, Integer> ids) {
        this.ids = Map.copyOf(ids);
        List<String> texts = new ArrayList<>(ids.keySet());
        texts.removeIf(String::isEmpty);
        texts.sort(Comparator.comparingInt(String::length).reversed().thenComparing(Comparator.naturalOrder()));
        StringBuilder sb = new StringBuilder();
        for (String t : texts) {
            if (!sb.isEmpty()) sb.append('|');
            sb.append(Pattern.quote(t));
        }
        pattern = texts.isEmpty() ? null : Pattern.compile(sb.toString());
    }

    /** Calls {@code ordinary} for the text between special tokens and {@code special} for each token found. */
    void split(String text, Consumer<String> ordinary, IntConsumer special) {
        if (pattern == null) {
            if (!text.isEmpty()) ordinary.accept(text);
            return;
        }
        Matcher m = pattern.matcher(text);
        int last = 0;
        while (m.find()) {
            if (m.start() > last) ordinary.accept(text.substring(last, m.start()));
            special.accept(ids.get(m.group()));
            last = m.end();
        }
        if (last < text.length()) ordinary.accept(text.substring(last));
    }

    /** Id of a special-token text, or -1. */
    int id(String text) {
        Integer id = ids.get(text);
        return id == null ? -1 : id;
    }
}
