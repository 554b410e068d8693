package org.finlora.io;

import org.finlora.FinloraException;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A --config file: a YAML (or JSON) mapping of option names to scalars or lists of scalars. Read
 * with SnakeYAML's safe constructor, bounded (size, nesting, aliases) and checked for that shape,
 * so a command sees only names and plain values; errors name file:line:column.
 */
public final class OptionsFile {
    private OptionsFile() {
    }

    public static Map<String, Object> read(Path file) {
        return parse(file.toString(), InputFiles.readString(file, InputFiles.OPTIONS, "--config options file"));
    }

    /** Parses options text; {@code source} names it in errors. */
    public static Map<String, Object> parse(String source, String text) {
        LoaderOptions lo = new LoaderOptions();
        lo.setAllowDuplicateKeys(false);
        lo.setMaxAliasesForCollections(20);
        lo.setNestingDepthLimit(Json.MAX_DEPTH);
        lo.setCodePointLimit((int) InputFiles.OPTIONS);
        Object root;
        try {
            root = new Yaml(new SafeConstructor(lo)).load(text);
        } catch (MarkedYAMLException e) {
            Mark m = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            String at = m == null ? "" : ":" + (m.getLine() + 1) + ":" + (m.getColumn() + 1);
            String why = e.getProblem() != null ? e.getProblem() : e.getContext();
            throw new FinloraException(source + at + ": not valid YAML/JSON (" + Json.oneLine(why) + ")");
        } catch (RuntimeException | StackOverflowError e) {
            throw new FinloraException(source + ": not valid YAML/JSON (" + Json.oneLine(String.valueOf(e.getMessage())) + ")");
        }
        if (root == null) return Map.of();
        if (!(root instanceof Map<?, ?> map)) throw new FinloraException(source + ": expected a mapping of option names to values");
        Map<String, Object> out = new LinkedHashMap<>();
        for (var e : map.entrySet()) {
            if (!(e.getKey() instanceof String key)) throw new FinloraException(source + ": option name " + e.getKey() + " is not a string");
            Object v = e.getValue();
            if (v instanceof List<?> list) {
                for (Object x : list) {
                    if (!isScalar(x)) throw new FinloraException(source + ": option '" + key + "' lists a " + kind(x) + "; expected plain values");
                }
            } else if (!isScalar(v)) {
                throw new FinloraException(source + ": option '" + key + "' is a " + kind(v) + "; expected a value or a list of values");
            }
            out.put(key, v);
        }
        return out;
    }

    private static boolean isScalar(Object v) {
        return v instanceof String || v instanceof Number || v instanceof Boolean;
    }

    private static String kind(Object v) {
        return v == null ? "null" : v instanceof Map ? "mapping" : v instanceof List ? "list" : v.getClass().getSimpleName();
    }
}
