package org.finlora.quant;

import org.finlora.FinloraException;
import org.finlora.io.SafetensorsFile;
import org.finlora.kernel.Bnb4bitMatrix;
import org.finlora.kernel.Int8VectorwiseMatrix;
import org.finlora.kernel.Simd;
import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class BnbTensorsTest {

    private static Path fixture(String name) throws Exception {
        return Path.of(BnbTensorsTest.class.getResource("/fixtures/" + name).toURI());
    }

    private static Tensor weight(String name, int rows, int cols, long seed) {
        Random rnd = new Random(seed);
        short[] v = new short[rows * cols];
        for (int i = 0; i < v.length; i++) v[i] = Floats.floatToBf16((float) (rnd.nextGaussian() * 0.03));
        return new Tensor(name, DType.BF16, new long[]{rows, cols}, MemorySegment.ofArray(v));
    }

    /** The 14 bnb NF4 groups of the tiny Llama-3 fixture (tools/bnb_nf4.py) against quantizing its bf16 weights here. */
    @Test
    void readsTheTinyLlamaQloraGroupsCodeForCode() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> bnb = SafetensorsFile.open(fixture("tiny-llama3-qlora-step.safetensors"), arena).tensors();
            Map<String, Tensor> model = SafetensorsFile.openModel(fixture("tiny-llama3"), arena);
            int groups = 0;
            for (String key : bnb.keySet()) {
                if (!key.endsWith(".weight.quant_state.bitsandbytes__nf4")) continue;
                String wn = key.substring(0, key.indexOf(".quant_state"));
                assertTrue(BnbTensors.is4bit(bnb, wn));
                Bnb4bitMatrix read = Bnb4bitMatrix.fromBnb(BnbTensors.read4bit(bnb, wn), Simd.configured());
                assertTrue(read.doubleQuant());
                Tensor bf16 = model.get(wn);
                assertNotNull(bf16, wn);
                Bnb4bitMatrix mine = Bnb4bitMatrix.quantize(bf16, Bnb4bit.Type.NF4, 64, false, Simd.configured());
                assertArrayEquals(mine.bnbCodes(), read.bnbCodes(), wn + " codes");
                DoubleQuant.Nested ref = read.nested();
                assertEquals(ref.offset(), DoubleQuant.mean(mine.blockScales()), Math.ulp(ref.offset()), wn + " offset");
                DoubleQuant.Nested again = DoubleQuant.compress(mine.blockScales(), ref.map(), ref.offset());
                assertArrayEquals(ref.codes(), again.codes(), wn + " nested codes");
                assertArrayEquals(ref.absmax2(), again.absmax2(), wn + " nested absmax");
                groups++;
            }
            assertEquals(14, groups);
        }
    }

    @Test
    void fourBitRoundTrip() {
        for (boolean dq : new boolean[]{true, false}) {
            for (Bnb4bit.Type type : Bnb4bit.Type.values()) {
                Tensor t = weight("model.layers.1.mlp.down_proj.weight", 24, 50, 3);
                Bnb4bitMatrix m = Bnb4bitMatrix.quantize(t, type, 64, dq, Simd.configured());
                Map<String, Tensor> sd = BnbTensors.write4bit(t.name(), m.toBnb(), "bfloat16");
                assertEquals(dq ? 6 : 4, sd.size());
                Bnb4bitMatrix back = Bnb4bitMatrix.fromBnb(BnbTensors.read4bit(sd, t.name()), Simd.configured());
                assertEquals(type, back.type);
                assertArrayEquals(m.bnbCodes(), back.bnbCodes());
                assertArrayEquals(m.blockScales(), back.blockScales());
                assertEquals(dq, back.doubleQuant());
            }
        }
    }

    @Test
    void quantStateJsonIsBnbs() {
        Tensor t = weight("w.weight", 4, 64, 1);
        Bnb4bitMatrix m = Bnb4bitMatrix.quantize(t, Bnb4bit.Type.NF4, 64, true, Simd.configured());
        Tensor qs = BnbTensors.write4bit("w.weight", m.toBnb(), "bfloat16").get("w.weight.quant_state.bitsandbytes__nf4");
        String json = new String(qs.data().toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        assertEquals("{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"bfloat16\", \"shape\": [4, 64], "
                + "\"nested_blocksize\": 256, \"nested_dtype\": \"float32\", \"nested_offset\": " + BnbTensors.pythonRepr(m.nested().offset()) + "}", json);
        assertEquals("0.5", BnbTensors.pythonRepr(0.5f));
        assertEquals("0.10000000149011612", BnbTensors.pythonRepr(0.1f));
        assertEquals("1.52587890625e-05", BnbTensors.pythonRepr(1.52587890625e-05f));   // Python repr(2**-16)
        assertEquals("-3.0517578125e-05", BnbTensors.pythonRepr(-3.0517578125e-05f));
        assertEquals("0.0001220703125", BnbTensors.pythonRepr(0.0001220703125f));
    }

    @Test
    void eightBitRoundTrip() {
        Tensor t = weight("model.layers.0.self_attn.v_proj.weight", 9, 33, 5);
        Int8VectorwiseMatrix m = Int8VectorwiseMatrix.quantize(t, 6f, Simd.configured());
        Map<String, Tensor> sd = BnbTensors.write8bit(t.name(), m.toBnb(t.name()));
        assertTrue(sd.containsKey("model.layers.0.self_attn.v_proj.SCB"));
        assertTrue(BnbTensors.is8bit(sd, t.name()));
        Int8VectorwiseMatrix back = Int8VectorwiseMatrix.fromBnb(BnbTensors.read8bit(sd, t.name()), 6f, Simd.configured());
        for (int r = 0; r < 9; r++) {
            assertEquals(m.scb(r), back.scb(r));
            for (int c = 0; c < 33; c++) assertEquals(m.code(r, c), back.code(r, c));
        }
        Map<String, Tensor> bad = new HashMap<>(sd);
        bad.put("model.layers.0.self_attn.v_proj.SCB", new Tensor("model.layers.0.self_attn.v_proj.SCB", DType.F32, new long[]{8}, MemorySegment.ofArray(new float[8])));
        FinloraException e = assertThrows(FinloraException.class, () -> BnbTensors.read8bit(bad, t.name()));
        assertTrue(e.getMessage().startsWith("model.layers.0.self_attn.v_proj.SCB"), e.getMessage());
    }

    @Test
    void corruptQuantStateErrorsNameTheTensor() {
        String wn = "model.layers.2.self_attn.k_proj.weight";
        Tensor t = weight(wn, 8, 64, 2);
        Map<String, Tensor> good = BnbTensors.write4bit(wn, Bnb4bitMatrix.quantize(t, Bnb4bit.Type.NF4, 64, true, Simd.configured()).toBnb(), "bfloat16");
        String qsKey = wn + ".quant_state.bitsandbytes__nf4";

        Map<String, Tensor> m1 = new HashMap<>(good);
        m1.remove(wn + ".absmax");
        assertError(m1, wn, wn + ".absmax: missing");

        Map<String, Tensor> m2 = new HashMap<>(good);
        m2.put(wn + ".absmax", new Tensor(wn + ".absmax", DType.U8, new long[]{3}, MemorySegment.ofArray(new byte[3])));
        assertError(m2, wn, wn + ".absmax: has 3 elements, expected 8");

        assertError(withState(good, qsKey, "{\"quant_type\": \"nf5\", \"blocksize\": 64, \"shape\": [8, 64]}"), wn, "unknown quant_type \"nf5\"");
        assertError(withState(good, qsKey, "{\"quant_type\": \"nf4\", \"blocksize\": 96, \"shape\": [8, 64]}"), wn, "blocksize 96");
        assertError(withState(good, qsKey, "{\"quant_type\": \"nf4\", \"blocksize\": 64, \"shape\": [512]}"), wn, "shape must be [out, in]");
        assertError(withState(good, qsKey, "{\"quant_type\": \"nf4\", \"blocksize\": 64, \"shape\": [9, 64]}"), wn, wn + ": has 256 elements, expected 288");
        assertError(withState(good, qsKey, "{\"quant_type\": \"nf4\""), wn, "not valid JSON");
        assertError(withState(good, qsKey, "{\"quant_type\": \"fp4\", \"blocksize\": 64, \"shape\": [8, 64]}"), wn, "does not match the key suffix");

        Map<String, Tensor> m3 = new HashMap<>(good);
        float[] wrong = Bnb4bit.FP4_TABLE.clone();
        m3.put(wn + ".quant_map", new Tensor(wn + ".quant_map", DType.F32, new long[]{16}, MemorySegment.ofArray(wrong)));
        assertError(m3, wn, wn + ".quant_map: entry");
    }

    private static Map<String, Tensor> withState(Map<String, Tensor> good, String key, String json) {
        Map<String, Tensor> m = new HashMap<>(good);
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        m.put(key, new Tensor(key, DType.U8, new long[]{b.length}, MemorySegment.ofArray(b)));
        return m;
    }

    private static void assertError(Map<String, Tensor> m, String wn, String part) {
        FinloraException e = assertThrows(FinloraException.class, () -> BnbTensors.read4bit(m, wn));
        assertTrue(e.getMessage().contains(part), e.getMessage());
        assertTrue(e.getMessage().startsWith(wn), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }
}
