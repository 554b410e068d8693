package org.finlora.kernel;

import org.finlora.quant.LlmInt8;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class Int8VectorwiseMatrixTest {

    private static float h(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }

    /** A plain double-precision LLM.int8 forward (same quantization rules, exact sums, double scaling). */
    private static double[] reference(Int8VectorwiseMatrix m, float[] x, int T, float threshold) {
        int cols = m.cols, rows = m.rows;
        boolean[] outl = new boolean[cols];
        if (threshold > 0) for (int t = 0; t < T; t++) for (int c = 0; c < cols; c++) if (Math.abs(h(x[t * cols + c])) >= threshold) outl[c] = true;
        double[] y = new double[T * rows];
        for (int t = 0; t < T; t++) {
            float rowmax = 0f;
            for (int c = 0; c < cols; c++) {
                float a = Math.abs(h(x[t * cols + c]));
                if (threshold > 0 && a >= threshold) continue;
                rowmax = Math.max(rowmax, a);
            }
            long[] ca = new long[cols];
            for (int c = 0; c < cols; c++) ca[c] = outl[c] || rowmax == 0f ? 0 : (long) Math.rint(h(x[t * cols + c]) * (127f / rowmax));
            for (int r = 0; r < rows; r++) {
                long s = 0;
                double o = 0;
                for (int c = 0; c < cols; c++) {
                    s += ca[c] * m.code(r, c);
                    if (outl[c]) o += (double) x[t * cols + c] * m.code(r, c) * m.scb(r) / 127.0;
                }
                y[t * rows + r] = s * ((double) rowmax * m.scb(r)) / (127.0 * 127.0) + o;
            }
        }
        return y;
    }

    @Test
    void weightCodesFollowLlmInt8() {
        Tensor t = TestWeights.tensor("w", DType.BF16, 6, 40, 5);
        float[] flat = TestWeights.flat(t);
        Int8VectorwiseMatrix m = Int8VectorwiseMatrix.quantize(t, 6f, Simd.configured());
        byte[] cb = new byte[40];
        for (int r = 0; r < 6; r++) {
            float scb = LlmInt8.quantizeRow(flat, r * 40, 40, cb, 0);
            assertEquals(scb, m.scb(r));
            for (int c = 0; c < 40; c++) assertEquals(cb[c], m.code(r, c));
        }
    }

    @Test
    void forwardMatchesDoubleReferenceWithAndWithoutOutliers() {
        int[][] shapes = {{37, 96}, {37, 200}, {10, 1100}};
        for (float threshold : new float[]{6f, 0f}) {
            for (int[] s : shapes) {
                Tensor t = TestWeights.tensor("w", DType.BF16, s[0], s[1], s[1]);
                Int8VectorwiseMatrix m = Int8VectorwiseMatrix.quantize(t, threshold, Simd.configured());
                for (int T : new int[]{1, 3, 9, 70}) {
                    float[] x = TestWeights.random(T * s[1], T);
                    x[(T - 1) * s[1] + 5] = 9f;      // an outlier column (5) in the last token only
                    x[17] = -6f;                      // exactly at the threshold: an outlier
                    float[] yv = new float[T * s[0]], ys = new float[T * s[0]];
                    m.matmul(x, yv, T);
                    m.matmulReference(x, ys, T);
                    assertArrayEquals(ys, yv, "vector and scalar int32 paths must agree bit for bit");
                    double[] ref = reference(m, x, T, threshold);
                    for (int i = 0; i < ref.length; i++) assertEquals(ref[i], ys[i], 2e-5 * (1 + Math.abs(ref[i])), "y[" + i + "] th " + threshold);
                }
            }
        }
    }

    @Test
    void outliersChangeTheResult() {
        Tensor t = TestWeights.tensor("w", DType.F32, 8, 64, 1);
        Int8VectorwiseMatrix with = Int8VectorwiseMatrix.quantize(t, 6f, Simd.configured()), without = Int8VectorwiseMatrix.quantize(t, 0f, Simd.configured());
        float[] x = TestWeights.random(64, 3);
        x[10] = 50f;
        float[] a = new float[8], b = new float[8];
        with.matmul(x, a, 1);
        without.matmul(x, b, 1);
        // without outlier handling the big value squashes the other columns' resolution; results differ
        boolean differ = false;
        for (int i = 0; i < 8; i++) differ |= a[i] != b[i];
        assertTrue(differ);
    }

    @Test
    void inputGradientUsesDequantizedWeight() {
        int[][] shapes = {{37, 96}, {37, 200}, {9, 1100}};
        for (int[] s : shapes) {
            Tensor t = TestWeights.tensor("w", DType.BF16, s[0], s[1], s[0] + s[1]);
            Int8VectorwiseMatrix m = Int8VectorwiseMatrix.quantize(t, 6f, Simd.configured());
            double[][] w = new double[s[0]][s[1]];
            float[] row = new float[s[1]];
            for (int r = 0; r < s[0]; r++) {
                m.dequantizeRow(r, row, 0);
                for (int c = 0; c < s[1]; c++) w[r][c] = row[c];
            }
            assertEquals(m.code(3, 4) * (m.scb(3) / 127f), (float) w[3][4]);
            for (int T : new int[]{1, 3, 9, 70}) {
                float[] dy = TestWeights.random(T * s[0], 9 + T);
                float[] dxv = new float[T * s[1]], dxs = new float[T * s[1]];
                m.matmulTransposed(dy, dxv, T);
                m.matmulTransposedReference(dy, dxs, T);
                for (int tt = 0; tt < T; tt++) {
                    for (int c = 0; c < s[1]; c++) {
                        double ref = 0, mag = 0;
                        for (int r = 0; r < s[0]; r++) {
                            ref += dy[tt * s[0] + r] * w[r][c];
                            mag += Math.abs(dy[tt * s[0] + r] * w[r][c]);
                        }
                        assertEquals(ref, dxv[tt * s[1] + c], 1e-5 * mag + 1e-7);
                        assertEquals(ref, dxs[tt * s[1] + c], 1e-5 * mag + 1e-7);
                    }
                }
            }
        }
    }

    /** Decode's short lanes at their bounds: codes -128 / 127 against activation codes of ±127, over 2 × 32 + 5 columns. */
    @Test
    void decodeShortLanesHoldAtTheCodeExtremes() {
        int rows = 4, cols = 69;
        byte[] cb = new byte[rows * cols];
        for (int c = 0; c < cols; c++) {
            cb[c] = -128;                                   // row 0: every product -128 · ±127
            cb[cols + c] = 127;                             // row 1
            cb[2 * cols + c] = (byte) (c % 2 == 0 ? -128 : 127);
            cb[3 * cols + c] = (byte) (c % 3 - 1);
        }
        float[] scb = {1f, 2f, 3f, 4f};
        Int8VectorwiseMatrix m = Int8VectorwiseMatrix.fromBnb(new org.finlora.quant.BnbTensors.EightBit("w", rows, cols, cb, scb), 0f, Simd.configured());
        for (float sign : new float[]{1f, -1f}) {
            float[] x = new float[cols];
            java.util.Arrays.fill(x, sign * 0.5f);          // every activation code is ±127
            float[] yv = new float[rows], ys = new float[rows];
            m.matmul(x, yv, 1);
            m.matmulReference(x, ys, 1);
            assertArrayEquals(ys, yv, "sign " + sign);
            // row 0: 69 columns of -128 · (±127), exact in int32; scale as LLM.int8 applies it
            short[] qa = new short[cols];
            java.util.Arrays.fill(qa, (short) (sign * 127));
            assertEquals((int) (-128 * 127 * sign) * cols, m.rowDotInt16(0, qa));
            assertEquals((int) (127 * 127 * sign) * cols, m.rowDotInt16(1, qa));
        }
    }
}
