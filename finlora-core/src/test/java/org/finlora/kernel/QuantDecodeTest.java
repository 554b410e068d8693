package org.finlora.kernel;

import org.finlora.tensor.Floats;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The q8_0 / q4_0 decode (T = 1) with int8 activations, at every width (the q4_0 row tiles follow the
 * width): Vector API kernels against the scalar reference and both against an independent
 * double-precision product of the dequantized weights and the dequantized int8 activations, on odd row
 * counts; plus the int16 lane bounds at their extremes. Runs in the widths JVM (see WidthContractTest).
 */
@Tag("widths")
class QuantDecodeTest {
    static final Simd[] WIDTHS = WidthContractTest.WIDTHS;

    static RowMatrix matrix(String format, int rows, int cols, long seed, Simd simd) {
        return WeightFormats.parse(format).quantize(WidthContractTest.tensor(rows, cols, seed), simd);
    }

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (String f : new String[]{"q8_0", "q4_0"}) {
            for (int rows : new int[]{37, 131}) for (int cols : new int[]{32, 96, 2080}) b.add(Arguments.of(f, rows, cols));
        }
        return b.build();
    }

    /**
     * x[off, off + cols) through int8 and back, computed independently of ActivationQ8: per 32-block
     * d = amax/127 (float), q = round-half-away(x · (1/d)) on the exact double of the float product,
     * value = q · (d rounded to f16).
     */
    static double[] int8Activations(float[] x, int off, int cols) {
        double[] out = new double[cols];
        for (int b = 0; b < cols / 32; b++) {
            float amax = 0f;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[off + b * 32 + j]));
            float d = amax / 127f;
            float id = d != 0f ? 1f / d : 0f;
            double d16 = Float.float16ToFloat(Float.floatToFloat16(d));
            for (int j = 0; j < 32; j++) {
                double v = x[off + b * 32 + j] * id;   // the float product, widened exactly
                double q = Math.signum(v) * Math.floor(Math.abs(v) + 0.5);
                out[b * 32 + j] = q * d16;
            }
        }
        return out;
    }

    /** Gaussian x with block magnitudes spread over a few decades (every block gets its own scale). */
    static float[] activations(int cols, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[cols];
        for (int b = 0; b < cols / 32; b++) {
            double mag = Math.exp(rnd.nextGaussian() * 2);
            for (int j = 0; j < 32; j++) x[b * 32 + j] = (float) (rnd.nextGaussian() * mag);
        }
        return x;
    }

    @ParameterizedTest(name = "{0} [{1}x{2}]")
    @MethodSource("cases")
    void decodeMatchesIndependentInt8Product(String format, int rows, int cols) {
        for (Simd simd : WIDTHS) decodeMatchesIndependentInt8Product(matrix(format, rows, cols, 5 + cols, simd), format + " at " + simd);
    }

    private static void decodeMatchesIndependentInt8Product(RowMatrix w, String format) {
        int rows = w.rows, cols = w.cols;
        float[] x = activations(cols, 9 + cols);
        double[] xa = int8Activations(x, 0, cols);
        float[] dq = new float[cols];
        double[] yRef = new double[rows], bound = new double[rows], f32Ref = new double[rows], f32Gap = new double[rows];
        for (int r = 0; r < rows; r++) {
            w.decodeReference(r, 0, cols, dq, 0);
            for (int c = 0; c < cols; c++) {
                yRef[r] += dq[c] * xa[c];
                bound[r] += Math.abs(dq[c] * xa[c]);
                f32Ref[r] += (double) dq[c] * x[c];
                f32Gap[r] += Math.abs(dq[c] * (x[c] - xa[c]));
            }
        }
        float[] yS = new float[rows];
        w.matmulReference(x, yS, 1);
        check(yRef, bound, yS, format + " scalar");
        float[] yV = new float[rows];
        w.matmul(x, yV, 1);
        check(yRef, bound, yV, format + " vector");
        // Against the f32 activations, the gap is exactly sum_c w_c (x_c - xa_c), bounded by f32Gap.
        for (int r = 0; r < rows; r++) {
            assertTrue(Math.abs(yV[r] - f32Ref[r]) <= f32Gap[r] + 1e-5 * bound[r] + 1e-30, format + " row " + r + " vs f32 activations");
        }
        // Rows paired differently (start at 1) give bit-identical results: pairing does not change the math.
        float[] yShift = new float[rows];
        yShift[0] = yV[0];
        w.matmulRows(x, yShift, 1, 1, rows);
        for (int r = 0; r < rows; r++) assertEquals(yV[r], yShift[r], 0f, format + " row " + r + " paired from 1");
    }

    static void check(double[] ref, double[] bound, float[] got, String what) {
        // Each block's int sum is exact; the error is float rounding of the scaled block sums and their
        // sum over at most 65 blocks: well under 1e-5 of sum |w · xa|.
        for (int r = 0; r < ref.length; r++) {
            assertEquals(ref[r], got[r], 1e-5 * bound[r] + 1e-30, what + " row " + r);
        }
    }

    @Test
    void q8LaneSumsAtInt16ExtremesAreExact() {
        // Rows of int8 weights -128 / 127 (scale 1) against activations ±127: one short lane holds
        // -128 · -127 + -128 · -127 = 32512, the largest pair sum the int16 lanes ever see.
        int cols = 64;
        MemorySegment s = Arena.ofAuto().allocate(3L * 2 * 34);
        byte[][] rows = {{-128, -128}, {127, 127}, {-128, 127}};
        for (int r = 0; r < 3; r++) {
            for (int blk = 0; blk < 2; blk++) {
                long o = (r * 2L + blk) * 34;
                s.set(Floats.I16_LE, o, Float.floatToFloat16(1f));
                for (int j = 0; j < 32; j++) s.set(ValueLayout.JAVA_BYTE, o + 2 + j, j % 2 == 0 ? rows[r][0] : rows[r][1]);
            }
        }
        for (Simd simd : Simd.all()) q8Extremes(new Q8_0Matrix(3, cols, s, simd), rows, cols);
    }

    private static void q8Extremes(Q8_0Matrix m, byte[][] rows, int cols) {
        float[] x = new float[cols];
        for (int j = 0; j < 32; j++) x[j] = -1f;          // q = -127, d = 1/127
        for (int j = 32; j < 64; j++) x[j] = 5f;          // q = 127, d = 5/127
        double d0 = Float.float16ToFloat(Float.floatToFloat16(1f / 127f)), d1 = Float.float16ToFloat(Float.floatToFloat16(5f / 127f));
        double[] want = new double[3];
        for (int r = 0; r < 3; r++) {
            int sum0 = 0, sum1 = 0;
            for (int j = 0; j < 32; j++) {
                int wq = j % 2 == 0 ? rows[r][0] : rows[r][1];
                sum0 += wq * -127;
                sum1 += wq * 127;
            }
            want[r] = sum0 * d0 + sum1 * d1;
        }
        assertEquals(32 * 16256 * d0 - 32 * 16256 * d1, want[0], 1e-9);
        float[] y = new float[3];
        m.matmul(x, y, 1);
        for (int r = 0; r < 3; r++) assertEquals(want[r], y[r], 1e-6 * Math.abs(want[r]) + 1e-3, m.simd() + " row " + r);
    }

    @Test
    void q4LaneSumsAtNibbleExtremesAreExact() {
        // Nibbles 0 (→ -8) and 15 (→ 7) against activations +127 (first half) and -127 (second half).
        int cols = 32;
        int[] bytes = {0x00, 0xFF, 0x0F, 0xF0, 0x80};
        MemorySegment s = Arena.ofAuto().allocate(bytes.length * 18L);
        for (int r = 0; r < bytes.length; r++) {
            s.set(Floats.I16_LE, r * 18L, Float.floatToFloat16(0.5f));
            for (int j = 0; j < 16; j++) s.set(ValueLayout.JAVA_BYTE, r * 18L + 2 + j, (byte) bytes[r]);
        }
        for (Simd simd : Simd.all()) q4Extremes(new Q4_0Matrix(bytes.length, cols, s, simd), bytes, cols);
    }

    private static void q4Extremes(Q4_0Matrix m, int[] bytes, int cols) {
        float[] x = new float[cols];
        for (int j = 0; j < 16; j++) {
            x[j] = 2f;
            x[j + 16] = -2f;
        }
        double da = Float.float16ToFloat(Float.floatToFloat16(2f / 127f));
        float[] y = new float[bytes.length];
        m.matmul(x, y, 1);
        for (int r = 0; r < bytes.length; r++) {
            int lo = (bytes[r] & 15) - 8, hi = (bytes[r] >>> 4) - 8;
            double want = 16.0 * (lo * 127 + hi * -127) * 0.5 * da;
            assertEquals(want, y[r], 1e-6 * Math.abs(want) + 1e-6, m.simd() + " byte 0x" + Integer.toHexString(bytes[r]));
        }
    }

    /** Random ggml q4_0 bytes for [rows, cols] whose f16 scales include zeros, signs and subnormals. */
    static MemorySegment randomQ4(int rows, int cols, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        short[] special = {0x0000, (short) 0x8000, 0x0001, 0x03ff, (short) 0x8200, 0x7bff, (short) 0xfbff};
        MemorySegment s = Arena.ofAuto().allocate((long) rows * cols / 32 * 18);
        for (long o = 0; o < s.byteSize(); o += 18) {
            short d = rnd.nextInt(5) == 0 ? special[rnd.nextInt(special.length)]
                    : Float.floatToFloat16((float) (rnd.nextGaussian() * Math.exp(rnd.nextGaussian() * 3)));
            s.set(Floats.I16_LE, o, d);
            for (int j = 0; j < 16; j++) s.set(ValueLayout.JAVA_BYTE, o + 2 + j, (byte) rnd.nextInt(256));
        }
        return s;
    }

    @Test
    void q4RowTilesMatchTheScalarReferenceBitForBit() {
        for (Simd simd : WIDTHS) {
            // 48 and 80 at 256 bits: pairs of full tiles and a single one (the pair kernel run on it twice)
            for (int rows : new int[]{16, 37, 48, 80, 97}) q4RowTiles(rows, simd);
        }
    }

    private static void q4RowTiles(int rows, Simd simd) {
        {
            int cols = 160;
            Q4_0Matrix m = new Q4_0Matrix(rows, cols, randomQ4(rows, cols, rows), simd);
            float[] x = activations(cols, 11 + rows);
            float[] yS = new float[rows], yV = new float[rows];
            m.matmulReference(x, yS, 1);
            m.matmul(x, yV, 1);
            for (int r = 0; r < rows; r++) assertEquals(Float.floatToRawIntBits(yS[r]), Float.floatToRawIntBits(yV[r]), simd + " rows " + rows + ", row " + r);
            // ranges that cut tiles: each thread computes a cut tile whole and stores its own rows
            int[][] ranges = {{3, 29}, {16, 32}, {0, 1}, {15, 17}, {rows - 5, rows}, {16, 64}, {5, 70}, {0, 64}};
            for (int[] range : ranges) {
                if (range[1] > rows) continue;
                float[] y = new float[rows];
                m.matmulRows(x, y, 1, range[0], range[1]);
                for (int r = 0; r < rows; r++) {
                    float want = r >= range[0] && r < range[1] ? yS[r] : 0f;
                    assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(y[r]), simd + " range " + range[0] + ".." + range[1] + ", row " + r);
                }
            }
        }
    }

    @Test
    void q4RowTilesHoldGgmlsBytes() {
        for (Simd simd : Simd.all()) for (int rows : new int[]{1, 16, 37}) q4HoldsGgmlBytes(rows, simd);
    }

    private static void q4HoldsGgmlBytes(int rows, Simd simd) {
        {
            MemorySegment ggml = randomQ4(rows, 96, 7 * rows);
            Q4_0Matrix m = new Q4_0Matrix(rows, 96, ggml, simd);
            assertEquals(ggml.byteSize(), m.byteSize());
            assertEquals(-1L, ggml.mismatch(m.ggmlBytes()), "rows " + rows);
            float[] row = new float[96];
            for (int r = 0; r < rows; r++) {
                m.dequantizeRow(r, row, 0);
                for (int c = 0; c < 96; c++) {
                    long o = (long) r * 3 * 18 + c / 32 * 18;
                    int p = ggml.get(ValueLayout.JAVA_BYTE, o + 2 + c % 16) & 0xFF;
                    int q = c % 32 < 16 ? p & 15 : p >>> 4;
                    assertEquals((q - 8) * Float.float16ToFloat(ggml.get(Floats.I16_LE, o)), row[c], 0f, "row " + r + " col " + c);
                }
            }
        }
    }

    @Test
    void q4StripPanelsEqualTheRowDequantization() {
        for (Simd simd : WIDTHS) {
            int rows = 73, cols = 96, tile = simd.shorts().length();
            Q4_0Matrix m = new Q4_0Matrix(rows, cols, randomQ4(rows, cols, 12), simd);
            float[] panel = new float[tile * cols + 3], row = new float[cols];
            for (int r0 = 0; r0 < rows; r0 += tile) {
                boolean full = r0 + tile <= rows;
                assertEquals(full, m.decodeStrip(r0, panel, 3), simd + " strip at " + r0);
                if (!full) continue;
                for (int j = 0; j < tile; j++) {
                    m.dequantizeRow(r0 + j, row, 0);
                    for (int k = 0; k < cols; k++) {
                        assertEquals(Float.floatToRawIntBits(row[k]), Float.floatToRawIntBits(panel[3 + tile * k + j]), simd + " row " + (r0 + j) + " col " + k);
                    }
                }
            }
            assertEquals(false, m.decodeStrip(tile / 2, panel, 0), simd + ": a strip not on a tile");
        }
    }

    @Test
    void q4NonFiniteScalesTakeTheScalarPath() {
        MemorySegment ggml = randomQ4(16, 64, 5);
        ggml.set(Floats.I16_LE, 18L * 3, (short) 0x7c00);   // +inf scale in row 1, block 1
        for (Simd simd : WIDTHS) {
            Q4_0Matrix m = new Q4_0Matrix(16, 64, ggml, simd);
            float[] x = activations(64, 6);
            float[] yS = new float[16], yV = new float[16];
            m.matmulReference(x, yS, 1);
            m.matmul(x, yV, 1);
            for (int r = 0; r < 16; r++) assertEquals(Float.floatToRawIntBits(yS[r]), Float.floatToRawIntBits(yV[r]), simd + " row " + r);
            assertTrue(Float.isInfinite(yS[1]) || Float.isNaN(yS[1]), "row 1 carries the infinite scale");
        }
    }
}
