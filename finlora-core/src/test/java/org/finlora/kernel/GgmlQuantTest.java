package org.finlora.kernel;

import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Q8_0 / Q4_0 blocks against hand-computed bytes (ggml reference rounding) and round-trip error bounds. */
class GgmlQuantTest {

    static MemorySegment q8(float[] x) {
        MemorySegment s = Arena.ofAuto().allocate(34);
        Q8_0Matrix.quantizeBlock(x, 0, s, 0);
        return s;
    }

    static MemorySegment q4(float[] x) {
        MemorySegment s = Arena.ofAuto().allocate(18);
        Q4_0Matrix.quantizeBlock(x, 0, s, 0);
        return s;
    }

    @Test
    void q8RoundsHalvesAwayFromZeroWithExactScale() {
        float[] x = new float[32];
        float[] v = {127f, -127f, 0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 2.4999f, -2.4999f, 0.49f, 126.5f, -126.5f};
        System.arraycopy(v, 0, x, 0, v.length);
        int[] want = {127, -127, 1, -1, 2, -2, 3, -3, 2, -2, 0, 127, -127};
        MemorySegment s = q8(x);
        assertEquals(0x3C00, s.get(Floats.I16_LE, 0) & 0xFFFF, "d = 127/127 = 1.0 as f16");
        for (int j = 0; j < want.length; j++) assertEquals(want[j], s.get(ValueLayout.JAVA_BYTE, 2 + j), "q[" + j + "]");
        for (int j = want.length; j < 32; j++) assertEquals(0, s.get(ValueLayout.JAVA_BYTE, 2 + j));
    }

    @Test
    void q8StoresF16ScaleButQuantizesWithUnroundedInverse() {
        float[] x = new float[32];
        x[0] = 1f;        // d = 1/127 (f16 rounds it), id = 1/d unrounded
        x[1] = 0.5f;      // 0.5 · 127 = 63.5 → 64
        x[2] = -0.3f;     // -38.1 → -38
        MemorySegment s = q8(x);
        float d = 1f / 127f;
        assertEquals(Float.floatToFloat16(d), s.get(Floats.I16_LE, 0));
        assertEquals(127, s.get(ValueLayout.JAVA_BYTE, 2));
        assertEquals(64, s.get(ValueLayout.JAVA_BYTE, 3));
        assertEquals(-38, s.get(ValueLayout.JAVA_BYTE, 4));
        Q8_0Matrix m = new Q8_0Matrix(1, 32, s, Simd.configured());
        float[] out = new float[32];
        m.dequantizeRow(0, out, 0);
        assertEquals(64 * Float.float16ToFloat(Float.floatToFloat16(d)), out[1], 0f);
    }

    @Test
    void q4NibbleLayoutAndRounding() {
        float[] x = new float[32];
        // Largest |x| is -8 → d = 1, id = 1; q = min(15, trunc(x + 8.5)).
        float[] lo = {-8f, 7f, 7.6f, 0f, 0.49f, 0.5f, -0.5f, -0.51f, 3.2f, -3.7f, 6.5f, -7.5f, 1f, 2f, -1f, -2f};
        float[] hi = {1f, 2f, 3f, 4f, 5f, 6f, -1f, -2f, -3f, -4f, -5f, -6f, -7f, 7.49f, 0.5f, -7.99f};
        System.arraycopy(lo, 0, x, 0, 16);
        System.arraycopy(hi, 0, x, 16, 16);
        int[] qLo = {0, 15, 15, 8, 8, 9, 8, 7, 11, 4, 15, 1, 9, 10, 7, 6};
        int[] qHi = {9, 10, 11, 12, 13, 14, 7, 6, 5, 4, 3, 2, 1, 15, 9, 0};
        MemorySegment s = q4(x);
        assertEquals(0x3C00, s.get(Floats.I16_LE, 0) & 0xFFFF, "d = -8 / -8 = 1.0");
        for (int j = 0; j < 16; j++) {
            int b = s.get(ValueLayout.JAVA_BYTE, 2 + j) & 0xFF;
            assertEquals(qLo[j], b & 0xF, "low nibble of byte " + j + " (element " + j + ")");
            assertEquals(qHi[j], b >>> 4, "high nibble of byte " + j + " (element " + (j + 16) + ")");
        }
    }

    @Test
    void q4NegativeScaleWhenLargestMagnitudeIsPositive() {
        float[] x = new float[32];
        x[3] = 4f;       // max = 4 → d = -0.5, id = -2
        x[4] = -3.75f;   // 7.5 + 8.5 = 16 → clamped to 15
        x[5] = -3f;      // 6 + 8.5 = 14.5 → 14
        x[6] = -4f;      // |-4| ties with 4 but comes later: max stays 4
        MemorySegment s = q4(x);
        assertEquals(Float.floatToFloat16(-0.5f), s.get(Floats.I16_LE, 0));
        Q4_0Matrix m = new Q4_0Matrix(1, 32, s, Simd.configured());
        float[] out = new float[32];
        m.dequantizeRow(0, out, 0);
        assertEquals(4f, out[3], 0f);       // q 0 → (0 - 8) · -0.5
        assertEquals(-3.5f, out[4], 0f);    // q 15 → 7 · -0.5
        assertEquals(-3f, out[5], 0f);
        assertEquals(-3.5f, out[6], 0f);    // -4 · -2 + 8.5 = 16.5 → clamped to 15
        assertEquals(0f, out[0], 0f);       // 0 → q 8
    }

    @Test
    void roundTripErrorBounds() {
        SplittableRandom rnd = new SplittableRandom(3);
        int rows = 19, cols = 256;
        MemorySegment f = Arena.ofAuto().allocate(4L * rows * cols);
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextGaussian() * (1 + (i / 32) % 5));
            f.setAtIndex(Floats.F32_LE, i, x[i]);
        }
        Tensor t = new Tensor("w", DType.F32, new long[]{rows, cols}, f);
        var q8 = Q8_0Matrix.quantize(Matrices.of(t, Simd.configured()), Simd.configured());
        var q4 = Q4_0Matrix.quantize(Matrices.of(t, Simd.configured()), Simd.configured());
        assertEquals(rows * cols / 32 * 34L, q8.byteSize());
        assertEquals(rows * cols / 32 * 18L, q4.byteSize());
        float[] a = new float[cols], b = new float[cols];
        for (int r = 0; r < rows; r++) {
            q8.dequantizeRow(r, a, 0);
            q4.dequantizeRow(r, b, 0);
            for (int blk = 0; blk < cols / 32; blk++) {
                float amax = 0;
                for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[r * cols + blk * 32 + j]));
                for (int j = 0; j < 32; j++) {
                    int i = blk * 32 + j;
                    float v = x[r * cols + i];
                    // q8: half a step of d = amax/127 (plus the f16 rounding of d, relative 2^-11, times |q| ≤ 127)
                    assertTrue(Math.abs(a[i] - v) <= amax / 127 * 0.5f + amax * 1e-3f, "q8 error at " + r + "," + i);
                    // q4: at most one step of |d| = amax/8 (clamping at 15 costs up to a full step)
                    assertTrue(Math.abs(b[i] - v) <= amax / 8 * 1.001f, "q4 error at " + r + "," + i);
                }
            }
        }
    }
}
