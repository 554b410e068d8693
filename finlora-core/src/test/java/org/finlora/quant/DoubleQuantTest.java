package org.finlora.quant;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class DoubleQuantTest {

    @Test
    void knownValues() {
        float[] absmax = {1f, 2f, 3f, 4f};
        DoubleQuant.Nested n = DoubleQuant.compress(absmax);
        assertEquals(2.5f, n.offset());
        assertArrayEquals(new float[]{1.5f}, n.absmax2());
        float[] dyn = DynamicMap.signed();
        // centered / 1.5 = -1, -1/3, 1/3, 1 -> nearest codes
        assertEquals(0, n.codes()[0] & 0xFF);
        assertEquals(255, n.codes()[3] & 0xFF);
        assertEquals(DynamicMap.nearest(dyn, -0.5f * (1f / 1.5f)), n.codes()[1] & 0xFF);
        float[] a = n.expand();
        assertEquals(dyn[0] * 1.5f + 2.5f, a[0]);
        assertEquals(4f, a[3]);               // 1.0 * 1.5 + 2.5
        assertEquals(1f, a[0], 0.011f);       // -0.99296875 * 1.5 + 2.5 = 1.0105469
        assertEquals(1.0105469f, a[0], 1e-7f);
    }

    @Test
    void constantAbsmaxIsExact() {
        float[] absmax = new float[300];
        java.util.Arrays.fill(absmax, 0.0123f);
        DoubleQuant.Nested n = DoubleQuant.compress(absmax);
        float[] a = n.expand();
        for (float v : a) assertEquals(0.0123f, v);
    }

    @Test
    void roundTripErrorBound() {
        Random rnd = new Random(7);
        float[] absmax = new float[1000];
        for (int i = 0; i < absmax.length; i++) absmax[i] = 0.01f + rnd.nextFloat() * 0.2f;
        DoubleQuant.Nested n = DoubleQuant.compress(absmax);
        assertEquals(4, n.absmax2().length);
        double mean = 0;
        for (float v : absmax) mean += v;
        assertEquals((float) (mean / absmax.length), n.offset());
        float[] a = n.expand();
        for (int i = 0; i < a.length; i++) {
            assertEquals(absmax[i], a[i], n.absmax2()[i / 256] * 0.0075f + 1e-7f, "block " + i);
        }
    }
}
