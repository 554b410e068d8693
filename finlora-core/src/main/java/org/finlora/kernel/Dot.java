package org.finlora.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static org.finlora.kernel.Vectors.F;
import static org.finlora.kernel.Vectors.L;

/** Dense float kernels over heap arrays: dots, token-tiled row blocks, axpy. Vector paths beside scalar references. */
public final class Dot {
    private Dot() {
    }

    public static float dot(float[] a, int aOff, float[] b, int bOff, int n, boolean vector) {
        return vector ? dotVector(a, aOff, b, bOff, n) : dotScalar(a, aOff, b, bOff, n);
    }

    public static float dotScalar(float[] a, int aOff, float[] b, int bOff, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    public static float dotVector(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            acc0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc0);
            acc1 = FloatVector.fromArray(F, a, aOff + i + L).fma(FloatVector.fromArray(F, b, bOff + i + L), acc1);
        }
        for (; i + L <= n; i += L) acc0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc0);
        float s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    /** y[off + i] += a * x[xOff + i]. */
    public static void axpy(float a, float[] x, int xOff, float[] y, int off, int n, boolean vector) {
        int i = 0;
        if (vector) {
            FloatVector av = FloatVector.broadcast(F, a);
            for (; i + L <= n; i += L) {
                FloatVector.fromArray(F, x, xOff + i).fma(av, FloatVector.fromArray(F, y, off + i)).intoArray(y, off + i);
            }
        }
        for (; i < n; i++) y[off + i] += a * x[xOff + i];
    }

    /**
     * y[t, r0 + i] = w[i, :] · x[t, :] for the nr dequantized rows in w ([nr, cols]) and every token t.
     * Token tiles of 4 share each weight vector load; the x tile stays in L1 across the row block.
     */
    static void tileVector(float[] w, int nr, float[] x, int T, int cols, float[] y, int rows, int r0) {
        int upper = cols - cols % L;
        int t = 0;
        for (; t + 4 <= T; t += 4) {
            int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
            for (int i = 0; i < nr; i++) {
                int wo = i * cols;
                FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
                int c = 0;
                for (; c < upper; c += L) {
                    FloatVector wv = FloatVector.fromArray(F, w, wo + c);
                    a0 = FloatVector.fromArray(F, x, x0 + c).fma(wv, a0);
                    a1 = FloatVector.fromArray(F, x, x1 + c).fma(wv, a1);
                    a2 = FloatVector.fromArray(F, x, x2 + c).fma(wv, a2);
                    a3 = FloatVector.fromArray(F, x, x3 + c).fma(wv, a3);
                }
                float s0 = a0.reduceLanes(VectorOperators.ADD), s1 = a1.reduceLanes(VectorOperators.ADD);
                float s2 = a2.reduceLanes(VectorOperators.ADD), s3 = a3.reduceLanes(VectorOperators.ADD);
                for (; c < cols; c++) {
                    float wc = w[wo + c];
                    s0 += wc * x[x0 + c];
                    s1 += wc * x[x1 + c];
                    s2 += wc * x[x2 + c];
                    s3 += wc * x[x3 + c];
                }
                int yo = t * rows + r0 + i;
                y[yo] = s0;
                y[yo + rows] = s1;
                y[yo + 2 * rows] = s2;
                y[yo + 3 * rows] = s3;
            }
        }
        for (; t < T; t++) {
            for (int i = 0; i < nr; i++) y[t * rows + r0 + i] = dotVector(w, i * cols, x, t * cols, cols);
        }
    }

    static void tileScalar(float[] w, int nr, float[] x, int T, int cols, float[] y, int rows, int r0) {
        for (int t = 0; t < T; t++) {
            for (int i = 0; i < nr; i++) y[t * rows + r0 + i] = dotScalar(w, i * cols, x, t * cols, cols);
        }
    }

    /** dx[dxOff + c] += sum_i dy[dyOff + i] * w[i, c] over the nr rows of w ([nr, n]). */
    static void accumulateRowsVector(float[] w, int nr, int n, float[] dy, int dyOff, float[] dx, int dxOff) {
        int c = 0;
        for (; c + L <= n; c += L) {
            FloatVector acc = FloatVector.fromArray(F, dx, dxOff + c);
            for (int i = 0; i < nr; i++) {
                acc = FloatVector.fromArray(F, w, i * n + c).fma(FloatVector.broadcast(F, dy[dyOff + i]), acc);
            }
            acc.intoArray(dx, dxOff + c);
        }
        for (; c < n; c++) {
            float s = dx[dxOff + c];
            for (int i = 0; i < nr; i++) s += dy[dyOff + i] * w[i * n + c];
            dx[dxOff + c] = s;
        }
    }

    static void accumulateRowsScalar(float[] w, int nr, int n, float[] dy, int dyOff, float[] dx, int dxOff) {
        for (int c = 0; c < n; c++) {
            float s = dx[dxOff + c];
            for (int i = 0; i < nr; i++) s += dy[dyOff + i] * w[i * n + c];
            dx[dxOff + c] = s;
        }
    }
}
