package org.finlora.kernel;

import org.finlora.io.SafetensorsFile;
import org.finlora.quant.Bnb4bit;
import org.finlora.quant.DoubleQuant;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Code for code against the torch re-implementation of bnb NF4 + double quant
 * (tools/bnb_nf4.py via tools/ref_lora_step.py: fixtures/nf4-quant-cases.safetensors): x is [3, 5555]
 * f32, 261 blocks of 64 with a partial last block, block 0 holding every threshold and its neighbours.
 */
class Bnb4bitFixtureTest {

    private static byte[] bytes(Tensor t) {
        return t.data().toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void nf4CodesAbsmaxAndNestedStateMatchTheFixture() throws Exception {
        Path p = Path.of(getClass().getResource("/fixtures/nf4-quant-cases.safetensors").toURI());
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> f = SafetensorsFile.open(p, arena).tensors();
            Tensor x = f.get("x");
            Bnb4bitMatrix m = Bnb4bitMatrix.quantize(x, Bnb4bit.Type.NF4, 64, false, Simd.configured());
            byte[] codes = Bnb4bit.unpackBnb(bytes(f.get("packed")), 3 * 5555);
            assertArrayEquals(codes, m.bnbCodes(), "codes");
            assertArrayEquals(bytes(f.get("packed")), Bnb4bit.packBnb(m.bnbCodes()), "packed bytes");
            float[] absmax = Floats.toFloatArray(f.get("absmax"));
            assertArrayEquals(absmax, m.blockScales(), "absmax");

            // double quantization with the fixture's map (torch-built): codes, absmax2 and offset
            float[] map = Floats.toFloatArray(f.get("nested_quant_map"));
            float refOffset = Floats.toFloatArray(f.get("nested_offset"))[0];
            // torch's f32 CPU mean and our double-accumulated mean may differ in the last bit
            assertEquals(refOffset, DoubleQuant.mean(absmax), Math.ulp(refOffset), "offset");
            DoubleQuant.Nested n = DoubleQuant.compress(absmax, map, refOffset);
            assertArrayEquals(Floats.toFloatArray(f.get("nested_absmax")), n.absmax2(), "nested absmax");
            assertArrayEquals(bytes(f.get("absmax_q")), n.codes(), "nested codes");
            assertArrayEquals(Floats.toFloatArray(f.get("absmax_dequant")), n.expand(), "A'");

            // the same with our own map: the codes may only differ where the map differs
            byte[] ours = DoubleQuant.compress(absmax, org.finlora.quant.DynamicMap.signed(), refOffset).codes();
            int differ = 0;
            for (int i = 0; i < ours.length; i++) if (ours[i] != n.codes()[i]) differ++;
            System.out.println("nested codes with the scalar-linspace map: " + differ + " of " + ours.length + " differ from torch's map");
            assertTrue(differ <= 2, differ + " nested codes differ");

            // loading the bnb tensors reproduces the dequantized weight exactly
            Bnb4bitMatrix loaded = Bnb4bitMatrix.fromBnb(new org.finlora.quant.BnbTensors.FourBit("x", Bnb4bit.Type.NF4, 3, 5555, 64, codes, null,
                    new DoubleQuant.Nested(bytes(f.get("absmax_q")), Floats.toFloatArray(f.get("nested_absmax")),
                            Floats.toFloatArray(f.get("nested_offset"))[0], map, 256)), Simd.configured());
            float[] deq = Floats.toFloatArray(f.get("dequant_nested"));
            float[] row = new float[5555];
            for (int r = 0; r < 3; r++) {
                loaded.dequantizeRow(r, row, 0);
                for (int c = 0; c < 5555; c++) assertEquals(deq[r * 5555 + c], row[c], "w[" + r + "," + c + "]");
            }
        }
    }
}
