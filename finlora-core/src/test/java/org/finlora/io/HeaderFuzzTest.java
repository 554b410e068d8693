package org.finlora.io;

import org.finlora.FinloraException;
import org.finlora.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Random bytes, truncations, bit flips and overwrites of valid files through both header parsers:
 * the only exception allowed out is FinloraException, and every run must finish quickly (no huge
 * allocation or endless loop from a corrupt count).
 */
class HeaderFuzzTest {
    @TempDir
    Path tmp;

    private static void mustOnlyThrowFinlora(byte[] b, Consumer<MemorySegment> parser, String what) {
        try {
            parser.accept(MemorySegment.ofArray(b));
        } catch (FinloraException expected) {
            assertNotNull(expected.getMessage());
            assertFalse(expected.getMessage().contains("\n"), "one-line message: " + expected.getMessage());
        } catch (Throwable t) {
            fail(what + ": " + t + " escaped for input of " + b.length + " bytes", t);
        }
    }

    private static void fuzz(byte[] valid, Consumer<MemorySegment> parser, long seed, byte[] prefix) {
        Random r = new Random(seed);
        parser.accept(MemorySegment.ofArray(valid)); // the base file is valid
        for (int len = 0; len < valid.length; len += 1 + valid.length / 400) {
            mustOnlyThrowFinlora(java.util.Arrays.copyOf(valid, len), parser, "truncation to " + len);
        }
        for (int i = 0; i < 2500; i++) {
            byte[] b = valid.clone();
            int flips = 1 + r.nextInt(4);
            for (int k = 0; k < flips; k++) {
                int pos = r.nextInt(Math.min(b.length, 400 + r.nextInt(b.length)));
                b[pos] ^= (byte) (1 << r.nextInt(8));
            }
            mustOnlyThrowFinlora(b, parser, "bit flips #" + i);
        }
        for (int i = 0; i < 1500; i++) {
            byte[] b = valid.clone();
            int pos = r.nextInt(Math.min(b.length, 600));
            int run = 1 + r.nextInt(8);
            byte v = switch (r.nextInt(4)) {
                case 0 -> (byte) 0xFF;
                case 1 -> 0;
                case 2 -> (byte) 0x7F;
                default -> (byte) r.nextInt(256);
            };
            for (int k = 0; k < run && pos + k < b.length; k++) b[pos + k] = v;
            if (r.nextBoolean()) b = java.util.Arrays.copyOf(b, r.nextInt(b.length + 1));
            mustOnlyThrowFinlora(b, parser, "overwrite #" + i);
        }
        for (int i = 0; i < 1500; i++) {
            byte[] b = new byte[r.nextInt(300)];
            r.nextBytes(b);
            if (r.nextBoolean() && b.length >= prefix.length) System.arraycopy(prefix, 0, b, 0, prefix.length);
            mustOnlyThrowFinlora(b, parser, "random bytes #" + i);
        }
    }

    @Test
    void safetensorsParserSurvivesCorruption() throws Exception {
        Path f = tmp.resolve("f.safetensors");
        new SafetensorsWriter().add("model.layers.0.w", new long[]{3, 4}, new float[12])
                .add("b", DType.BF16, new long[]{5}, new byte[10]).add("u", DType.U8, new long[]{2, 2}, new byte[4])
                .metadata("format", "pt").write(f);
        byte[] valid = Files.readAllBytes(f);
        // Random bytes often get a plausible small header length so the JSON parser is exercised too.
        byte[] prefix = {(byte) 40, 0, 0, 0, 0, 0, 0, 0, '{', '"'};
        long t0 = System.nanoTime();
        fuzz(valid, seg -> SafetensorsFile.read("fuzz.safetensors", seg), 1234L, prefix);
        assertTrue(System.nanoTime() - t0 < 60e9, "fuzzing took too long");
    }

    @Test
    void ggufParserSurvivesCorruption() throws Exception {
        Path f = tmp.resolve("f.gguf");
        byte[] q8 = new byte[34 * 2];
        new GgufWriter().putString("general.architecture", "llama").putU32("llama.block_count", 1)
                .putF32("llama.rope.freq_base", 5e5f)
                .putArray("tokenizer.ggml.tokens", GgufValueType.STRING, List.of("a", "b", "c"))
                .putArray("tokenizer.ggml.scores", GgufValueType.FLOAT32, List.of(0f, 1f, 2f))
                .addTensor("token_embd.weight", new long[]{3, 2}, new float[6])
                .addTensor("blk.0.attn_q.weight", DType.Q8_0, new long[]{2, 32}, q8)
                .write(f);
        byte[] valid = Files.readAllBytes(f);
        byte[] prefix = {'G', 'G', 'U', 'F', 3, 0, 0, 0};
        long t0 = System.nanoTime();
        fuzz(valid, seg -> GgufFile.read("fuzz.gguf", seg), 5678L, prefix);
        assertTrue(System.nanoTime() - t0 < 60e9, "fuzzing took too long");
    }
}
