package org.finlora.kernel;

import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Shared checks of the tiled kernels against dense double-precision references built from dequantizeRow. */
final class DequantKernelChecks {
    /** 70 tokens run the GEMM forward (Gemm.PREFILL_TOKENS and up). */
    static final int[] TOKENS = {1, 3, 9, 70};

    private DequantKernelChecks() {
    }

    /** A random weight tensor; BF16 values are rounded like a real bf16 checkpoint. */
    static Tensor tensor(String name, DType dtype, int rows, int cols, long seed) {
        Random rnd = new Random(seed);
        int n = rows * cols;
        if (dtype == DType.F32) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = (float) (rnd.nextGaussian() * 0.05);
            return new Tensor(name, dtype, new long[]{rows, cols}, MemorySegment.ofArray(v));
        }
        short[] v = new short[n];
        for (int i = 0; i < n; i++) {
            float f = (float) (rnd.nextGaussian() * 0.05);
            v[i] = dtype == DType.BF16 ? Floats.floatToBf16(f) : Float.floatToFloat16(f);
        }
        return new Tensor(name, dtype, new long[]{rows, cols}, MemorySegment.ofArray(v));
    }

    static float[] flat(Tensor t) {
        return Floats.toFloatArray(t);
    }

    static float[] random(int n, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }

    static double[][] dense(DequantMatrix m) {
        double[][] w = new double[m.rows][m.cols];
        float[] row = new float[m.cols + 3];
        for (int r = 0; r < m.rows; r++) {
            m.dequantizeRow(r, row, 3);
            for (int c = 0; c < m.cols; c++) w[r][c] = row[3 + c];
        }
        return w;
    }

    /** The vector decode equals the scalar decode bit for bit, over every tile of every row. */
    static void checkTileDecode(DequantMatrix m) {
        float[] a = new float[m.tile + 1], b = new float[m.tile + 1];
        for (int r = 0; r < m.rows; r++) {
            for (int c0 = 0; c0 < m.cols; c0 += m.tile) {
                int len = Math.min(m.tile, m.cols - c0);
                m.dequantize(r, c0, len, a, 1);
                m.dequantizeTile(r, c0, len, b, 1);
                for (int k = 0; k < len; k++) {
                    assertEquals(Float.floatToIntBits(a[1 + k]), Float.floatToIntBits(b[1 + k]), "row " + r + " col " + (c0 + k));
                }
            }
        }
    }

    /** Forward (vector and scalar) and input gradient (vector and scalar) against the dense reference. */
    static void checkKernels(DequantMatrix m) {
        checkTileDecode(m);
        double[][] w = dense(m);
        for (int T : TOKENS) {
            float[] x = random(T * m.cols, 100 + T);
            float[] yv = new float[T * m.rows], ys = new float[T * m.rows];
            java.util.Arrays.fill(yv, Float.NaN);   // matmul overwrites
            m.matmulVector(x, yv, T);
            m.matmulScalar(x, ys, T);
            for (int t = 0; t < T; t++) {
                for (int r = 0; r < m.rows; r++) {
                    double s = 0, mag = 0;
                    for (int c = 0; c < m.cols; c++) {
                        s += x[t * m.cols + c] * w[r][c];
                        mag += Math.abs(x[t * m.cols + c] * w[r][c]);
                    }
                    double tol = 1e-5 * mag + 1e-7;
                    assertEquals(s, yv[t * m.rows + r], tol, "vector y[" + t + "," + r + "] T=" + T);
                    assertEquals(s, ys[t * m.rows + r], tol, "scalar y[" + t + "," + r + "] T=" + T);
                }
            }
            float[] dy = random(T * m.rows, 200 + T);
            dy[0] = 0f;   // exercises the skip of zero gradients
            float[] dx0 = random(T * m.cols, 300 + T);
            float[] dxv = dx0.clone(), dxs = dx0.clone();
            m.matmulTransposedVector(dy, dxv, T);
            m.matmulTransposedScalar(dy, dxs, T);
            for (int t = 0; t < T; t++) {
                for (int c = 0; c < m.cols; c++) {
                    double s = dx0[t * m.cols + c], mag = Math.abs(s);
                    for (int r = 0; r < m.rows; r++) {
                        s += dy[t * m.rows + r] * w[r][c];
                        mag += Math.abs(dy[t * m.rows + r] * w[r][c]);
                    }
                    double tol = 1e-5 * mag + 1e-7;
                    assertEquals(s, dxv[t * m.cols + c], tol, "vector dx[" + t + "," + c + "] T=" + T);
                    assertEquals(s, dxs[t * m.cols + c], tol, "scalar dx[" + t + "," + c + "] T=" + T);
                }
            }
        }
    }
}
