package org.finlora.io;

import org.finlora.FinloraException;
import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class SafetensorsTest {
    @TempDir
    Path tmp;

    /** A file image: u64 LE header length, header text, data bytes. */
    static byte[] image(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        return b.array();
    }

    static SafetensorsFile read(byte[] image) {
        return SafetensorsFile.read("t.safetensors", MemorySegment.ofArray(image));
    }

    @Test
    void writerMatchesTheRustLayoutByteForByte() throws Exception {
        // Hand-derived from the format: F32 sorts before BF16 before U8 (dtype descending), then by name;
        // compact JSON with __metadata__ first; header padded with spaces to a multiple of 8.
        Path f = tmp.resolve("x.safetensors");
        new SafetensorsWriter()
                .add("c", DType.U8, new long[]{3}, new byte[]{7, 8, 9})
                .add("b", new long[]{2}, new float[]{1.0f, -2.0f})
                .add("a", DType.BF16, new long[]{1}, new byte[]{(byte) 0x80, 0x3f})
                .add("a2", new long[]{1}, new float[]{0.5f})
                .metadata("format", "pt")
                .write(f);
        String json = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a2\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]},"
                + "\"a\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[12,14]},"
                + "\"c\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[14,17]}}";
        String padded = json + " ".repeat((8 - json.length() % 8) % 8);
        byte[] data = {0, 0, 0, 0x3f, 0, 0, (byte) 0x80, 0x3f, 0, 0, 0, (byte) 0xc0, (byte) 0x80, 0x3f, 7, 8, 9};
        assertArrayEquals(image(padded, data), Files.readAllBytes(f));
        assertEquals(0, padded.length() % 8);
        assertFalse(Files.list(tmp).anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temp file left behind");
    }

    @Test
    void roundTripIsBitIdentical() throws Exception {
        Path f = tmp.resolve("rt.safetensors");
        float[] w = new float[6 * 5];
        for (int i = 0; i < w.length; i++) w[i] = (float) Math.sin(i * 0.7) * 3;
        byte[] halves = new byte[2 * 7];
        for (int i = 0; i < 7; i++) {
            short h = Float.floatToFloat16(i * 0.25f - 1);
            halves[2 * i] = (byte) h;
            halves[2 * i + 1] = (byte) (h >> 8);
        }
        byte[] i8 = {-128, -1, 0, 1, 127};
        new SafetensorsWriter().add("w", new long[]{6, 5}, w).add("h", DType.F16, new long[]{7}, halves)
                .add("q", DType.I8, new long[]{5, 1}, i8).add("empty", DType.F32, new long[]{0, 4}, new byte[0])
                .metadata(Map.of("k", "v \"quoted\" ünïcode\n")).write(f);
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile s = SafetensorsFile.open(f, arena);
            assertEquals(Map.of("k", "v \"quoted\" ünïcode\n"), s.metadata());
            assertArrayEquals(w, Floats.toFloatArray(s.tensors().get("w")));
            assertArrayEquals(new long[]{6, 5}, s.tensors().get("w").shape());
            assertArrayEquals(halves, s.tensors().get("h").data().toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(i8, s.tensors().get("q").data().toArray(ValueLayout.JAVA_BYTE));
            assertEquals(DType.I8, s.tensors().get("q").dtype());
            assertEquals(0, s.tensors().get("empty").data().byteSize());
            // Writing what was read gives the same bytes again.
            Path g = tmp.resolve("rt2.safetensors");
            SafetensorsWriter again = new SafetensorsWriter().metadata(s.metadata());
            s.tensors().values().forEach(again::add);
            again.write(g);
            assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(g));
        }
    }

    @Test
    void shardedIndexIsFollowed() throws Exception {
        SafetensorsWriter s1 = new SafetensorsWriter().add("x", new long[]{2}, new float[]{1, 2});
        s1.write(tmp.resolve("model-00001-of-00002.safetensors"));
        new SafetensorsWriter().add("y", new long[]{1}, new float[]{3}).add("z", new long[]{1}, new float[]{4})
                .write(tmp.resolve("model-00002-of-00002.safetensors"));
        assertEquals(8, s1.dataBytes());
        SafetensorsWriter.writeIndex(tmp.resolve("model.safetensors.index.json"), 12,
                Map.of("y", "model-00002-of-00002.safetensors", "x", "model-00001-of-00002.safetensors"));
        assertEquals("{\"metadata\":{\"total_size\":12},\"weight_map\":{\"x\":\"model-00001-of-00002.safetensors\","
                        + "\"y\":\"model-00002-of-00002.safetensors\"}}",
                Files.readString(tmp.resolve("model.safetensors.index.json")).replaceAll("\\s", ""));
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> t = SafetensorsFile.openModel(tmp, arena);
            assertEquals(2, t.size(), "only tensors listed in weight_map");
            assertArrayEquals(new float[]{3}, Floats.toFloatArray(t.get("y")));
            Files.writeString(tmp.resolve("model.safetensors.index.json"), "{\"weight_map\":{\"w\":\"model-00001-of-00002.safetensors\"}}");
            var e = assertThrows(FinloraException.class, () -> SafetensorsFile.openModel(tmp, arena));
            assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("model-00001-of-00002"), e.getMessage());
            Files.writeString(tmp.resolve("model.safetensors.index.json"), "{\"weight_map\":{\"w\":\"model-00009.safetensors\"}}");
            e = assertThrows(FinloraException.class, () -> SafetensorsFile.openModel(tmp, arena));
            assertTrue(e.getMessage().contains("model-00009.safetensors") && e.getMessage().contains("missing"), e.getMessage());
            Files.writeString(tmp.resolve("model.safetensors.index.json"), "{\"weight_map\":{\"w\":\"../evil.safetensors\"}}");
            assertThrows(FinloraException.class, () -> SafetensorsFile.openModel(tmp, arena));
        }
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        var e = assertThrows(FinloraException.class, () -> SafetensorsFile.openModel(empty, Arena.global()));
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
        Files.write(empty.resolve("pytorch_model.bin"), new byte[1]);
        e = assertThrows(FinloraException.class, () -> SafetensorsFile.openModel(empty, Arena.global()));
        assertTrue(e.getMessage().contains("PyTorch .bin"), e.getMessage());
    }

    private static void assertError(byte[] image, String... fragments) {
        var e = assertThrows(FinloraException.class, () -> read(image));
        assertTrue(e.getMessage().startsWith("t.safetensors: "), e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
    }

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    @Test
    void badInputsNameWhatIsWrong() {
        byte[] eight = new byte[8];
        assertError(new byte[5], "too short");
        ByteBuffer huge = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 200_000_000L);
        assertError(huge.array(), "100 MB");
        ByteBuffer neg = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L);
        assertError(neg.array(), "100 MB");
        ByteBuffer past = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 9);
        assertError(past.array(), "past the end");
        assertError(image("[1,2]   ", new byte[0]), "'{'");
        assertError(image("{\"a\":", new byte[0]), "malformed");
        byte[] badUtf8 = image("{\"a\":{}}", new byte[0]);
        badUtf8[10] = (byte) 0xC3;
        assertError(badUtf8, "UTF-8");
        assertError(image("{\"a\":1}", new byte[0]), "'a'", "not an object");
        assertError(image("{" + entry("a", "F7", "[1]", 0, 4) + "}", new byte[4]), "'a'", "unknown dtype 'F7'");
        assertError(image("{" + entry("a", "F8_E4M3", "[1]", 0, 1) + "}", new byte[1]), "F8_E4M3", "not supported");
        assertError(image("{" + entry("a", "F32", "[2]", 0, 4) + "}", new byte[4]), "'a'", "needs 8 bytes", "span 4");
        assertError(image("{" + entry("a", "F32", "[-1]", 0, 4) + "}", new byte[4]), "shape[0]");
        assertError(image("{" + entry("a", "F32", "[4294967296,4294967296,4294967296]", 0, 4) + "}", new byte[4]), "overflows");
        assertError(image("{" + entry("a", "F32", "[1]", 0, 4) + "}", new byte[2]), "cover 4 bytes", "truncated");
        assertError(image("{" + entry("a", "F32", "[1]", 0, 4) + "}", new byte[6]), "trailing");
        assertError(image("{" + entry("a", "F32", "[1]", 4, 8) + "}", new byte[8]), "'a'", "hole");
        assertError(image("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 2, 6) + "}", new byte[6]), "'b'", "overlap");
        assertError(image("{" + entry("a", "F32", "[1]", 8, 4) + "}", new byte[8]), "end before");
        assertError(image("{\"__metadata__\":{\"k\":1}}", new byte[0]), "__metadata__");
        assertError(image("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("a", "F32", "[1]", 4, 8) + "}", new byte[8]), "malformed");
        assertError(image("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", eight), "data_offsets");
        // Files that do not exist name the path.
        var e = assertThrows(FinloraException.class, () -> SafetensorsFile.open(Path.of("/nonexistent/m.safetensors"), Arena.global()));
        assertTrue(e.getMessage().contains("/nonexistent/m.safetensors"), e.getMessage());
    }

    @Test
    void filesOver2GiBUseLongOffsets() throws Exception {
        // A sparse file: one 1 KiB tensor and one tensor whose data starts beyond 2^31 bytes.
        long bigElems = (1L << 31) / 4 + 1024;
        long bigBytes = bigElems * 4;
        String json = "{" + entry("small", "F32", "[256]", 0, 1024) + "," + entry("big", "F32", "[" + bigElems + "]", 1024, 1024 + bigBytes) + "}";
        json += " ".repeat((8 - json.length() % 8) % 8);
        Path f = tmp.resolve("big.safetensors");
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        long dataStart = 8 + h.length;
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, h.length);
            raf.write(len.array());
            raf.write(h);
            raf.setLength(dataStart + 1024 + bigBytes);
            long last = dataStart + 1024 + bigBytes - 4;   // the last float of "big", past 2 GiB
            raf.seek(last);
            raf.write(new byte[]{0, 0, (byte) 0x80, 0x3f});  // 1.0f little-endian
        }
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile s = SafetensorsFile.open(f, arena);
            Tensor big = s.tensors().get("big");
            assertEquals(bigBytes, big.data().byteSize());
            assertEquals(1.0f, big.data().get(Floats.F32_LE, bigBytes - 4));
            assertEquals(0.0f, big.data().get(Floats.F32_LE, 0));
        }
    }

    @Test
    void writerStreamsSegmentsLargerThanOneWriteChunk() throws Exception {
        // 130 MB crosses the writer's 64 MB write chunks; the bytes must come back in order.
        long n = 130L << 20;
        Path f = tmp.resolve("large.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(n, 8);
            for (long i = 0; i < n / 8; i++) data.set(ValueLayout.JAVA_LONG, 8 * i, i * 0x9E3779B97F4A7C15L);
            new SafetensorsWriter().add("big", DType.U8, new long[]{n}, data).add("tail", new long[]{1}, new float[]{7})
                    .write(f);
            SafetensorsFile s = SafetensorsFile.open(f, arena);
            assertEquals(-1, MemorySegment.mismatch(data, 0, n, s.tensors().get("big").data(), 0, n));
            assertArrayEquals(new float[]{7}, Floats.toFloatArray(s.tensors().get("tail")));
        }
    }

    @Test
    void readerAcceptsAllSupportedDtypes() {
        String[] names = {"F32", "F16", "BF16", "F64", "I8", "U8", "I16", "I32", "I64", "BOOL"};
        int[] sizes = {4, 2, 2, 8, 1, 1, 2, 4, 8, 1};
        StringBuilder json = new StringBuilder("{");
        long off = 0;
        for (int i = 0; i < names.length; i++) {
            if (i > 0) json.append(',');
            json.append(entry("t" + i, names[i], "[3]", off, off + 3L * sizes[i]));
            off += 3L * sizes[i];
        }
        SafetensorsFile s = read(image(json.append('}').toString(), new byte[(int) off]));
        for (int i = 0; i < names.length; i++) assertEquals(names[i], s.tensors().get("t" + i).dtype().name());
        assertEquals(Arrays.asList("t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"), s.tensors().keySet().stream().toList());
    }
}
