package org.finlora.kernel;

import org.finlora.quant.Rtn;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class RtnMatrixTest {

    @Test
    void packedCodesMatchGroupReference() {
        for (int bits = 2; bits <= 8; bits++) {
            Tensor t = TestWeights.tensor("w", DType.BF16, 5, 77, bits);
            float[] flat = TestWeights.flat(t);
            RtnMatrix m = RtnMatrix.quantize(t, bits, 32, Simd.configured());   // groups 32, 32, 13 per row
            byte[] q = new byte[77];
            float[] row = new float[77];
            for (int r = 0; r < 5; r++) {
                m.dequantizeRow(r, row, 0);
                for (int g = 0; g < 3; g++) {
                    int c0 = g * 32, len = Math.min(32, 77 - c0);
                    float[] sz = Rtn.quantizeGroup(flat, r * 77 + c0, len, bits, q, c0);
                    assertEquals(sz[0], m.groupScale(r, g));
                    assertEquals(sz[1], m.groupZero(r, g));
                    for (int c = c0; c < c0 + len; c++) {
                        assertEquals(q[c] & 0xFF, m.code(r, c), "bits " + bits + " r " + r + " c " + c);
                        assertEquals(Rtn.dequantize(q[c] & 0xFF, sz[0], sz[1]), row[c]);
                    }
                }
            }
            assertEquals("rtn" + bits, m.format());
        }
    }

}
