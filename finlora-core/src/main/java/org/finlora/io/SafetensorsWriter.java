package org.finlora.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Writes a safetensors file with the byte layout of the reference Rust writer: tensors sorted by
 * dtype descending (in the spec's dtype order) then by name, compact JSON with {@code __metadata__}
 * first, header padded with spaces to a multiple of 8. Output goes to a temp file moved into place.
 */
public final class SafetensorsWriter {
    /** The Rust {@code Dtype} enum order; the writer sorts by it, largest first. */
    private static final List<String> DTYPE_ORDER = List.of("BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2",
            "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64",
            "F64", "I64", "U64");

    private record Pending(String name, DType dtype, long[] shape, MemorySegment data) {
    }

    private final List<Pending> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private final Map<String, String> metadata = new TreeMap<>();

    /** Adds a tensor whose bytes are already little-endian, row-major. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, MemorySegment data) {
        SafetensorsFile.dtypeName(dtype);
        if (name.equals("__metadata__")) throw new IllegalArgumentException("'__metadata__' is reserved");
        if (!names.add(name)) throw new IllegalArgumentException("duplicate tensor name " + name);
        long elements = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException(name + ": negative dimension");
            elements = Math.multiplyExact(elements, d);
        }
        long bytes = dtype.byteSize(elements);
        if (bytes != data.byteSize()) {
            throw new IllegalArgumentException(name + ": shape needs " + bytes + " bytes of " + dtype + ", got " + data.byteSize());
        }
        tensors.add(new Pending(name, dtype, shape.clone(), data));
        return this;
    }

    public SafetensorsWriter add(Tensor t) {
        return add(t.name(), t.dtype(), t.shape(), t.data());
    }

    public SafetensorsWriter add(String name, DType dtype, long[] shape, byte[] data) {
        return add(name, dtype, shape, MemorySegment.ofArray(data));
    }

    /** Adds an F32 tensor (stored little-endian whatever the platform order). */
    public SafetensorsWriter add(String name, long[] shape, float[] data) {
        MemorySegment le = MemorySegment.ofArray(new byte[4 * data.length]);
        MemorySegment.copy(data, 0, le, Floats.F32_LE, 0, data.length);
        return add(name, DType.F32, shape, le);
    }

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    public SafetensorsWriter metadata(Map<String, String> entries) {
        metadata.putAll(entries);
        return this;
    }

    /** The header bytes (JSON + padding, without the u64 length) for the tensors added so far. */
    byte[] header(List<Pending> ordered) {
        ObjectNode root = Json.STRICT.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = root.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Pending p : ordered) {
            ObjectNode info = root.putObject(p.name);
            info.put("dtype", SafetensorsFile.dtypeName(p.dtype));
            ArrayNode shape = info.putArray("shape");
            for (long d : p.shape) shape.add(d);
            ArrayNode offs = info.putArray("data_offsets");
            offs.add(offset);
            offset += p.data.byteSize();
            offs.add(offset);
        }
        byte[] json;
        try {
            json = Json.STRICT.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) out[i] = ' ';
        return out;
    }

    private List<Pending> ordered() {
        List<Pending> ordered = new ArrayList<>(tensors);
        ordered.sort(Comparator.<Pending>comparingInt(p -> -DTYPE_ORDER.indexOf(SafetensorsFile.dtypeName(p.dtype)))
                .thenComparing(Pending::name));
        return ordered;
    }

    /**
     * Writes a {@code model.safetensors.index.json} ({"metadata": {"total_size": bytes}, "weight_map":
     * {tensor: shard file}}, keys sorted, 2-space indent as transformers writes it).
     */
    public static void writeIndex(Path indexFile, long totalSize, Map<String, String> weightMap) {
        ObjectNode root = Json.STRICT.createObjectNode();
        root.putObject("metadata").put("total_size", totalSize);
        ObjectNode map = root.putObject("weight_map");
        new TreeMap<>(weightMap).forEach(map::put);
        Path tmp = null;
        try {
            byte[] json = Json.STRICT.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
            tmp = AtomicFiles.tempBeside(indexFile);
            java.nio.file.Files.write(tmp, json);
            AtomicFiles.moveIntoPlace(tmp, indexFile);
            tmp = null;
        } catch (IOException e) {
            throw AtomicFiles.writeError(indexFile, e);
        } finally {
            AtomicFiles.deleteQuietly(tmp);
        }
    }

    /** Bytes of tensor data added so far (the index's total_size counts these). */
    public long dataBytes() {
        long n = 0;
        for (Pending p : tensors) n += p.data.byteSize();
        return n;
    }

    /** Writes the file: temp file beside {@code target}, then an atomic move. */
    public void write(Path target) {
        List<Pending> ordered = ordered();
        byte[] header = header(ordered);
        Path tmp = null;
        try {
            tmp = AtomicFiles.tempBeside(target);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
                AtomicFiles.writeFully(ch, len);
                AtomicFiles.writeFully(ch, ByteBuffer.wrap(header));
                for (Pending p : ordered) AtomicFiles.writeFully(ch, p.data);
                ch.force(false);
            }
            AtomicFiles.moveIntoPlace(tmp, target);
            tmp = null;
        } catch (IOException e) {
            throw AtomicFiles.writeError(target, e);
        } finally {
            AtomicFiles.deleteQuietly(tmp);
        }
    }
}
