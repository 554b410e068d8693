package org.finlora.kernel;

import org.finlora.quant.Int8Blockwise;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class Int8BlockMatrixTest {

    @Test
    void codesMatchFlatReference() {
        Tensor t = TestWeights.tensor("w", DType.BF16, 7, 50, 11);   // blocks straddle rows
        float[] flat = TestWeights.flat(t);
        Int8BlockMatrix m = Int8BlockMatrix.quantize(t, 16, Simd.configured());
        byte[] q = new byte[flat.length];
        float[] row = new float[50];
        for (int b = 0; b * 16 < flat.length; b++) {
            int off = b * 16, len = Math.min(16, flat.length - off);
            float s = Int8Blockwise.scale(Int8Blockwise.quantizeBlock(flat, off, len, q, off));
            for (int i = off; i < off + len; i++) {
                assertEquals(q[i], m.code(i / 50, i % 50));
                m.dequantizeRow(i / 50, row, 0);
                assertEquals(q[i] * s, row[i % 50]);
                assertEquals(flat[i], row[i % 50], s * 0.5f + 1e-9f);
            }
        }
    }

}
