package org.finlora.kernel;

import org.finlora.FinloraException;
import org.finlora.quant.Bnb4bit;
import org.finlora.quant.BnbTensors;
import org.finlora.quant.DoubleQuant;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class Bnb4bitMatrixTest {

    /** Codes and scales of the matrix equal the flat reference quantizer, for aligned and straddling blocks. */
    @Test
    void quantizeOnLoadMatchesFlatReference() {
        int[][] shapes = {{37, 192, 64}, {37, 200, 64}, {5, 33, 32}, {3, 1000, 4096}};
        for (Bnb4bit.Type type : Bnb4bit.Type.values()) {
            for (DType dt : new DType[]{DType.BF16, DType.F32, DType.F16}) {
                for (int[] s : shapes) {
                    Tensor t = TestWeights.tensor("model.layers.0.mlp.up_proj.weight", dt, s[0], s[1], s[0] * 31L + s[1]);
                    float[] flat = TestWeights.flat(t);
                    Bnb4bit.Result ref = Bnb4bit.quantize(flat, type, s[2]);
                    Bnb4bitMatrix plain = Bnb4bitMatrix.quantize(t, type, s[2], false, Simd.configured());
                    assertArrayEquals(ref.codes(), plain.bnbCodes(), type + " " + dt + " codes");
                    assertArrayEquals(ref.absmax(), plain.blockScales(), type + " absmax");
                    Bnb4bitMatrix dq = Bnb4bitMatrix.quantize(t, type, s[2], true, Simd.configured());
                    assertArrayEquals(ref.codes(), dq.bnbCodes());
                    assertArrayEquals(DoubleQuant.compress(ref.absmax()).expand(), dq.blockScales());
                    float[] row = new float[s[1]];
                    float[] deq = Bnb4bit.dequantize(ref.codes(), dq.blockScales(), type, s[2]);
                    for (int r = 0; r < s[0]; r += 7) {
                        dq.dequantizeRow(r, row, 0);
                        for (int c = 0; c < s[1]; c++) assertEquals(deq[r * s[1] + c], row[c]);
                    }
                }
            }
        }
    }



    @Test
    void bnbTensorsRoundTrip() {
        Tensor t = TestWeights.tensor("w", DType.BF16, 9, 70, 3);
        Bnb4bitMatrix m = Bnb4bitMatrix.quantize(t, Bnb4bit.Type.NF4, 64, true, Simd.configured());
        byte[] packed = Bnb4bit.packBnb(m.bnbCodes());
        assertEquals(315, packed.length);
        Map<String, Tensor> stored = BnbTensors.write4bit("w", m.toBnb(), "bfloat16");
        Bnb4bitMatrix back = Bnb4bitMatrix.fromBnb(BnbTensors.read4bit(stored, "w"), Simd.SCALAR);
        assertArrayEquals(m.bnbCodes(), back.bnbCodes());
        assertArrayEquals(m.blockScales(), back.blockScales());
        assertEquals(315 + 10 + 4 + 4, m.byteSize());
    }

    @Test
    void corruptStateIsAOneLineErrorNamingTheTensor() {
        String name = "model.layers.3.self_attn.q_proj.weight";
        byte[] codes = new byte[64];
        FinloraException e = assertThrows(FinloraException.class,
                () -> Bnb4bitMatrix.fromBnb(new BnbTensors.FourBit(name, Bnb4bit.Type.NF4, 8, 8, 64, new byte[63], new float[1], null), Simd.SCALAR));
        assertTrue(e.getMessage().startsWith(name) && e.getMessage().contains("63 codes"), e.getMessage());
        e = assertThrows(FinloraException.class,
                () -> Bnb4bitMatrix.fromBnb(new BnbTensors.FourBit(name, Bnb4bit.Type.NF4, 8, 8, 32, codes, new float[1], null), Simd.SCALAR));
        assertTrue(e.getMessage().startsWith(name) && e.getMessage().contains("absmax has 1"), e.getMessage());
        e = assertThrows(FinloraException.class,
                () -> Bnb4bitMatrix.fromBnb(new BnbTensors.FourBit(name, Bnb4bit.Type.NF4, 8, 8, 96, codes, new float[1], null), Simd.SCALAR));
        assertTrue(e.getMessage().startsWith(name) && e.getMessage().contains("blocksize 96"), e.getMessage());
        Tensor bad = new Tensor(name, DType.I32, new long[]{4, 4}, java.lang.foreign.MemorySegment.ofArray(new int[16]));
        e = assertThrows(FinloraException.class, () -> Bnb4bitMatrix.quantize(bad, Bnb4bit.Type.NF4, 64, true, Simd.SCALAR));
        assertTrue(e.getMessage().startsWith(name), e.getMessage());
    }
}
