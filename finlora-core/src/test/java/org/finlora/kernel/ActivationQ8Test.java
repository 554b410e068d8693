package org.finlora.kernel;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The int8 decode activations against hand-computed blocks (ggml quantize_row_q8_0_ref rounding). */
class ActivationQ8Test {

    @Test
    void unitScaleBlockRoundsHalvesAwayFromZero() {
        float[] x = new float[32];
        // amax = 127 gives d = 1 and id = 1 exactly, so q = roundf(x)
        float[] v = {127f, -127f, 0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 2.4999f, -2.4999f, 0.49f, 126.5f, -126.5f, 3.5f, -0.51f};
        int[] want = {127, -127, 1, -1, 2, -2, 3, -3, 2, -2, 0, 127, -127, 4, -1};
        System.arraycopy(v, 0, x, 0, v.length);
        ActivationQ8 a = ActivationQ8.of(x, 0, 32, Simd.configured());
        assertEquals(1f, a.scale(0), 0f);
        for (int j = 0; j < want.length; j++) assertEquals(want[j], a.q(j), "q[" + j + "] of " + v[j]);
        for (int j = want.length; j < 32; j++) assertEquals(0, a.q(j));
    }

    @Test
    void allZeroBlockHasZeroScaleAndZeros() {
        float[] x = new float[64];
        x[32] = -2f;   // second block non-zero: d = 2/127, -2 → -127
        ActivationQ8 a = ActivationQ8.of(x, 0, 64, Simd.configured());
        assertEquals(0f, a.scale(0), 0f);
        for (int j = 0; j < 32; j++) assertEquals(0, a.q(j));
        assertEquals(-127, a.q(32));
        assertEquals(Float.float16ToFloat(Float.floatToFloat16(2f / 127f)), a.scale(1), 0f);
    }

    @Test
    void scaleIsF16RoundedButQuantizationUsesUnroundedInverse() {
        float[] x = new float[32];
        x[0] = 1f;        // d = 1/127, not a half: f16 rounds it
        x[1] = 0.5f;      // 0.5 · (1/d) = 63.5000x → 64
        x[2] = -0.3f;     // -38.1 → -38
        x[3] = -0.5f;     // -63.5000x → -64
        x[4] = 0.25f;     // 31.75 → 32
        ActivationQ8 a = ActivationQ8.of(x, 0, 32, Simd.configured());
        float d = 1f / 127f;
        assertTrue(Float.float16ToFloat(Float.floatToFloat16(d)) != d, "the case must exercise the f16 rounding");
        assertEquals(Float.float16ToFloat(Float.floatToFloat16(d)), a.scale(0), 0f);
        assertEquals(127, a.q(0));
        assertEquals(64, a.q(1));
        assertEquals(-38, a.q(2));
        assertEquals(-64, a.q(3));
        assertEquals(32, a.q(4));
    }

    @Test
    void offsetWithBlockOffsetAndQ4FoldTerm() {
        float[] x = new float[40];
        // x = k · 127/64 for k = j - 16: amax = 16 · 127/64 = 31.75, d = 0.25 and id = 4 exactly, so
        // x · id = k · 7.9375 exactly; k = ±8 gives the ties ±63.5 → ±64
        for (int j = 0; j < 32; j++) x[8 + j] = (j - 16) * (127f / 64f);
        ActivationQ8 a = ActivationQ8.of(x, 8, 32, Simd.configured());
        assertEquals(0.25f, a.scale(0), 0f);
        int[] q = new int[32];
        for (int j = 0; j < 32; j++) {
            double e = (j - 16) * 7.9375;
            q[j] = (int) (Math.signum(e) * Math.floor(Math.abs(e) + 0.5));
            assertEquals(q[j], a.q(j), "q[" + j + "]");
        }
        assertEquals(-127, a.q(0));
        assertEquals(-64, a.q(8));
        assertEquals(64, a.q(24));
        int sum = 0;
        for (int j = 0; j < 32; j++) sum += q[j];
        assertEquals(-8 * sum, a.q4Offset[0], "q4 offset");
        // q4_0 coefficients of unit u (columns u, u + 16, u + 8, u + 24): a0, a1 - 16 a0, a2 - 16 a1, a3 - 16 a2
        for (int tile : new int[]{8, 16, 32}) {   // the short lanes of 128-, 256- and 512-bit vectors
            short[] c = a.q4Coefficients(tile);
            for (int u = 0; u < 8; u++) {
                int[] want = {q[u], q[u + 16] - 16 * q[u], q[u + 8] - 16 * q[u + 16], q[u + 24] - 16 * q[u + 8]};
                for (int i = 0; i < 4; i++) {
                    for (int l = 0; l < tile; l++) {
                        assertEquals(want[i], c[4 * tile * u + tile * i + l], "tile " + tile + ": lane " + l + " of coefficient " + i + " of unit " + u);
                    }
                }
            }
        }
    }

    @Test
    void minus128IsNeverProducedAndTheExtremeMapsTo127() {
        SplittableRandom rnd = new SplittableRandom(3);
        float[] x = new float[32 * 2000];
        for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * Math.exp(rnd.nextGaussian() * 3));
        ActivationQ8 a = ActivationQ8.of(x, 0, x.length, Simd.configured());
        for (int b = 0; b < 2000; b++) {
            int extreme = 0;
            for (int j = 0; j < 32; j++) {
                int q = a.q(b * 32 + j);
                assertTrue(q >= -127 && q <= 127, "block " + b + " q " + q);
                extreme = Math.max(extreme, Math.abs(q));
            }
            assertEquals(127, extreme, "block " + b);
        }
    }

    @Test
    @Tag("widths")
    void vectorQuantizerEqualsScalarBitForBitAtEveryWidth() {
        SplittableRandom rnd = new SplittableRandom(8);
        int cols = 32 * 300;
        float[] x = new float[cols];
        for (int b = 0; b < 300; b++) {
            double mag = Math.exp(rnd.nextGaussian() * 4);
            for (int j = 0; j < 32; j++) x[b * 32 + j] = (float) (rnd.nextGaussian() * mag);
        }
        // blocks whose products land exactly on halves: amax = 127 · 2^k makes id = 2^-k exact
        for (int b = 0; b < 8; b++) {
            float unit = (float) Math.scalb(1.0, b - 4);
            x[b * 32] = 127 * unit;
            for (int j = 1; j < 32; j++) x[b * 32 + j] = (j - 16 + 0.5f * (j % 2)) * unit * (j % 3 == 0 ? -1 : 1);
        }
        for (int j = 0; j < 32; j++) x[8 * 32 + j] = 0f;   // an all-zero block
        x[9 * 32 + 5] = -0f;
        for (int j = 0; j < 32; j++) x[10 * 32 + j] = Float.MIN_VALUE * (200 - 13 * j);   // subnormal: 1/d overflows
        ActivationQ8 s = new ActivationQ8(cols);
        s.quantize(x, 0, cols, Simd.SCALAR);
        for (Simd simd : WidthContractTest.WIDTHS) {
            ActivationQ8 v = new ActivationQ8(cols);
            v.quantize(x, 0, cols, simd);
            for (int c = 0; c < cols; c++) assertEquals(s.q(c), v.q(c), simd + " q at " + c);
            for (int b = 0; b < cols / 32; b++) assertEquals(Float.floatToRawIntBits(s.scale(b)), Float.floatToRawIntBits(v.scale(b)), simd + " scale " + b);
            for (int b = 0; b < cols / 32; b++) assertEquals(s.q4Offset[b], v.q4Offset[b], simd + " q4 offset " + b);
        }
    }

    @Test
    @Tag("widths")
    void blockWithSubnormalScaleIsZero() {
        float[] x = new float[64];
        for (int j = 0; j < 32; j++) x[j] = Float.MIN_VALUE * (200 - 13 * j);   // d = amax/127 subnormal, 1/d = inf
        x[32] = 127 * Float.MIN_NORMAL;   // the smallest amax with a normal d: q = 127
        x[33] = -63.5f * Float.MIN_NORMAL;
        for (Simd simd : Simd.all()) {
            ActivationQ8 a = new ActivationQ8(64);
            a.quantize(x, 0, 64, simd);
            for (int j = 0; j < 32; j++) assertEquals(0, a.q(j), simd + " q[" + j + "]");
            assertEquals(127, a.q(32));
            assertEquals(-64, a.q(33));
        }
    }

    @Test
    void rejectsColumnsNotMultipleOf32() {
        assertThrows(IllegalArgumentException.class, () -> ActivationQ8.of(new float[48], 0, 48, Simd.configured()));
    }
}
