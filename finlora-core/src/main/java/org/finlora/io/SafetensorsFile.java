package org.finlora.io;

import com.fasterxml.jackson.databind.JsonNode;
import org.finlora.FinloraException;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file: u64 LE header length N, N bytes of JSON ({name: {dtype, shape,
 * data_offsets}} plus an optional {@code __metadata__} of strings), then the data buffer. Every
 * field is validated as the reference Rust reader does (header bound, known dtype, shape × dtype
 * size = offset span, offsets contiguous from 0 to the end of the buffer: no holes, no overlaps).
 * Tensors are slices of the mapping, in file order.
 */
public final class SafetensorsFile {
    /** The reference implementation refuses headers above 100 MB. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final String source;
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;
    private final long dataStart;

    private SafetensorsFile(String source, Map<String, Tensor> tensors, Map<String, String> metadata, long dataStart) {
        this.source = source;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.metadata = Collections.unmodifiableMap(metadata);
        this.dataStart = dataStart;
    }

    /** Maps {@code file} into {@code arena} and validates it; the tensors live as long as the arena. */
    public static SafetensorsFile open(Path file, Arena arena) {
        return read(file.toString(), MappedFile.map(file, arena));
    }

    /** Parses and validates safetensors bytes already in memory (a mapping or a heap segment). */
    public static SafetensorsFile read(String source, MemorySegment file) {
        long size = file.byteSize();
        if (size < 8) throw new FinloraException(source + ": " + size + " bytes is too short for a safetensors header length (8 bytes)");
        long n = file.get(U64, 0);
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new FinloraException(source + ": header length " + Long.toUnsignedString(n) + " at offset 0 exceeds the 100 MB limit (not a safetensors file?)");
        }
        if (n > size - 8) {
            throw new FinloraException(source + ": header length " + n + " at offset 0 runs past the end of the file (" + size + " bytes; truncated?)");
        }
        if (n < 2 || file.get(ValueLayout.JAVA_BYTE, 8) != '{') {
            throw new FinloraException(source + ": header at offset 8 does not start with '{' (not a safetensors file?)");
        }
        byte[] headerBytes = file.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(headerBytes));
        } catch (CharacterCodingException e) {
            throw new FinloraException(source + ": header at offset 8 is not valid UTF-8");
        }
        JsonNode root = Json.parse(Json.STRICT, source + ": header", headerBytes);
        if (root == null || !root.isObject()) throw new FinloraException(source + ": header JSON is not an object");
        long dataStart = 8 + n;
        long bufferSize = size - dataStart;

        Map<String, String> metadata = new LinkedHashMap<>();
        record Entry(String name, DType dtype, long[] shape, long begin, long end) {
        }
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String name = f.getKey();
            JsonNode v = f.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) throw new FinloraException(source + ": __metadata__ is not an object of strings");
                for (Iterator<Map.Entry<String, JsonNode>> m = v.fields(); m.hasNext(); ) {
                    Map.Entry<String, JsonNode> kv = m.next();
                    if (!kv.getValue().isTextual()) {
                        throw new FinloraException(source + ": __metadata__ value of " + SafetensorsFile.quote(kv.getKey()) + " is not a string");
                    }
                    metadata.put(kv.getKey(), kv.getValue().textValue());
                }
                continue;
            }
            String where = source + ": tensor " + SafetensorsFile.quote(name) + "";
            if (!v.isObject()) throw new FinloraException(where + ": header entry is not an object");
            JsonNode dt = v.get("dtype"), sh = v.get("shape"), off = v.get("data_offsets");
            if (dt == null || !dt.isTextual()) throw new FinloraException(where + ": missing or non-string dtype");
            if (sh == null || !sh.isArray()) throw new FinloraException(where + ": missing or non-array shape");
            if (off == null || !off.isArray() || off.size() != 2) throw new FinloraException(where + ": data_offsets is not [begin, end]");
            DType dtype = dtypeOf(where, dt.textValue());
            long[] shape = new long[sh.size()];
            long elements = 1;
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = sh.get(i);
                if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) {
                    throw new FinloraException(where + ": shape[" + i + "] = " + d + " is not a non-negative integer");
                }
                shape[i] = d.longValue();
                try {
                    elements = Math.multiplyExact(elements, shape[i]);
                } catch (ArithmeticException e) {
                    throw new FinloraException(where + ": shape " + sh + " overflows");
                }
            }
            long[] be = new long[2];
            for (int i = 0; i < 2; i++) {
                JsonNode d = off.get(i);
                if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) {
                    throw new FinloraException(where + ": data_offsets[" + i + "] = " + d + " is not a non-negative integer");
                }
                be[i] = d.longValue();
            }
            if (be[1] < be[0]) throw new FinloraException(where + ": data_offsets " + off + " end before they begin");
            long bytes;
            try {
                bytes = Math.multiplyExact(elements, (long) dtype.blockBytes);
            } catch (ArithmeticException e) {
                throw new FinloraException(where + ": shape " + sh + " overflows");
            }
            if (bytes != be[1] - be[0]) {
                throw new FinloraException(where + ": shape " + sh + " of " + dt.textValue() + " needs " + bytes
                        + " bytes but data_offsets " + off + " span " + (be[1] - be[0]));
            }
            entries.add(new Entry(name, dtype, shape, be[0], be[1]));
        }
        // The buffer must be covered exactly: sorted by begin, each tensor starts where the previous ended.
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort((a, b) -> a.begin != b.begin ? Long.compare(a.begin, b.begin) : Long.compare(a.end, b.end));
        long expected = 0;
        for (Entry e : byOffset) {
            if (e.begin != expected) {
                throw new FinloraException(source + ": tensor " + SafetensorsFile.quote(e.name) + " begins at buffer offset " + e.begin + " where "
                        + expected + " was expected (" + (e.begin > expected ? "hole" : "overlap") + " in data_offsets)");
            }
            expected = e.end;
        }
        if (expected != bufferSize) {
            throw new FinloraException(source + ": tensors cover " + expected + " bytes but the data buffer after the header has "
                    + bufferSize + (expected > bufferSize ? " (truncated file?)" : " (trailing bytes)"));
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Entry e : byOffset) {
            tensors.put(e.name, new Tensor(e.name, e.dtype, e.shape, file.asSlice(dataStart + e.begin, e.end - e.begin)));
        }
        return new SafetensorsFile(source, tensors, metadata, dataStart);
    }

    /**
     * Opens the weights of an HF folder: {@code model.safetensors}, else the shards listed in
     * {@code model.safetensors.index.json}. Tensor names are taken as they are.
     */
    public static Map<String, Tensor> openModel(Path dir, Arena arena) {
        Path single = dir.resolve("model.safetensors");
        Path index = dir.resolve("model.safetensors.index.json");
        if (Files.isRegularFile(single)) return open(single, arena).tensors();
        if (Files.isRegularFile(index)) return openSharded(index, arena);
        boolean torchBin = Files.isRegularFile(dir.resolve("pytorch_model.bin")) || Files.isRegularFile(dir.resolve("pytorch_model.bin.index.json"));
        throw new FinloraException(dir + ": no model.safetensors or model.safetensors.index.json"
                + (torchBin ? " (only PyTorch .bin weights found; save the model with safe_serialization=True)" : ""));
    }

    /** Opens every shard named in an index's weight_map and checks that each listed tensor is in its shard. */
    public static Map<String, Tensor> openSharded(Path index, Arena arena) {
        JsonNode root = Json.read(index, InputFiles.SMALL_JSON, "sharded model index");
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject()) throw new FinloraException(index + ": missing field weight_map");
        Map<String, List<String>> byShard = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) throw new FinloraException(index + ": weight_map value of " + SafetensorsFile.quote(e.getKey()) + " is not a file name");
            String shard = e.getValue().textValue();
            if (!isPlainFileName(shard)) {
                throw new FinloraException(index + ": weight_map shard name " + SafetensorsFile.quote(shard) + " is not a plain file name");
            }
            byShard.computeIfAbsent(shard, k -> new ArrayList<>()).add(e.getKey());
        }
        Map<String, Tensor> all = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> e : byShard.entrySet()) {
            Path shardPath = index.resolveSibling(e.getKey());
            if (!Files.isRegularFile(shardPath)) throw new FinloraException(index + ": shard " + e.getKey() + " listed in weight_map is missing");
            Map<String, Tensor> shard = open(shardPath, arena).tensors();
            for (String name : e.getValue()) {
                Tensor t = shard.get(name);
                if (t == null) throw new FinloraException(shardPath + ": tensor " + SafetensorsFile.quote(name) + " listed in " + index.getFileName() + " is not in this shard");
                all.put(name, t);
            }
        }
        return all;
    }

    /** A file name that names a file in the same folder and nothing else: no separators, NUL or control characters, no leading '.'. */
    static boolean isPlainFileName(String s) {
        if (s.isEmpty() || s.length() > 255 || s.startsWith(".") || s.contains("/") || s.contains("\\") || s.contains(":")) return false;
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) < 0x20 || s.charAt(i) == 0x7f) return false;
        return true;
    }

    static DType dtypeOf(String where, String name) {
        return switch (name) {
            case "F32" -> DType.F32;
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            case "F64" -> DType.F64;
            case "I8" -> DType.I8;
            case "U8" -> DType.U8;
            case "I16" -> DType.I16;
            case "I32" -> DType.I32;
            case "I64" -> DType.I64;
            case "BOOL" -> DType.BOOL;
            case "F4", "F6_E2M3", "F6_E3M2", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ",
                 "U16", "U32", "U64", "C64" ->
                    throw new FinloraException(where + ": dtype " + name + " is valid safetensors but not supported by FinLoRA-J");
            default -> throw new FinloraException(where + ": unknown dtype " + SafetensorsFile.quote(name) + "");
        };
    }

    /** The safetensors spelling of a dtype, or an error for block formats safetensors cannot hold. */
    static String dtypeName(DType d) {
        return switch (d) {
            case F32, F16, BF16, F64, I8, U8, I16, I32, I64, BOOL -> d.name();
            default -> throw new IllegalArgumentException("safetensors cannot store dtype " + d);
        };
    }

    /** A name from a file, quoted for a one-line message: control characters escaped, long names cut. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder("'");
        for (int i = 0; i < s.length() && i < 120; i++) {
            char ch = s.charAt(i);
            if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && ch < 0xa0) || ch == 0x2028 || ch == 0x2029) b.append(String.format("\\u%04x", (int) ch));
            else b.append(ch);
        }
        if (s.length() > 120) b.append("...");
        return b.append('\'').toString();
    }

    static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        String l = nl < 0 ? s : s.substring(0, nl);
        return l.length() > 200 ? l.substring(0, 200) + "..." : l;
    }

    public String source() {
        return source;
    }

    /** Tensors in file (offset) order. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    /** The {@code __metadata__} strings (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** File offset of the data buffer (8 + header length). */
    public long dataStart() {
        return dataStart;
    }
}
