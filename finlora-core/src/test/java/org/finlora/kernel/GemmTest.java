package org.finlora.kernel;

import org.finlora.quant.Bnb4bit;
import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;
import org.finlora.tensor.WeightMatrix;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The packed-panel frozen-weight GEMM against plain loops over the dequantized rows, on odd sizes. */
class GemmTest {

    private static Tensor tensor(DType dtype, int rows, int cols, Random rng) {
        MemorySegment seg = Arena.ofAuto().allocate((long) rows * cols * dtype.byteSize(1), 64);
        for (long i = 0; i < (long) rows * cols; i++) {
            float v = (float) rng.nextGaussian() * 0.1f;
            if (dtype == DType.F32) seg.set(Floats.F32_LE, 4 * i, v);
            else seg.set(Floats.I16_LE, 2 * i, Floats.floatToBf16(v));
        }
        return new Tensor("w", dtype, new long[]{rows, cols}, seg);
    }

    private static float[] random(int n, Random rng) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rng.nextGaussian();
        return x;
    }

    /** Reference y = x·Wᵀ and dx = dx0 + dy·W in double from dequantizeRow. */
    private static void check(WeightMatrix w, int T, Random rng) {
        int R = w.rows, K = w.cols;
        float[] dense = new float[R * K];
        for (int r = 0; r < R; r++) w.dequantizeRow(r, dense, r * K);
        float[] x = random(T * K, rng), dy = random(T * R, rng), dx0 = random(T * K, rng);
        float[] y = random(T * R, rng);   // garbage: matmul must overwrite
        Gemm.panelMatmul(w, x, y, T);
        float[] dx = dx0.clone();
        Gemm.panelMatmulTransposed(w, dy, dx, T);
        for (int t = 0; t < T; t++) {
            for (int r = 0; r < R; r++) {
                double s = 0, mag = 0;
                for (int k = 0; k < K; k++) {
                    s += (double) x[t * K + k] * dense[r * K + k];
                    mag += Math.abs((double) x[t * K + k] * dense[r * K + k]);
                }
                assertEquals(s, y[t * R + r], 1e-5 * mag + 1e-6, "y[" + t + ", " + r + "] " + w.format() + " " + R + "x" + K + " T=" + T);
            }
            for (int k = 0; k < K; k++) {
                double s = dx0[t * K + k], mag = Math.abs(s);
                for (int r = 0; r < R; r++) {
                    s += (double) dy[t * R + r] * dense[r * K + k];
                    mag += Math.abs((double) dy[t * R + r] * dense[r * K + k]);
                }
                assertEquals(s, dx[t * K + k], 1e-5 * mag + 1e-6, "dx[" + t + ", " + k + "] " + w.format() + " " + R + "x" + K + " T=" + T);
            }
        }
    }

    @Test
    void f32AndBf16OddShapes() {
        Random rng = new Random(3);
        int[][] shapes = {{37, 29, 7}, {16, 16, 6}, {50, 300, 13}, {5, 530, 1}, {33, 17, 20}};
        for (int[] s : shapes) {
            check(Matrices.of(tensor(DType.F32, s[0], s[1], rng)), s[2], rng);
            check(Matrices.of(tensor(DType.BF16, s[0], s[1], rng)), s[2], rng);
        }
    }

    @Test
    void nf4BlocksAlignedAndStraddlingRows() {
        Random rng = new Random(4);
        // cols 320: whole blocks of 64 per row; cols 100: blocks run across row ends, as bnb's flat blocks do
        int[][] shapes = {{35, 320, 11}, {21, 100, 7}, {64, 512, 19}};
        for (int[] s : shapes) {
            Tensor t = tensor(DType.F32, s[0], s[1], rng);
            check(Bnb4bitMatrix.quantize(t, Bnb4bit.Type.NF4, 64, true), s[2], rng);
            check(Bnb4bitMatrix.quantize(t, Bnb4bit.Type.FP4, 64, false), s[2], rng);
        }
    }

    @Test
    void tokenBlocksKSlicesAndTileEdges() {
        Random rng = new Random(6);
        // T past one token block (MC) with a partial last micro-panel; K (forward) and R (input
        // gradient) past one K slice (KC); rows/cols ending inside a 16-wide strip and inside a unit
        int[][] shapes = {{21, 40, 2 * Gemm.MC + 7}, {19, Gemm.KC + 77, 9}, {Gemm.KC + 45, 23, 5}, {18, 33, Gemm.MR + 1}};
        for (int[] s : shapes) {
            check(Matrices.of(tensor(DType.F32, s[0], s[1], rng)), s[2], rng);
        }
        Tensor t = tensor(DType.F32, 27, Gemm.KC + 64, rng);
        check(Bnb4bitMatrix.quantize(t, Bnb4bit.Type.NF4, 64, true), Gemm.MC + 3, rng);
    }

    @Test
    void blockFormatsDecodeUnitSpans() {
        Random rng = new Random(7);
        // q8_0/q4_0 decode spans on their 32-column blocks: unit spans are 64 wide, the last one 32
        for (String format : new String[]{"q8_0", "q4_0"}) {
            for (int[] s : new int[][]{{37, 160, 11}, {20, 96, 17}}) {
                WeightMatrix w = WeightFormats.get(format).fromTensor().apply(tensor(DType.F32, s[0], s[1], rng));
                assertInstanceOf(RowMatrix.class, w);
                check(w, s[2], rng);
            }
        }
    }

    /** The LoRA weight gradient out[m, k] += scale * sum_n a[n, m] * b[n, k], both parallel splits, rank-8 vector rows. */
    @Test
    void aTbMatchesDoubleReference() {
        Random rng = new Random(8);
        int[][] shapes = {{29, 40, 8}, {17, 3, 8}, {33, 19, 8}, {21, 5, 130}, {64, 70, 16}, {9, 2, 300}};
        for (int[] sh : shapes) {
            int N = sh[0], M = sh[1], K = sh[2];
            float[] a = random(N * M, rng), b = random(N * K, rng), out0 = random(M * K, rng);
            for (int i = 0; i < a.length; i += 7) a[i] = 0f;   // the kernel skips zero rows of a (dropped tokens)
            float[] out = out0.clone();
            Gemm.aTb(a, b, out, N, M, K, 0.37f);
            for (int m = 0; m < M; m++) {
                for (int k = 0; k < K; k++) {
                    double s = 0, mag = Math.abs(out0[m * K + k]);
                    for (int n = 0; n < N; n++) {
                        s += (double) a[n * M + m] * b[n * K + k];
                        mag += Math.abs(0.37 * a[n * M + m] * b[n * K + k]);
                    }
                    assertEquals(out0[m * K + k] + 0.37 * s, out[m * K + k], 1e-5 * mag + 1e-6, "out[" + m + ", " + k + "] N=" + N + " M=" + M + " K=" + K);
                }
            }
        }
    }

    @Test
    void dispatchMatchesWeightKernels() {
        Random rng = new Random(5);
        WeightMatrix w = Bnb4bitMatrix.quantize(tensor(DType.F32, 48, 256, rng), Bnb4bit.Type.NF4, 64, false);
        assertInstanceOf(DequantMatrix.class, w);
        int T = Gemm.MIN_TOKENS + 3;
        float[] x = random(T * 256, rng), y = new float[T * 48], yRef = new float[T * 48];
        Gemm.matmul(w, x, y, T);
        w.matmul(x, yRef, T);
        for (int i = 0; i < y.length; i++) assertEquals(yRef[i], y[i], 1e-4f * (1 + Math.abs(yRef[i])), "y[" + i + "]");
        float[] dy = random(T * 48, rng), dx = new float[T * 256], dxRef = new float[T * 256];
        Gemm.matmulTransposed(w, dy, dx, T);
        w.matmulTransposed(dy, dxRef, T);
        for (int i = 0; i < dx.length; i++) assertEquals(dxRef[i], dx[i], 1e-4f * (1 + Math.abs(dxRef[i])), "dx[" + i + "]");
    }
}
