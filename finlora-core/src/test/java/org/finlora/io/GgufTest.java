package org.finlora.io;

import org.finlora.FinloraException;
import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class GgufTest {
    @TempDir
    Path tmp;

    /** Builds GGUF bytes by hand, independent of GgufWriter. */
    static final class Bytes {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Bytes u8(int v) {
            out.write(v);
            return this;
        }

        Bytes u32(long v) {
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
            return this;
        }

        Bytes u64(long v) {
            out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
            return this;
        }

        Bytes str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            out.writeBytes(b);
            return this;
        }

        Bytes raw(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        Bytes padTo(int alignment) {
            while (out.size() % alignment != 0) out.write(0);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    static GgufFile read(byte[] b) {
        return GgufFile.read("t.gguf", MemorySegment.ofArray(b));
    }

    /** A Q8_0 block by hand: f16 scale then 32 int8. */
    static byte[] q8Block(float d, int[] q) {
        ByteBuffer b = ByteBuffer.allocate(34).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(Float.floatToFloat16(d));
        for (int v : q) b.put((byte) v);
        return b.array();
    }

    /** A Q4_0 block by hand: f16 scale then 16 bytes, element j in the low nibble of byte j, j+16 in the high nibble. */
    static byte[] q4Block(float d, int[] q) {
        ByteBuffer b = ByteBuffer.allocate(18).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) b.put((byte) (q[j] | (q[j + 16] << 4)));
        return b.array();
    }

    @Test
    void readsAHandBuiltFile() {
        int[] q = new int[32];
        for (int i = 0; i < 32; i++) q[i] = i % 16;
        byte[] q4 = q4Block(0.5f, q);
        Bytes b = new Bytes().u32(0x46554747).u32(3).u64(2).u64(4)
                .str("general.architecture").u32(8).str("llama")
                .str("answer").u32(5).u32(-42)
                .str("flags").u32(9).u32(7).u64(3).u8(1).u8(0).u8(1)
                .str("names").u32(9).u32(8).u64(2).str("a").str("βγ")
                .str("w").u32(2).u64(32).u64(3).u32(2).u64(0)       // Q4_0 [3 rows, 32 cols]
                .str("n").u32(1).u64(4).u32(0).u64(64)              // F32 [4] at 64 (54 bytes padded to 64)
                .padTo(32);
        b.raw(q4).raw(q4).raw(q4).raw(new byte[64 - 54]);
        ByteBuffer f = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putFloat(1).putFloat(2).putFloat(3).putFloat(-4);
        b.raw(f.array());
        GgufFile g = read(b.bytes());
        assertEquals(3, g.version());
        assertEquals("llama", g.metadata().get("general.architecture"));
        assertEquals(-42L, g.metadata().get("answer"));
        assertEquals(List.of(true, false, true), g.metadata().get("flags"));
        assertEquals(List.of("a", "βγ"), g.metadata().get("names"));
        assertEquals(GgufValueType.ARRAY, g.metadataTypes().get("names"));
        assertEquals(GgufValueType.STRING, g.arrayElementType("names"));
        Tensor w = g.tensors().get("w");
        assertEquals(DType.Q4_0, w.dtype());
        assertArrayEquals(new long[]{3, 32}, w.shape(), "ggml [32, 3] reversed to [out, in]");
        assertEquals(54, w.data().byteSize());
        assertArrayEquals(q4, w.data().asSlice(18, 18).toArray(ValueLayout.JAVA_BYTE));
        assertArrayEquals(new float[]{1, 2, 3, -4}, Floats.toFloatArray(g.tensors().get("n")));
        assertEquals(32, g.alignment());
    }

    @Test
    void writerRoundTripsEveryTypeBitIdentically() throws Exception {
        Path p = tmp.resolve("m.gguf");
        int[] q8 = new int[32];
        int[] q4 = new int[32];
        for (int i = 0; i < 32; i++) {
            q8[i] = i * 8 - 127;
            q4[i] = (i * 7) % 16;
        }
        ByteArrayOutputStream q8Bytes = new ByteArrayOutputStream();
        ByteArrayOutputStream q4Bytes = new ByteArrayOutputStream();
        for (int r = 0; r < 2; r++) {
            for (int blk = 0; blk < 2; blk++) {
                q8Bytes.writeBytes(q8Block(0.01f * (r + 1) * (blk + 1), q8));
                q4Bytes.writeBytes(q4Block(-0.1f * (r + 1) * (blk + 1), q4));
            }
        }
        byte[] f16 = new byte[2 * 6];
        for (int i = 0; i < 6; i++) {
            short h = Float.floatToFloat16(i - 2.5f);
            f16[2 * i] = (byte) h;
            f16[2 * i + 1] = (byte) (h >> 8);
        }
        byte[] bf16 = new byte[2 * 3];
        for (int i = 0; i < 3; i++) {
            short h = Floats.floatToBf16(i * 1.5f);
            bf16[2 * i] = (byte) h;
            bf16[2 * i + 1] = (byte) (h >> 8);
        }
        float[] f32 = {0.25f, -1e-3f, 3e7f, Float.MIN_VALUE, -0f};
        GgufWriter w = new GgufWriter()
                .putString("general.architecture", "llama")
                .put("u8", GgufValueType.UINT8, 200L).put("i8", GgufValueType.INT8, -5L)
                .put("u16", GgufValueType.UINT16, 65535L).put("i16", GgufValueType.INT16, -300L)
                .putU32("u32", 4_000_000_000L).put("i32", GgufValueType.INT32, -7L)
                .putF32("f32", 1e-5f).putBool("b", true).put("u64", GgufValueType.UINT64, 1L << 40)
                .put("i64", GgufValueType.INT64, -1L << 40).put("f64", GgufValueType.FLOAT64, Math.PI)
                .putArray("scores", GgufValueType.FLOAT32, List.of(0f, -1.5f, 2.25f))
                .putArray("types", GgufValueType.INT32, List.of(1L, 2L, 6L))
                .putArray("u8s", GgufValueType.UINT8, List.of(255L, 0L))
                .putArray("tokens", GgufValueType.STRING, List.of("<s>", "▁hi", ""))
                .putArray("none", GgufValueType.UINT64, List.of())
                .addTensor("q8", DType.Q8_0, new long[]{2, 64}, q8Bytes.toByteArray())
                .addTensor("q4", DType.Q4_0, new long[]{2, 64}, q4Bytes.toByteArray())
                .addTensor("h", DType.F16, new long[]{2, 3}, f16)
                .addTensor("bf", DType.BF16, new long[]{3}, bf16)
                .addTensor("f", new long[]{5}, f32);
        w.write(p);
        try (Arena arena = Arena.ofConfined()) {
            GgufFile g = GgufFile.open(p, arena);
            Map<String, Object> m = g.metadata();
            assertEquals(200L, m.get("u8"));
            assertEquals(-5L, m.get("i8"));
            assertEquals(65535L, m.get("u16"));
            assertEquals(-300L, m.get("i16"));
            assertEquals(4_000_000_000L, m.get("u32"));
            assertEquals(-7L, m.get("i32"));
            assertEquals(1e-5f, m.get("f32"));
            assertEquals(true, m.get("b"));
            assertEquals(1L << 40, m.get("u64"));
            assertEquals(-1L << 40, m.get("i64"));
            assertEquals(Math.PI, m.get("f64"));
            assertEquals(List.of(0f, -1.5f, 2.25f), m.get("scores"));
            assertEquals(List.of(1L, 2L, 6L), m.get("types"));
            assertEquals(List.of(255L, 0L), m.get("u8s"));
            assertEquals(List.of("<s>", "▁hi", ""), m.get("tokens"));
            assertEquals(List.of(), m.get("none"));
            assertEquals(GgufValueType.UINT64, g.arrayElementType("none"));
            assertArrayEquals(q8Bytes.toByteArray(), g.tensors().get("q8").data().toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(q4Bytes.toByteArray(), g.tensors().get("q4").data().toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(f16, g.tensors().get("h").data().toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(bf16, g.tensors().get("bf").data().toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(f32, Floats.toFloatArray(g.tensors().get("f")));
            assertArrayEquals(new long[]{2, 64}, g.tensors().get("q8").shape());
            assertArrayEquals(new long[]{64, 2}, g.tensorInfos().get(0).ggmlDims());
            assertEquals(GgufFile.GGML_Q8_0, g.tensorInfos().get(0).ggmlType());
            assertEquals(GgufFile.GGML_Q4_0, g.tensorInfos().get(1).ggmlType());
            for (GgufFile.TensorInfo ti : g.tensorInfos()) assertEquals(0, ti.offset() % 32, ti.name());
            assertEquals(0, g.dataStart() % 32);
            // Dequantize one element of each block format by the fact-sheet rules: Q8_0 q·d, Q4_0 (q−8)·d.
            MemorySegment q8s = g.tensors().get("q8").data();
            float d = Float.float16ToFloat(q8s.get(Floats.I16_LE, 34 * 3));   // row 1, block 1
            assertEquals(Float.float16ToFloat(Float.floatToFloat16(0.04f)), d);
            assertEquals(q8[5], q8s.get(ValueLayout.JAVA_BYTE, 34 * 3 + 2 + 5));
            MemorySegment q4s = g.tensors().get("q4").data();
            int hi = (q4s.get(ValueLayout.JAVA_BYTE, 18 + 2 + 3) >> 4) & 15;      // element 19 of block 1
            assertEquals(q4[19], hi);

            // Copy through the writer again: same bytes.
            Path p2 = tmp.resolve("m2.gguf");
            GgufWriter w2 = new GgufWriter().putAll(g);
            g.tensors().values().forEach(w2::addTensor);
            w2.write(p2);
            assertArrayEquals(Files.readAllBytes(p), Files.readAllBytes(p2));
        }
    }

    @Test
    void customAlignmentIsHonoured() throws Exception {
        Path p = tmp.resolve("a.gguf");
        new GgufWriter().putU32("general.alignment", 64).addTensor("a", new long[]{3}, new float[]{1, 2, 3})
                .addTensor("b", new long[]{1}, new float[]{4}).write(p);
        try (Arena arena = Arena.ofConfined()) {
            GgufFile g = GgufFile.open(p, arena);
            assertEquals(64, g.alignment());
            assertEquals(0, g.dataStart() % 64);
            assertEquals(64, g.tensorInfos().get(1).offset());
            assertArrayEquals(new float[]{4}, Floats.toFloatArray(g.tensors().get("b")));
        }
    }

    private static void assertError(byte[] b, String... fragments) {
        var e = assertThrows(FinloraException.class, () -> read(b));
        assertTrue(e.getMessage().startsWith("t.gguf: "), e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
    }

    static Bytes header(long tensors, long kvs) {
        return new Bytes().u32(0x46554747).u32(3).u64(tensors).u64(kvs);
    }

    @Test
    void badInputsNameWhatIsWrong() {
        assertError(new byte[3], "magic");
        assertError("GGML0000000000000000000000".getBytes(StandardCharsets.US_ASCII), "magic");
        assertError(new Bytes().u32(0x46554747).u32(1).u64(0).u64(0).bytes(), "version 1");
        assertError(new Bytes().u32(0x46554747).u32(0x03000000).u64(0).u64(0).bytes(), "big-endian");
        assertError(header(0, 1L << 60).bytes(), "kv_count", "cannot fit");
        assertError(header(-1, 0).bytes(), "tensor_count");
        assertError(header(0, 1).str("k").u32(99).u32(0).bytes(), "'k'", "unknown value type 99");
        assertError(header(0, 1).u64(1L << 40).raw(new byte[16]).bytes(), "length", "exceeds");
        assertError(header(0, 1).str("k").u32(9).u32(4).u64(1L << 62).bytes(), "'k'", "cannot fit");
        assertError(header(0, 1).str("k").u32(9).u32(8).u64(1000).u64(0).u64(0).bytes(), "cannot fit");
        assertError(header(0, 1).str("k").u32(7).u8(2).bytes(), "bool is 2");
        assertError(header(0, 2).str("k").u32(4).u32(1).str("k").u32(4).u32(2).bytes(), "duplicate metadata key 'k'");
        assertError(header(0, 1).str("k").u32(4).bytes(), "truncated");
        assertError(header(0, 1).str("general.alignment").u32(4).u32(24).bytes(), "general.alignment");
        // Nested arrays beyond the depth limit.
        Bytes deep = header(0, 1).str("k");
        deep.u32(9);
        for (int i = 0; i < 6; i++) deep.u32(9).u64(1);
        deep.u32(4).u64(1).u32(0);
        assertError(deep.bytes(), "deeper");
        // Tensor infos.
        assertError(header(1, 0).str("w").u32(5).raw(new byte[64]).bytes(), "'w'", "5 dims");
        assertError(header(1, 0).str("w").u32(1).u64(-5).u32(0).u64(0).padTo(32).bytes(), "'w'", "dim 0");
        assertError(header(1, 0).str("w").u32(1).u64(32).u32(12).u64(0).padTo(32).raw(new byte[144]).bytes(), "'w'", "Q4_K (12)", "not supported");
        assertError(header(1, 0).str("w").u32(1).u64(32).u32(77).u64(0).padTo(32).bytes(), "'w'", "ggml type 77");
        assertError(header(1, 0).str("w").u32(1).u64(8).u32(0).u64(0).padTo(32).raw(new byte[16]).bytes(), "'w'", "runs past the end");
        assertError(header(1, 0).str("w").u32(1).u64(8).u32(0).u64(4).padTo(32).raw(new byte[64]).bytes(), "'w'", "alignment");
        assertError(header(1, 0).str("w").u32(1).u64(16).u32(8).u64(0).padTo(32).raw(new byte[64]).bytes(), "'w'", "block size 32");
        assertError(header(1, 0).str("w").u32(4).u64(1L << 20).u64(1L << 20).u64(1L << 20).u64(1L << 20).u32(0).u64(0).padTo(32).bytes(), "'w'", "overflows");
        assertError(header(2, 0).str("a").u32(1).u64(16).u32(0).u64(0).str("b").u32(1).u64(8).u32(0).u64(32)
                .padTo(32).raw(new byte[64]).bytes(), "'a' and 'b' overlap");
        assertError(header(2, 0).str("a").u32(1).u64(1).u32(0).u64(0).str("a").u32(1).u64(1).u32(0).u64(32).bytes(), "duplicate tensor name 'a'");
        var e = assertThrows(FinloraException.class, () -> GgufFile.open(Path.of("/nonexistent/x.gguf"), Arena.global()));
        assertTrue(e.getMessage().contains("/nonexistent/x.gguf"), e.getMessage());
    }

    @Test
    void versionTwoIsAccepted() {
        byte[] b = new Bytes().u32(0x46554747).u32(2).u64(0).u64(1).str("x").u32(6).u32(Float.floatToIntBits(1.5f)).bytes();
        GgufFile g = read(b);
        assertEquals(2, g.version());
        assertEquals(1.5f, g.metadata().get("x"));
    }
}
