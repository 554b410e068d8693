package org.finlora.io;

import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a GGUF v3 file: header, metadata in insertion order, tensor infos (shape [out, in] written
 * as ggml dims [in, out]), zero padding to the alignment before the data section and after each
 * tensor. Output goes to a temp file moved into place.
 */
public final class GgufWriter {
    private record Kv(GgufValueType type, GgufValueType elementType, Object value) {
    }

    private record Pending(String name, DType dtype, long[] shape, MemorySegment data) {
    }

    private final Map<String, Kv> metadata = new LinkedHashMap<>();
    private final List<Pending> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;

    /**
     * Adds a scalar key. {@code value} is a Number for numeric types, Boolean for BOOL, String for
     * STRING (integers are written in the requested width).
     */
    public GgufWriter put(String key, GgufValueType type, Object value) {
        if (type == GgufValueType.ARRAY) throw new IllegalArgumentException("use putArray for " + key);
        check(type, value, key);
        metadata.put(key, new Kv(type, null, value));
        if (key.equals("general.alignment")) setAlignment(((Number) value).longValue());
        return this;
    }

    public GgufWriter putString(String key, String value) {
        return put(key, GgufValueType.STRING, value);
    }

    public GgufWriter putU32(String key, long value) {
        return put(key, GgufValueType.UINT32, value);
    }

    public GgufWriter putF32(String key, float value) {
        return put(key, GgufValueType.FLOAT32, value);
    }

    public GgufWriter putBool(String key, boolean value) {
        return put(key, GgufValueType.BOOL, value);
    }

    /** Adds an array of scalars (no nested arrays). */
    public GgufWriter putArray(String key, GgufValueType elementType, List<?> values) {
        if (elementType == GgufValueType.ARRAY) throw new IllegalArgumentException("nested arrays are not written");
        for (Object v : values) check(elementType, v, key);
        metadata.put(key, new Kv(GgufValueType.ARRAY, elementType, List.copyOf(values)));
        return this;
    }

    /** Copies every metadata key of a file read by {@link GgufFile} with its stored types. */
    public GgufWriter putAll(GgufFile from) {
        for (Map.Entry<String, Object> e : from.metadata().entrySet()) {
            GgufValueType t = from.metadataTypes().get(e.getKey());
            if (t == GgufValueType.ARRAY) putArray(e.getKey(), from.arrayElementType(e.getKey()), (List<?>) e.getValue());
            else put(e.getKey(), t, e.getValue());
        }
        return this;
    }

    private void setAlignment(long a) {
        if (a <= 0 || a > (1 << 20) || Long.bitCount(a) != 1) throw new IllegalArgumentException("alignment must be a power of two");
        alignment = (int) a;
    }

    private static void check(GgufValueType type, Object v, String key) {
        boolean ok = switch (type) {
            case STRING -> v instanceof String;
            case BOOL -> v instanceof Boolean;
            case FLOAT32, FLOAT64 -> v instanceof Number;
            case ARRAY -> false;
            default -> v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte;
        };
        if (!ok) throw new IllegalArgumentException(key + ": " + v + " is not a " + type);
    }

    /** Adds a tensor in [out, in] order whose bytes are already in the on-disk (little-endian, block) layout. */
    public GgufWriter addTensor(String name, DType dtype, long[] shape, MemorySegment data) {
        GgufFile.ggmlTypeOf(dtype);
        if (!names.add(name)) throw new IllegalArgumentException("duplicate tensor " + name);
        if (shape.length > GgufFile.MAX_DIMS) throw new IllegalArgumentException(name + ": more than 4 dims");
        long elements = 1;
        for (long d : shape) elements = Math.multiplyExact(elements, d);
        if (shape.length > 0 && shape[shape.length - 1] % dtype.blockSize != 0) {
            throw new IllegalArgumentException(name + ": row length is not a multiple of the " + dtype + " block size");
        }
        if (dtype.byteSize(elements) != data.byteSize()) {
            throw new IllegalArgumentException(name + ": shape needs " + dtype.byteSize(elements) + " bytes, got " + data.byteSize());
        }
        tensors.add(new Pending(name, dtype, shape.clone(), data));
        return this;
    }

    public GgufWriter addTensor(Tensor t) {
        return addTensor(t.name(), t.dtype(), t.shape(), t.data());
    }

    public GgufWriter addTensor(String name, DType dtype, long[] shape, byte[] data) {
        return addTensor(name, dtype, shape, MemorySegment.ofArray(data));
    }

    public GgufWriter addTensor(String name, long[] shape, float[] data) {
        MemorySegment le = MemorySegment.ofArray(new byte[4 * data.length]);
        MemorySegment.copy(data, 0, le, Floats.F32_LE, 0, data.length);
        return addTensor(name, DType.F32, shape, le);
    }

    /** The header (magic through tensor infos, padded to the alignment). */
    private byte[] header() {
        Out o = new Out();
        o.u32(GgufFile.MAGIC);
        o.u32(3);
        o.u64(tensors.size());
        o.u64(metadata.size());
        for (Map.Entry<String, Kv> e : metadata.entrySet()) {
            o.string(e.getKey());
            Kv kv = e.getValue();
            o.u32(kv.type.code);
            if (kv.type == GgufValueType.ARRAY) {
                List<?> items = (List<?>) kv.value;
                o.u32(kv.elementType.code);
                o.u64(items.size());
                for (Object item : items) o.value(kv.elementType, item);
            } else {
                o.value(kv.type, kv.value);
            }
        }
        long offset = 0;
        for (Pending p : tensors) {
            o.string(p.name);
            o.u32(p.shape.length);
            for (int d = p.shape.length - 1; d >= 0; d--) o.u64(p.shape[d]);
            o.u32(GgufFile.ggmlTypeOf(p.dtype));
            o.u64(offset);
            offset = GgufFile.alignUp(offset + p.data.byteSize(), alignment);
        }
        while (o.size() % alignment != 0) o.write(0);
        return o.toByteArray();
    }

    public void write(Path target) {
        byte[] header = header();
        Path tmp = null;
        try {
            tmp = AtomicFiles.tempBeside(target);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                AtomicFiles.writeFully(ch, ByteBuffer.wrap(header));
                for (Pending p : tensors) {
                    AtomicFiles.writeFully(ch, p.data);
                    long pad = GgufFile.alignUp(p.data.byteSize(), alignment) - p.data.byteSize();
                    AtomicFiles.writeFully(ch, ByteBuffer.allocate((int) pad));
                }
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

    /** Little-endian byte sink for the header. */
    private static final class Out extends ByteArrayOutputStream {
        private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

        void u32(long v) {
            scratch.clear();
            scratch.putInt((int) v);
            write(scratch.array(), 0, 4);
        }

        void u64(long v) {
            scratch.clear();
            scratch.putLong(v);
            write(scratch.array(), 0, 8);
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            write(b, 0, b.length);
        }

        void value(GgufValueType t, Object v) {
            switch (t) {
                case UINT8, INT8 -> write((int) ((Number) v).longValue());
                case UINT16, INT16 -> {
                    long x = ((Number) v).longValue();
                    write((int) x);
                    write((int) (x >> 8));
                }
                case UINT32, INT32 -> u32(((Number) v).longValue());
                case UINT64, INT64 -> u64(((Number) v).longValue());
                case FLOAT32 -> u32(Float.floatToRawIntBits(((Number) v).floatValue()));
                case FLOAT64 -> u64(Double.doubleToRawLongBits(((Number) v).doubleValue()));
                case BOOL -> write((Boolean) v ? 1 : 0);
                case STRING -> string((String) v);
                case ARRAY -> throw new IllegalArgumentException("nested arrays are not written");
            }
        }
    }
}
