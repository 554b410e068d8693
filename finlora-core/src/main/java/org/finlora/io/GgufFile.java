package org.finlora.io;

import org.finlora.FinloraException;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF v2/v3 file: header, metadata key/values, tensor infos, aligned data section. Every count
 * and length is checked against the bytes left in the file before anything is allocated, so a
 * corrupt header fails with a FinloraException naming the offset instead of exhausting memory.
 * Metadata values: integers as Long (u64 keeps its bits), f32 as Float, f64 as Double, bool as
 * Boolean, string as String, arrays as an immutable java.util.List of those.
 * Tensors: ggml dims are reversed, so a linear weight (ne = [in, out]) has shape [out, in].
 */
public final class GgufFile {
    public static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
    public static final int DEFAULT_ALIGNMENT = 32;
    static final int MAX_DIMS = 4;
    /** Caps on array elements and on strings/nested arrays across a file: far above any real vocabulary. */
    static final long MAX_ARRAY_ELEMENTS = 1L << 26;
    static final long MAX_OBJECTS = 1L << 23;
    static final int MAX_ARRAY_DEPTH = 4;

    /** ggml tensor type codes this reader can load. */
    public static final int GGML_F32 = 0, GGML_F16 = 1, GGML_Q4_0 = 2, GGML_Q8_0 = 8, GGML_BF16 = 30;

    /** One tensor info as stored: ggml dims (fastest first), ggml type, offset into the data section. */
    public record TensorInfo(String name, long[] ggmlDims, int ggmlType, long offset) {
    }

    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final String source;
    private final int version;
    private final Map<String, Object> metadata;
    private final Map<String, GgufValueType> metadataTypes;
    private final Map<String, GgufValueType> elementTypes;
    private final List<TensorInfo> tensorInfos;
    private final Map<String, Tensor> tensors;
    private final int alignment;
    private final long dataStart;

    private GgufFile(String source, int version, Map<String, Object> metadata, Map<String, GgufValueType> metadataTypes,
                     Map<String, GgufValueType> elementTypes, List<TensorInfo> tensorInfos, Map<String, Tensor> tensors, int alignment, long dataStart) {
        this.source = source;
        this.version = version;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.metadataTypes = Collections.unmodifiableMap(metadataTypes);
        this.elementTypes = Collections.unmodifiableMap(elementTypes);
        this.tensorInfos = List.copyOf(tensorInfos);
        this.tensors = Collections.unmodifiableMap(tensors);
        this.alignment = alignment;
        this.dataStart = dataStart;
    }

    public static GgufFile open(Path file, Arena arena) {
        return read(file.toString(), MappedFile.map(file, arena));
    }

    /** Bounds-checked little-endian reader over the file; every failure names the offset. */
    private static final class Cursor {
        final String source;
        final MemorySegment seg;
        final long size;
        long pos;
        long objects;

        Cursor(String source, MemorySegment seg) {
            this.source = source;
            this.seg = seg;
            this.size = seg.byteSize();
        }

        long remaining() {
            return size - pos;
        }

        FinloraException error(long at, String what) {
            return new FinloraException(source + ": " + what + " at offset " + at);
        }

        void need(long bytes, String what) {
            if (bytes < 0 || bytes > remaining()) {
                throw error(pos, what + " needs " + (bytes < 0 ? Long.toUnsignedString(bytes) : bytes) + " bytes but only "
                        + remaining() + " remain (truncated or corrupt file)");
            }
        }

        byte u8(String what) {
            need(1, what);
            return seg.get(ValueLayout.JAVA_BYTE, pos++);
        }

        short u16(String what) {
            need(2, what);
            short v = seg.get(I16, pos);
            pos += 2;
            return v;
        }

        int u32(String what) {
            need(4, what);
            int v = seg.get(I32, pos);
            pos += 4;
            return v;
        }

        long u64(String what) {
            need(8, what);
            long v = seg.get(I64, pos);
            pos += 8;
            return v;
        }

        String string(String what) {
            long at = pos;
            long len = u64(what + " length");
            if (len < 0 || len > remaining()) {
                throw error(at, what + " length " + Long.toUnsignedString(len) + " exceeds the " + remaining() + " bytes left");
            }
            if (len > Integer.MAX_VALUE - 8) throw error(at, what + " length " + len + " is too large");
            byte[] b = seg.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE);
            pos += len;
            return new String(b, StandardCharsets.UTF_8);
        }
    }

    /** Parses and validates GGUF bytes already in memory (a mapping or a heap segment). */
    public static GgufFile read(String source, MemorySegment file) {
        Cursor c = new Cursor(source, file);
        if (c.size < 4 || file.get(I32, 0) != MAGIC) {
            throw new FinloraException(source + ": no GGUF magic at offset 0 (not a GGUF file)");
        }
        c.pos = 4;
        int version = c.u32("version");
        if (Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3) {
            throw c.error(4, "big-endian GGUF is not supported (convert the model on a little-endian machine)");
        }
        if (version != 2 && version != 3) {
            throw c.error(4, "GGUF version " + Integer.toUnsignedString(version) + " is not supported (expected 2 or 3)");
        }
        long countsAt = c.pos;
        long tensorCount = c.u64("tensor_count");
        long kvCount = c.u64("kv_count");
        // Each KV takes at least 13 bytes (key length, type, 1-byte value), each tensor info 24.
        if (kvCount < 0 || kvCount > c.remaining() / 13) {
            throw c.error(countsAt + 8, "kv_count " + Long.toUnsignedString(kvCount) + " cannot fit in the " + c.remaining() + " bytes left");
        }
        if (tensorCount < 0 || tensorCount > c.remaining() / 24) {
            throw c.error(countsAt, "tensor_count " + Long.toUnsignedString(tensorCount) + " cannot fit in the " + c.remaining() + " bytes left");
        }

        Map<String, Object> metadata = new LinkedHashMap<>();
        Map<String, GgufValueType> types = new LinkedHashMap<>();
        Map<String, GgufValueType> elementTypes = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            long at = c.pos;
            String key = c.string("metadata key #" + i);
            long typeAt = c.pos;
            int code = c.u32("type of " + SafetensorsFile.quote(key) + "");
            GgufValueType type = GgufValueType.of(code);
            if (type == null) throw c.error(typeAt, "metadata " + SafetensorsFile.quote(key) + " has unknown value type " + Integer.toUnsignedString(code));
            Object value = readValue(c, type, key, 0);
            if (metadata.putIfAbsent(key, value) != null) throw c.error(at, "duplicate metadata key " + SafetensorsFile.quote(key) + "");
            types.put(key, type);
            if (type == GgufValueType.ARRAY) elementTypes.put(key, GgufValueType.of(file.get(I32, typeAt + 4)));
        }

        int alignment = DEFAULT_ALIGNMENT;
        Object al = metadata.get("general.alignment");
        if (al != null) {
            if (!(al instanceof Long a) || a <= 0 || a > (1 << 20) || Long.bitCount(a) != 1) {
                throw new FinloraException(source + ": general.alignment = " + al + " is not a power of two");
            }
            alignment = (int) (long) a;
        }

        List<TensorInfo> infos = new ArrayList<>((int) Math.min(tensorCount, 4096));
        Map<String, Long> seen = new LinkedHashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            long at = c.pos;
            String name = c.string("tensor name #" + i);
            if (seen.put(name, i) != null) throw c.error(at, "duplicate tensor name " + SafetensorsFile.quote(name) + "");
            long dimsAt = c.pos;
            int nDims = c.u32("n_dims of " + SafetensorsFile.quote(name) + "");
            if (nDims < 0 || nDims > MAX_DIMS) throw c.error(dimsAt, "tensor " + SafetensorsFile.quote(name) + " has " + Integer.toUnsignedString(nDims) + " dims (at most 4)");
            long[] ne = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                long dAt = c.pos;
                ne[d] = c.u64("dim " + d + " of " + SafetensorsFile.quote(name) + "");
                if (ne[d] < 0) throw c.error(dAt, "tensor " + SafetensorsFile.quote(name) + " dim " + d + " = " + Long.toUnsignedString(ne[d]) + " is too large");
            }
            int type = c.u32("type of " + SafetensorsFile.quote(name) + "");
            long offset = c.u64("offset of " + SafetensorsFile.quote(name) + "");
            infos.add(new TensorInfo(name, ne, type, offset));
        }
        long dataStart = alignUp(c.pos, alignment);
        long dataSize = c.size - dataStart;
        if (tensorCount > 0 && dataSize < 0) {
            throw new FinloraException(source + ": data section at offset " + dataStart + " starts past the end of the file (" + c.size + " bytes)");
        }

        Map<String, Tensor> tensors = new LinkedHashMap<>();
        List<long[]> spans = new ArrayList<>(infos.size());
        for (TensorInfo ti : infos) {
            String where = source + ": tensor " + SafetensorsFile.quote(ti.name) + "";
            DType dtype = dtypeOf(where, ti.ggmlType);
            long elements = 1;
            long[] shape = new long[ti.ggmlDims.length];
            for (int d = 0; d < shape.length; d++) {
                shape[d] = ti.ggmlDims[shape.length - 1 - d];
                try {
                    elements = Math.multiplyExact(elements, ti.ggmlDims[d]);
                } catch (ArithmeticException e) {
                    throw new FinloraException(where + ": element count of dims " + java.util.Arrays.toString(ti.ggmlDims) + " overflows");
                }
            }
            if (ti.ggmlDims.length > 0 && ti.ggmlDims[0] % dtype.blockSize != 0) {
                throw new FinloraException(where + ": row length " + ti.ggmlDims[0] + " is not a multiple of the " + dtype + " block size " + dtype.blockSize);
            }
            if (elements / dtype.blockSize > Long.MAX_VALUE / dtype.blockBytes) throw new FinloraException(where + ": byte size overflows");
            long bytes = elements / dtype.blockSize * dtype.blockBytes;
            if (ti.offset < 0 || ti.offset % alignment != 0) {
                throw new FinloraException(where + ": data offset " + Long.toUnsignedString(ti.offset) + " is not a multiple of the alignment " + alignment);
            }
            if (ti.offset > dataSize || bytes > dataSize - ti.offset) {
                throw new FinloraException(where + ": data [" + ti.offset + ", " + (ti.offset + bytes) + ") runs past the end of the data section ("
                        + Math.max(0, dataSize) + " bytes from offset " + dataStart + "; truncated file?)");
            }
            spans.add(new long[]{ti.offset, ti.offset + bytes, tensors.size()});
            tensors.put(ti.name, new Tensor(ti.name, dtype, shape, file.asSlice(dataStart + ti.offset, bytes)));
        }
        spans.sort((a, b) -> Long.compare(a[0], b[0]));
        for (int i = 1; i < spans.size(); i++) {
            if (spans.get(i)[0] < spans.get(i - 1)[1]) {
                throw new FinloraException(source + ": tensors " + SafetensorsFile.quote(infos.get((int) spans.get(i - 1)[2]).name) + " and "
                        + SafetensorsFile.quote(infos.get((int) spans.get(i)[2]).name) + " overlap in the data section");
            }
        }
        return new GgufFile(source, version, metadata, types, elementTypes, infos, tensors, alignment, dataStart);
    }

    private static Object readValue(Cursor c, GgufValueType type, String key, int depth) {
        return switch (type) {
            case UINT8 -> (long) (c.u8(key) & 0xFF);
            case INT8 -> (long) c.u8(key);
            case UINT16 -> (long) (c.u16(key) & 0xFFFF);
            case INT16 -> (long) c.u16(key);
            case UINT32 -> c.u32(key) & 0xFFFFFFFFL;
            case INT32 -> (long) c.u32(key);
            case UINT64, INT64 -> c.u64(key);
            case FLOAT32 -> Float.intBitsToFloat(c.u32(key));
            case FLOAT64 -> Double.longBitsToDouble(c.u64(key));
            case BOOL -> {
                long at = c.pos;
                byte b = c.u8(key);
                if (b != 0 && b != 1) throw c.error(at, "metadata " + SafetensorsFile.quote(key) + " bool is " + (b & 0xFF) + " (expected 0 or 1)");
                yield b == 1;
            }
            case STRING -> {
                if (++c.objects > MAX_OBJECTS) throw c.error(c.pos, "more than " + MAX_OBJECTS + " strings/arrays in metadata");
                yield c.string("metadata " + SafetensorsFile.quote(key) + " string");
            }
            case ARRAY -> readArray(c, key, depth);
        };
    }

    private static List<Object> readArray(Cursor c, String key, int depth) {
        long at = c.pos;
        if (depth >= MAX_ARRAY_DEPTH) throw c.error(at, "metadata " + SafetensorsFile.quote(key) + " nests arrays deeper than " + MAX_ARRAY_DEPTH);
        int code = c.u32("array type of " + SafetensorsFile.quote(key) + "");
        GgufValueType et = GgufValueType.of(code);
        if (et == null) throw c.error(at, "metadata " + SafetensorsFile.quote(key) + " array has unknown element type " + Integer.toUnsignedString(code));
        long n = c.u64("array length of " + SafetensorsFile.quote(key) + "");
        if (n < 0 || n > c.remaining() / et.minBytes) {
            throw c.error(at + 4, "metadata " + SafetensorsFile.quote(key) + " array of " + Long.toUnsignedString(n) + " " + et
                    + " cannot fit in the " + c.remaining() + " bytes left");
        }
        if (n > MAX_ARRAY_ELEMENTS) throw c.error(at + 4, "metadata " + SafetensorsFile.quote(key) + " array of " + n + " elements is too large");
        int len = (int) n;
        long p = c.pos;
        MemorySegment s = c.seg;
        Object values;
        switch (et) {
            case UINT8, INT8 -> values = s.asSlice(p, len).toArray(ValueLayout.JAVA_BYTE);
            case BOOL -> {
                boolean[] v = new boolean[len];
                for (int i = 0; i < len; i++) {
                    byte b = s.get(ValueLayout.JAVA_BYTE, p + i);
                    if (b != 0 && b != 1) throw c.error(p + i, "metadata " + SafetensorsFile.quote(key) + " bool is " + (b & 0xFF) + " (expected 0 or 1)");
                    v[i] = b == 1;
                }
                values = v;
            }
            case UINT16, INT16 -> {
                short[] v = new short[len];
                MemorySegment.copy(s, I16, p, v, 0, len);
                values = v;
            }
            case UINT32, INT32 -> {
                int[] v = new int[len];
                MemorySegment.copy(s, I32, p, v, 0, len);
                values = v;
            }
            case FLOAT32 -> {
                float[] v = new float[len];
                MemorySegment.copy(s, F32, p, v, 0, len);
                values = v;
            }
            case UINT64, INT64 -> {
                long[] v = new long[len];
                MemorySegment.copy(s, I64, p, v, 0, len);
                values = v;
            }
            case FLOAT64 -> {
                double[] v = new double[len];
                MemorySegment.copy(s, F64, p, v, 0, len);
                values = v;
            }
            default -> {
                if ((c.objects += n) > MAX_OBJECTS) throw c.error(at, "more than " + MAX_OBJECTS + " strings/arrays in metadata");
                List<Object> items = new ArrayList<>(len);
                for (int i = 0; i < len; i++) items.add(readValue(c, et, key, depth + 1));
                return Collections.unmodifiableList(items);
            }
        }
        c.pos = p + (long) len * et.minBytes;
        return new GgufArray(et, values, len);
    }

    static long alignUp(long x, int alignment) {
        return (x + alignment - 1) / alignment * alignment;
    }

    static DType dtypeOf(String where, int ggmlType) {
        return switch (ggmlType) {
            case GGML_F32 -> DType.F32;
            case GGML_F16 -> DType.F16;
            case GGML_BF16 -> DType.BF16;
            case GGML_Q8_0 -> DType.Q8_0;
            case GGML_Q4_0 -> DType.Q4_0;
            default -> throw new FinloraException(where + ": ggml type " + ggmlTypeName(ggmlType)
                    + " is not supported (supported: F32, F16, BF16, Q8_0, Q4_0; re-quantize the model to one of them)");
        };
    }

    static int ggmlTypeOf(DType d) {
        return switch (d) {
            case F32 -> GGML_F32;
            case F16 -> GGML_F16;
            case BF16 -> GGML_BF16;
            case Q8_0 -> GGML_Q8_0;
            case Q4_0 -> GGML_Q4_0;
            default -> throw new IllegalArgumentException("GGUF writer cannot store dtype " + d);
        };
    }

    /** ggml's name for a type code (for error messages). */
    static String ggmlTypeName(int t) {
        String[] names = {"F32", "F16", "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K",
                "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16",
                "I32", "I64", "F64", "IQ1_M", "BF16", "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8", "TQ1_0", "TQ2_0", "IQ4_NL_4_4",
                "IQ4_NL_4_8", "IQ4_NL_8_8", "MXFP4"};
        return t >= 0 && t < names.length ? names[t] + " (" + t + ")" : Integer.toUnsignedString(t);
    }

    public String source() {
        return source;
    }

    public int version() {
        return version;
    }

    /** Metadata in file order (see the class comment for the value representation). */
    public Map<String, Object> metadata() {
        return metadata;
    }

    /** The stored GGUF type of each metadata key. */
    public Map<String, GgufValueType> metadataTypes() {
        return metadataTypes;
    }

    /** The element type of an array-valued key, or null when the key is not an array. */
    public GgufValueType arrayElementType(String key) {
        return elementTypes.get(key);
    }

    public List<TensorInfo> tensorInfos() {
        return tensorInfos;
    }

    /** Tensors under their GGUF names, in file order, shape reversed to [out, in]. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    public int alignment() {
        return alignment;
    }

    public long dataStart() {
        return dataStart;
    }
}
