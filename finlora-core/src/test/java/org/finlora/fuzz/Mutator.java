package org.finlora.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * Mutations of valid seed files, driven by a {@link Choices} source (a seeded PRNG in the CI suite,
 * Jazzer's data provider when coverage-guided): truncation, bit flips, byte runs, little-endian
 * length fields set to huge, negative or boundary values, inserted invalid UTF-8, NUL and "../",
 * splices; for JSON seeds also structural edits (a value of the wrong type, absurd numbers and
 * shapes, removed or unknown keys, deep nesting, long strings).
 */
final class Mutator {
    /** Where each random decision comes from. */
    interface Choices {
        /** A number in [0, bound). */
        int next(int bound);

        default boolean coin() {
            return next(2) == 0;
        }
    }

    static final long[] INTERESTING = {0, 1, 2, -1, -2, 7, 8, 255, 256, 65535, 65536, Integer.MAX_VALUE, Integer.MIN_VALUE,
            Integer.MAX_VALUE + 1L, 0xFFFFFFFFL, 1L << 40, Long.MAX_VALUE, Long.MIN_VALUE, -100, 1_000_000_007L};
    static final String[] NASTY_STRINGS = {"", "..", "../../../../etc/passwd", "a\u0000b", "/abs/path", "C:\\x", "\\\\server\\share",
            "\u0000", "\n\r\t", "\uFFFD\uFFFE", "%s%n", "x".repeat(5000), "model.layers.0.self_attn.q_proj.weight", "NaN", "-Infinity"};
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private Mutator() {
    }

    /** 1 to 4 mutations of {@code seed}; JSON-aware ones when the seed is JSON text. */
    static byte[] mutate(byte[] seed, boolean json, List<byte[]> others, Choices c) {
        byte[] b = seed;
        int rounds = 1 + c.next(4);
        for (int i = 0; i < rounds; i++) b = json && c.next(3) != 0 ? mutateJson(b, c) : mutateBytes(b, others, c);
        return b;
    }

    static byte[] mutateBytes(byte[] b, List<byte[]> others, Choices c) {
        if (b.length == 0) return new byte[]{(byte) c.next(256)};
        b = b.clone();
        switch (c.next(10)) {
            case 0 -> {
                return Arrays.copyOf(b, c.next(b.length));   // truncation
            }
            case 1 -> {
                for (int k = 1 + c.next(8); k > 0; k--) b[pos(b, c)] ^= (byte) (1 << c.next(8));   // bit flips
            }
            case 2 -> {
                int p = pos(b, c), run = 1 + c.next(16);
                byte v = switch (c.next(4)) {
                    case 0 -> (byte) 0xFF;
                    case 1 -> 0;
                    case 2 -> (byte) 0x7F;
                    default -> (byte) c.next(256);
                };
                for (int k = 0; k < run && p + k < b.length; k++) b[p + k] = v;
            }
            case 3, 4 -> {   // a length/count/offset field: 4 or 8 bytes at an aligned or any offset
                boolean wide = c.coin();
                int w = wide ? 8 : 4;
                if (b.length < w) return b;
                int p = c.coin() ? c.next(b.length - w + 1) / w * w : c.next(b.length - w + 1);
                long v = INTERESTING[c.next(INTERESTING.length)];
                ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
                if (wide) bb.putLong(p, v);
                else bb.putInt(p, (int) v);
            }
            case 5 -> {
                return insert(b, pos(b, c), new byte[][]{{(byte) 0xC3, 0x28}, {(byte) 0xFF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
                        {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {0}, "../".getBytes(StandardCharsets.UTF_8),
                        {(byte) 0xC0, (byte) 0xAF}}[c.next(7)]);
            }
            case 6 -> {   // duplicate a chunk (repeated records, stretched arrays)
                int p = pos(b, c), len = 1 + c.next(Math.min(64, b.length - p));
                return insert(b, pos(b, c), Arrays.copyOfRange(b, p, p + len));
            }
            case 7 -> {   // delete a chunk
                int p = pos(b, c), len = 1 + c.next(Math.min(64, b.length - p));
                byte[] out = new byte[b.length - len];
                System.arraycopy(b, 0, out, 0, p);
                System.arraycopy(b, p + len, out, p, b.length - p - len);
                return out;
            }
            case 8 -> {   // splice with another seed of the same kind
                if (others.isEmpty()) return b;
                byte[] o = others.get(c.next(others.size()));
                if (o.length == 0) return b;
                int cut = pos(b, c), from = c.next(o.length);
                byte[] out = Arrays.copyOf(b, cut + (o.length - from));
                System.arraycopy(o, from, out, cut, o.length - from);
                return out;
            }
            default -> b[pos(b, c)] = (byte) c.next(256);
        }
        return b;
    }

    private static int pos(byte[] b, Choices c) {
        // most format fields live near the start: bias half the picks to the first 512 bytes
        return c.coin() ? c.next(Math.min(b.length, 512)) : c.next(b.length);
    }

    private static byte[] insert(byte[] b, int at, byte[] what) {
        byte[] out = new byte[b.length + what.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(what, 0, out, at, what.length);
        System.arraycopy(b, at, out, at + what.length, b.length - at);
        return out;
    }

    /** A structural edit of a JSON document (falls back to byte mutations when the text does not parse). */
    static byte[] mutateJson(byte[] text, Choices c) {
        if (c.next(12) == 0) return deepNesting(text, c);
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (Exception e) {
            return mutateBytes(text, List.of(), c);
        }
        if (root == null || !root.isContainerNode()) return mutateBytes(text, List.of(), c);
        List<JsonNode> containers = new ArrayList<>();
        collect(root, containers);
        JsonNode target = containers.get(c.next(containers.size()));
        if (target instanceof ObjectNode o && !o.isEmpty()) {
            List<String> keys = new ArrayList<>();
            o.fieldNames().forEachRemaining(keys::add);
            String k = keys.get(c.next(keys.size()));
            switch (c.next(5)) {
                case 0 -> o.remove(k);
                case 1 -> o.set(NASTY_STRINGS[c.next(NASTY_STRINGS.length)], value(c));
                case 2 -> {   // rename a key to a nasty one, keeping its value
                    JsonNode v = o.remove(k);
                    o.set(NASTY_STRINGS[c.next(NASTY_STRINGS.length)], v);
                }
                default -> o.set(k, value(c));
            }
        } else if (target instanceof ArrayNode a) {
            switch (c.next(4)) {
                case 0 -> a.removeAll();
                case 1 -> {
                    if (!a.isEmpty()) {
                        JsonNode x = a.get(c.next(a.size()));
                        for (int i = 0; i < 200; i++) a.add(x.deepCopy());   // an absurd shape
                    }
                }
                case 2 -> a.add(value(c));
                default -> {
                    if (!a.isEmpty()) a.set(c.next(a.size()), value(c));
                }
            }
        }
        byte[] out = root.toString().getBytes(StandardCharsets.UTF_8);
        return c.next(6) == 0 ? mutateBytes(out, List.of(), c) : out;
    }

    private static void collect(JsonNode n, List<JsonNode> out) {
        if (!n.isContainerNode()) return;
        out.add(n);
        if (out.size() > 4000) return;
        for (Iterator<JsonNode> it = n.elements(); it.hasNext(); ) collect(it.next(), out);
    }

    /** A replacement value: the wrong type, a boundary or absurd number, a nasty string, a nested shape. */
    static JsonNode value(Choices c) {
        return switch (c.next(9)) {
            case 0 -> F.numberNode(INTERESTING[c.next(INTERESTING.length)]);
            case 1 -> F.numberNode(new double[]{1e308, -1e308, 1e-320, 0.5, -0.0, 3.4e38, 65504.0}[c.next(7)]);
            case 2 -> F.textNode(NASTY_STRINGS[c.next(NASTY_STRINGS.length)]);
            case 3 -> F.booleanNode(c.coin());
            case 4 -> F.nullNode();
            case 5 -> F.arrayNode().add(INTERESTING[c.next(INTERESTING.length)]).add(F.textNode("x"));
            case 6 -> F.objectNode().put("a", 1).set("b", F.arrayNode());
            case 7 -> F.numberNode(new java.math.BigInteger("123456789012345678901234567890"));
            default -> {
                ArrayNode a = F.arrayNode();
                for (int i = 0; i < 64; i++) a.add(i);
                yield a;
            }
        };
    }

    /** The document wrapped in (or with a value replaced by) thousands of nested arrays/objects. */
    private static byte[] deepNesting(byte[] text, Choices c) {
        int depth = new int[]{65, 200, 5000, 100_000}[c.next(4)];
        boolean obj = c.coin();
        StringBuilder sb = new StringBuilder(depth * 6);
        for (int i = 0; i < depth; i++) sb.append(obj ? "{\"a\":" : "[");
        sb.append(c.coin() ? new String(text, StandardCharsets.UTF_8) : "1");
        for (int i = 0; i < depth; i++) sb.append(obj ? "}" : "]");
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** A Choices over a seeded PRNG (reproducible: the seed is printed with any failure). */
    static Choices random(long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        return r::nextInt;
    }

}
