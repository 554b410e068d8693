package org.finlora.kernel;

import org.finlora.quant.Int8Blockwise;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class Int8BlockMatrixTest {

    @Test
    void codesMatchFlatReference() {
        Tensor t = DequantKernelChecks.tensor("w", DType.BF16, 7, 50, 11);   // blocks straddle rows
        float[] flat = DequantKernelChecks.flat(t);
        Int8BlockMatrix m = Int8BlockMatrix.quantize(t, 16);
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

    @Test
    void kernelsOnOddSizes() {
        int[][] shapes = {{37, 96, 32}, {37, 192, 64}, {37, 200, 64}, {11, 1030, 64}};
        for (int[] s : shapes) {
            Tensor t = DequantKernelChecks.tensor("w", DType.F32, s[0], s[1], s[1]);
            DequantKernelChecks.checkKernels(Int8BlockMatrix.quantize(t, s[2]));
        }
    }
}
