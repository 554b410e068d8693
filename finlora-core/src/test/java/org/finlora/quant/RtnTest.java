package org.finlora.quant;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class RtnTest {

    @Test
    void twoBitHandComputed() {
        float[] x = {-1f, 0f, 0.5f, 1f};
        byte[] q = new byte[4];
        float[] sz = Rtn.quantizeGroup(x, 0, 4, 2, q, 0);
        assertEquals(2f / 3f, sz[0]);
        assertEquals(2f, sz[1], "round(1.5) = 2 (half to even)");
        assertArrayEquals(new byte[]{0, 2, 3, 3}, q);
        assertEquals(-4f / 3f, Rtn.dequantize(0, sz[0], sz[1]), 1e-7f);
    }

    @Test
    void rangeAlwaysIncludesZero() {
        float[] x = {2f, 3f, 4f, 5f};   // all positive: xmin = 0
        byte[] q = new byte[4];
        float[] sz = Rtn.quantizeGroup(x, 0, 4, 4, q, 0);
        assertEquals(5f / 15f, sz[0]);
        assertEquals(0f, sz[1]);
        assertArrayEquals(new byte[]{6, 9, 12, 15}, q);
        float[] z = {0f, 0f};
        sz = Rtn.quantizeGroup(z, 0, 2, 3, q, 0);   // all zero: range [-1, 1]
        assertEquals(2f / 7f, sz[0]);
        assertEquals(3f, sz[1]);    // -xmin/scale = 1/0.2857143f = 3.4999998 in f32 -> 3
        assertEquals(0f, Rtn.dequantize(q[0], sz[0], sz[1]));
    }

    @Test
    void eightBitError() {
        float[] x = new float[100];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.cos(i);
        byte[] q = new byte[100];
        float[] sz = Rtn.quantizeGroup(x, 0, 100, 8, q, 0);
        for (int i = 0; i < x.length; i++) assertEquals(x[i], Rtn.dequantize(q[i] & 0xFF, sz[0], sz[1]), sz[0] * 0.5f + 1e-6f);
        assertThrows(org.finlora.FinloraException.class, () -> Rtn.checkBits(9, "w"));
    }
}
