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
        float s = hsum(acc0.add(acc1));
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

    /** Fixed-order horizontal sum (halves, quarters, pairs): the same bits whichever kernel or compile tier calls it. */
    static float hsum(FloatVector v) {
        v = v.add(v.rearrange(Vectors.SWAP4));
        v = v.add(v.rearrange(Vectors.SWAP2));
        return v.lane(0) + v.lane(1);
    }

    /**
     * y[t, r0 + i] = w[i, :] · x[t, :] for the nr dequantized rows in w ([nr, cols]) and every token t.
     * Token tiles of 4 share each weight vector load; the x tile stays in L1 across the row block.
     * (Main's prefill kernel, kept for 2 <= T < Gemm.PREFILL_TOKENS, where it measured fastest.)
     */
    static void tileRowsVector(float[] w, int nr, float[] x, int T, int cols, float[] y, int rows, int r0) {
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
                float s0 = hsum(a0), s1 = hsum(a1);
                float s2 = hsum(a2), s3 = hsum(a3);
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

    /** Scalar reference of the forward tiles. */
    static void tileScalar(float[] w, int nr, int n, float[] x, int xc, int ldx, int T, float[] y, int ldy, int r0, boolean add) {
        for (int t = 0; t < T; t++) {
            for (int i = 0; i < nr; i++) {
                float s = dotScalar(w, i * n, x, t * ldx + xc, n);
                int yo = t * ldy + r0 + i;
                y[yo] = add ? y[yo] + s : s;
            }
        }
    }

    /**
     * dx[t, dc + c] += sum_k dy[t, dk + k] · p[k, c] for t < T, c < n, k < nk: p is a dequantized
     * panel of nk weight rows × n columns at p[pOff ..] (row stride n), dy has row stride ldy, dx row stride ldx.
     * Register tiles of 4 tokens × 2 vectors of columns stay in registers across the whole panel
     * (6 loads per 8 FMAs). Each element accumulates in k order with fused multiply-adds, so the
     * result does not depend on tile or column-chunk boundaries.
     */
    static void panelTransposedVector(float[] p, int pOff, int nk, int n, float[] dy, int dk, int ldy, int T, float[] dx, int dc, int ldx) {
        int upper2 = n - n % (2 * L), upper = n - n % L;
        int t = 0;
        for (; t + 4 <= T; t += 4) {
            int y0 = t * ldy + dk, x0 = t * ldx + dc;
            int c = 0;
            for (; c < upper2; c += 2 * L) kernelT4x2(p, nk, n, pOff + c, dy, y0, ldy, dx, x0 + c, ldx);
            for (; c < upper; c += L) {
                for (int j = 0; j < 4; j++) stripT1(p, nk, n, pOff + c, dy, y0 + j * ldy, dx, x0 + j * ldx + c);
            }
            for (; c < n; c++) {
                for (int j = 0; j < 4; j++) columnT(p, nk, n, pOff + c, dy, y0 + j * ldy, dx, x0 + j * ldx + c);
            }
        }
        for (; t < T; t++) {
            int y0 = t * ldy + dk, x0 = t * ldx + dc;
            int c = 0;
            for (; c < upper; c += L) stripT1(p, nk, n, pOff + c, dy, y0, dx, x0 + c);
            for (; c < n; c++) columnT(p, nk, n, pOff + c, dy, y0, dx, x0 + c);
        }
    }

    /** Scalar reference of {@link #panelTransposedVector}. */
    static void panelTransposedScalar(float[] p, int nk, int n, float[] dy, int dk, int ldy, int T, float[] dx, int dc, int ldx) {
        for (int t = 0; t < T; t++) {
            for (int c = 0; c < n; c++) columnT(p, nk, n, c, dy, t * ldy + dk, dx, t * ldx + dc + c);
        }
    }

    private static void kernelT4x2(float[] p, int nk, int n, int c, float[] dy, int y0, int ldy, float[] dx, int x0, int ldx) {
        int y1 = y0 + ldy, y2 = y1 + ldy, y3 = y2 + ldy;
        int x1 = x0 + ldx, x2 = x1 + ldx, x3 = x2 + ldx;
        FloatVector a00 = FloatVector.fromArray(F, dx, x0), a01 = FloatVector.fromArray(F, dx, x0 + L);
        FloatVector a10 = FloatVector.fromArray(F, dx, x1), a11 = FloatVector.fromArray(F, dx, x1 + L);
        FloatVector a20 = FloatVector.fromArray(F, dx, x2), a21 = FloatVector.fromArray(F, dx, x2 + L);
        FloatVector a30 = FloatVector.fromArray(F, dx, x3), a31 = FloatVector.fromArray(F, dx, x3 + L);
        for (int k = 0, po = c; k < nk; k++, po += n) {
            FloatVector v0 = FloatVector.fromArray(F, p, po), v1 = FloatVector.fromArray(F, p, po + L);
            FloatVector b = FloatVector.broadcast(F, dy[y0 + k]);
            a00 = v0.fma(b, a00);
            a01 = v1.fma(b, a01);
            b = FloatVector.broadcast(F, dy[y1 + k]);
            a10 = v0.fma(b, a10);
            a11 = v1.fma(b, a11);
            b = FloatVector.broadcast(F, dy[y2 + k]);
            a20 = v0.fma(b, a20);
            a21 = v1.fma(b, a21);
            b = FloatVector.broadcast(F, dy[y3 + k]);
            a30 = v0.fma(b, a30);
            a31 = v1.fma(b, a31);
        }
        a00.intoArray(dx, x0);
        a01.intoArray(dx, x0 + L);
        a10.intoArray(dx, x1);
        a11.intoArray(dx, x1 + L);
        a20.intoArray(dx, x2);
        a21.intoArray(dx, x2 + L);
        a30.intoArray(dx, x3);
        a31.intoArray(dx, x3 + L);
    }

    private static void stripT1(float[] p, int nk, int n, int c, float[] dy, int y0, float[] dx, int x0) {
        FloatVector a = FloatVector.fromArray(F, dx, x0);
        for (int k = 0, po = c; k < nk; k++, po += n) a = FloatVector.fromArray(F, p, po).fma(FloatVector.broadcast(F, dy[y0 + k]), a);
        a.intoArray(dx, x0);
    }

    private static void columnT(float[] p, int nk, int n, int c, float[] dy, int y0, float[] dx, int x0) {
        float s = dx[x0];
        for (int k = 0, po = c; k < nk; k++, po += n) s = Math.fma(p[po], dy[y0 + k], s);
        dx[x0] = s;
    }
}
