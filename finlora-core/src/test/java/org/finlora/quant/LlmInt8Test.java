package org.finlora.quant;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class LlmInt8Test {

    @Test
    void rowQuantizationRoundsHalfToEven() {
        float[] w = {1f, -0.5f, 0.25f, 0.0039f};
        byte[] cb = new byte[5];
        float scb = LlmInt8.quantizeRow(w, 0, 4, cb, 0);
        assertEquals(1f, scb);
        assertEquals(127, cb[0]);
        assertEquals(-64, cb[1], "-63.5 rounds to even -64");
        assertEquals(32, cb[2], "31.75 -> 32");
        assertEquals(0, cb[3], "0.4953 -> 0");
        // SCB = 127 makes the multiplier exactly 1: exact halves
        float[] h = {127f, 1.5f, 2.5f, -0.5f, 63.5f};
        assertEquals(127f, LlmInt8.quantizeRow(h, 0, 5, cb, 0));
        assertArrayEquals(new byte[]{127, 2, 2, 0, 64}, cb);
    }

    @Test
    void weightsAreRoundedToFp16First() {
        float[] w = {1e-8f, 2f};   // 1e-8 is below fp16's smallest subnormal (6e-8): becomes 0
        byte[] cb = new byte[2];
        assertEquals(2f, LlmInt8.quantizeRow(w, 0, 2, cb, 0));
        assertEquals(0, cb[0]);
        float[] z = {0f, -0f};
        assertEquals(0f, LlmInt8.quantizeRow(z, 0, 2, cb, 0));
        assertEquals(0, cb[0]);
        assertEquals(0, cb[1]);
    }

    @Test
    void activationOutliers() {
        // T=2, cols=4; column 2 has an outlier in row 1 only
        float[] x = {1f, -2f, 0.5f, 4f, 0.5f, 1f, -7f, 0.25f};
        float[] ca = new float[8];
        float[] rowmax = new float[2];
        boolean[] out = new boolean[4];
        int n = LlmInt8.quantizeActivations(x, 2, 4, 6f, ca, rowmax, out);
        assertEquals(1, n);
        assertArrayEquals(new boolean[]{false, false, true, false}, out);
        assertArrayEquals(new float[]{4f, 1f}, rowmax);
        assertArrayEquals(new float[]{32f, -64f, 0f, 127f, 64f, 127f, 0f, 32f}, ca);   // 31.75->32, -63.5->-64, 63.5->64
        n = LlmInt8.quantizeActivations(x, 2, 4, 0f, ca, rowmax, out);
        assertEquals(0, n);
        assertArrayEquals(new float[]{4f, 7f}, rowmax);
    }
}
