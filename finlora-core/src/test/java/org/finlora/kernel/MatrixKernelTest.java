package org.finlora.kernel;

import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every weight format: Vector API kernels against the scalar references and a plain double-precision product, on odd sizes. */
class MatrixKernelTest {

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (String f : new String[]{"f32", "f16", "bf16", "q8_0", "q4_0"}) {
            int[] colsList = f.startsWith("q") ? new int[]{96, 160} : new int[]{96, 160, 101, 7};
            for (int cols : colsList) for (int T : new int[]{1, 3, 9}) b.add(Arguments.of(f, 37, cols, T));
        }
        // Shapes crossing every tile boundary of the tiled paths (forward 8-row tiles; transposed 128-row ×
        // 256-column panels), with token counts not a multiple of the 4-token tile.
        b.add(Arguments.of("q4_0", 150, 1056, 11));
        b.add(Arguments.of("q8_0", 131, 544, 6));
        b.add(Arguments.of("f32", 133, 1100, 7));
        b.add(Arguments.of("bf16", 29, 517, 5));
        // T >= Gemm.PREFILL_TOKENS: the forward runs the packed-panel GEMM.
        b.add(Arguments.of("q4_0", 150, 1056, 67));
        b.add(Arguments.of("f32", 70, 101, 65));
        b.add(Arguments.of("f16", 131, 300, 64));
        return b.build();
    }

    /** A matrix of the format with random weights (block formats quantized from f32). */
    static RowMatrix matrix(String format, int rows, int cols, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int n = rows * cols;
        MemorySegment f32 = Arena.ofAuto().allocate(4L * n);
        for (int i = 0; i < n; i++) f32.setAtIndex(Floats.F32_LE, i, (float) rnd.nextGaussian());
        Tensor t = new Tensor("w", DType.F32, new long[]{rows, cols}, f32);
        return switch (format) {
            case "f32" -> (RowMatrix) Matrices.of(t);
            case "bf16", "f16" -> {
                MemorySegment h = Arena.ofAuto().allocate(2L * n);
                for (int i = 0; i < n; i++) {
                    float v = f32.getAtIndex(Floats.F32_LE, i);
                    h.setAtIndex(Floats.I16_LE, i, format.equals("bf16") ? Floats.floatToBf16(v) : Float.floatToFloat16(v));
                }
                yield (RowMatrix) Matrices.of(new Tensor("w", format.equals("bf16") ? DType.BF16 : DType.F16, new long[]{rows, cols}, h));
            }
            case "q8_0" -> Q8_0Matrix.quantize(Matrices.of(t));
            case "q4_0" -> Q4_0Matrix.quantize(Matrices.of(t));
            default -> throw new IllegalArgumentException(format);
        };
    }

    static float[] random(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }

    static void assertClose(float[] expected, float[] actual, double rel, String what) {
        double scale = 0;
        for (float e : expected) scale = Math.max(scale, Math.abs(e));
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], rel * Math.max(1, scale), what + " at " + i);
        }
    }

    @ParameterizedTest(name = "{0} [{1}x{2}] T={3}")
    @MethodSource("cases")
    void vectorMatchesScalar(String format, int rows, int cols, int T) {
        Assumptions.assumeTrue(Vectors.ENABLED, "Vector API disabled (-Dfinlora.vector=false or narrow hardware)");
        RowMatrix w = matrix(format, rows, cols, 7 + cols);
        assertEquals(format, w.format());

        float[] dqS = new float[rows * cols], dqV = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            w.dequantize(r, 0, cols, dqS, r * cols, false);
            w.dequantize(r, 0, cols, dqV, r * cols, true);
        }
        for (int i = 0; i < dqS.length; i++) {
            assertEquals(Float.floatToRawIntBits(dqS[i]), Float.floatToRawIntBits(dqV[i]), "dequantize differs at " + i);
        }

        float[] x = random(T * cols, 11);
        // q8_0 / q4_0 decode (T = 1) quantizes x to int8 blocks as ggml does: the reference takes the
        // same int8 activations (QuantDecodeTest bounds the gap to the f32 product separately).
        boolean int8Decode = T == 1 && (format.equals("q8_0") || format.equals("q4_0"));
        double[] xRef = new double[T * cols];
        if (int8Decode) xRef = QuantDecodeTest.int8Activations(x, 0, cols);
        else for (int i = 0; i < xRef.length; i++) xRef[i] = x[i];
        float[] yRef = new float[T * rows];
        for (int t = 0; t < T; t++) {
            for (int r = 0; r < rows; r++) {
                double s = 0;
                for (int c = 0; c < cols; c++) s += (double) dqS[r * cols + c] * xRef[t * cols + c];
                yRef[t * rows + r] = (float) s;
            }
        }
        float[] yS = new float[T * rows], yV = new float[T * rows];
        w.matmul(x, yS, T, false);
        w.matmul(x, yV, T, true);
        assertClose(yRef, yS, 1e-5, "scalar matmul");
        assertClose(yRef, yV, 1e-5, "vector matmul");

        float[] dy = random(T * rows, 13);
        float[] dxInit = random(T * cols, 17);
        float[] dxRef = dxInit.clone();
        for (int t = 0; t < T; t++) {
            for (int c = 0; c < cols; c++) {
                double s = dxInit[t * cols + c];
                for (int r = 0; r < rows; r++) s += (double) dy[t * rows + r] * dqS[r * cols + c];
                dxRef[t * cols + c] = (float) s;
            }
        }
        float[] dxS = dxInit.clone(), dxV = dxInit.clone();
        w.matmulTransposed(dy, dxS, T, false);
        w.matmulTransposed(dy, dxV, T, true);
        assertClose(dxRef, dxS, 1e-5, "scalar matmulTransposed");
        assertClose(dxRef, dxV, 1e-5, "vector matmulTransposed");

        // Sub-range dequantization (used by matmulTransposed's column chunks) agrees with whole rows.
        int align = w.blockAlign();
        int c0 = align == 1 ? 3 : 32, n = cols - c0;
        float[] part = new float[n];
        w.dequantize(5, c0, n, part, 0, true);
        for (int i = 0; i < n; i++) assertEquals(dqS[5 * cols + c0 + i], part[i], 0f);
    }

    @org.junit.jupiter.api.Test
    void f16VectorWideningIsExactForAllHalves() {
        Assumptions.assumeTrue(Vectors.ENABLED, "Vector API disabled");
        MemorySegment h = Arena.ofAuto().allocate(2L * 65536);
        for (int i = 0; i < 65536; i++) h.setAtIndex(Floats.I16_LE, i, (short) i);
        F16Matrix m = new F16Matrix(2048, 32, h);
        float[] out = new float[32];
        for (int r = 0; r < 2048; r++) {
            m.dequantize(r, 0, 32, out, 0, true);
            for (int j = 0; j < 32; j++) {
                short bits = (short) (r * 32 + j);
                float want = Float.float16ToFloat(bits);
                if (Float.isNaN(want)) {   // NaN payload/quiet bit differ between the intrinsic and the Java code
                    assertEquals(true, Float.isNaN(out[j]), "half 0x" + Integer.toHexString(bits & 0xFFFF));
                    continue;
                }
                assertEquals(Float.floatToRawIntBits(Float.float16ToFloat(bits)), Float.floatToRawIntBits(out[j]),
                        "half 0x" + Integer.toHexString(bits & 0xFFFF));
            }
        }
    }

    @org.junit.jupiter.api.Test
    void fusedSameInputMatmulsEqualSeparateOnes() {
        // q4_0 with 41 rows: two full 16-row tiles and a partial one; from 2 tokens q4_0 asks for the GEMM
        RowMatrix a = matrix("q8_0", 37, 96, 1), b = matrix("f32", 200, 96, 2), c = matrix("q4_0", 41, 96, 3);
        for (int T : new int[]{1, 2, 5, 65}) {
            float[] x = random(T * 96, 4);
            float[][] fused = {new float[T * 37], new float[T * 200], new float[T * 41]};
            Matmuls.sameInput(new org.finlora.tensor.WeightMatrix[]{a, b, c}, x, fused, T);
            RowMatrix[] ms = {a, b, c};
            for (int i = 0; i < 3; i++) {
                float[] y = new float[T * ms[i].rows];
                if (T >= Gemm.PREFILL_TOKENS) Gemm.matmul(ms[i], x, y, T);   // long prefill goes through the GEMM
                else ms[i].matmul(x, y, T);
                for (int j = 0; j < y.length; j++) assertEquals(y[j], fused[i][j], 0f, "matrix " + i + " T " + T + " at " + j);
            }
        }
    }
}
