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

    /** Fixed-order horizontal sum (halves, quarters, pairs): the same bits whichever kernel or compile tier calls it. */
    static float hsum(FloatVector v) {
        v = v.add(v.rearrange(Vectors.SWAP4));
        v = v.add(v.rearrange(Vectors.SWAP2));
        return v.lane(0) + v.lane(1);
    }

    /**
     * y[t, r0 + i] (+)= w[i, 0 .. n) · x[t, xc .. xc + n) for the nr dequantized rows of w (row stride n)
     * and every token t < T (x row stride ldx, y row stride ldy). Register tiles of 4 tokens × 3 rows
     * load 7 vectors per 12 FMAs; the 4 × n slice of x stays in L1 across the row block. Every element
     * is summed in the same order (lane-wise FMAs over c, {@link #hsum}, fma tail) whichever tile holds it,
     * so results do not depend on how rows are split across threads.
     */
    static void tileVector(float[] w, int nr, int n, float[] x, int xc, int ldx, int T, float[] y, int ldy, int r0, boolean add) {
        float[] red = new float[12 * L];   // accumulators spilled for the fixed-order reductions
        int t = 0;
        for (; t + 4 <= T; t += 4) {
            int i = 0;
            for (; i + 3 <= nr; i += 3) kernel4x3(w, i * n, n, x, t * ldx + xc, ldx, y, t * ldy + r0 + i, ldy, add, red);
            for (; i < nr; i++) kernel4x1(w, i * n, n, x, t * ldx + xc, ldx, y, t * ldy + r0 + i, ldy, add, red);
        }
        for (; t < T; t++) {
            for (int i = 0; i < nr; i++) {
                float s = dotFixed(w, i * n, x, t * ldx + xc, n);
                int yo = t * ldy + r0 + i;
                y[yo] = add ? y[yo] + s : s;
            }
        }
    }

    /** Scalar reference of {@link #tileVector}. */
    static void tileScalar(float[] w, int nr, int n, float[] x, int xc, int ldx, int T, float[] y, int ldy, int r0, boolean add) {
        for (int t = 0; t < T; t++) {
            for (int i = 0; i < nr; i++) {
                float s = dotScalar(w, i * n, x, t * ldx + xc, n);
                int yo = t * ldy + r0 + i;
                y[yo] = add ? y[yo] + s : s;
            }
        }
    }

    /** One lane-wise accumulator, {@link #hsum}, fma tail: the per-element order shared by the tile kernels. */
    static float dotFixed(float[] w, int wo, float[] x, int xo, int n) {
        int upper = n - n % L;
        FloatVector a = FloatVector.zero(F);
        int c = 0;
        for (; c < upper; c += L) a = FloatVector.fromArray(F, x, xo + c).fma(FloatVector.fromArray(F, w, wo + c), a);
        float s = hsum(a);
        for (; c < n; c++) s = Math.fma(w[wo + c], x[xo + c], s);
        return s;
    }

    private static void kernel4x3(float[] w, int w0, int n, float[] x, int x0, int ldx, float[] y, int y0, int ldy, boolean add, float[] red) {
        int w1 = w0 + n, w2 = w1 + n;
        int x1 = x0 + ldx, x2 = x1 + ldx, x3 = x2 + ldx;
        int upper = n - n % L;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00;
        for (int c = 0; c < upper; c += L) {
            FloatVector v0 = FloatVector.fromArray(F, w, w0 + c);
            FloatVector v1 = FloatVector.fromArray(F, w, w1 + c);
            FloatVector v2 = FloatVector.fromArray(F, w, w2 + c);
            FloatVector xv = FloatVector.fromArray(F, x, x0 + c);
            a00 = xv.fma(v0, a00);
            a01 = xv.fma(v1, a01);
            a02 = xv.fma(v2, a02);
            xv = FloatVector.fromArray(F, x, x1 + c);
            a10 = xv.fma(v0, a10);
            a11 = xv.fma(v1, a11);
            a12 = xv.fma(v2, a12);
            xv = FloatVector.fromArray(F, x, x2 + c);
            a20 = xv.fma(v0, a20);
            a21 = xv.fma(v1, a21);
            a22 = xv.fma(v2, a22);
            xv = FloatVector.fromArray(F, x, x3 + c);
            a30 = xv.fma(v0, a30);
            a31 = xv.fma(v1, a31);
            a32 = xv.fma(v2, a32);
        }
        a00.intoArray(red, 0);
        a01.intoArray(red, L);
        a02.intoArray(red, 2 * L);
        a10.intoArray(red, 3 * L);
        a11.intoArray(red, 4 * L);
        a12.intoArray(red, 5 * L);
        a20.intoArray(red, 6 * L);
        a21.intoArray(red, 7 * L);
        a22.intoArray(red, 8 * L);
        a30.intoArray(red, 9 * L);
        a31.intoArray(red, 10 * L);
        a32.intoArray(red, 11 * L);
        for (int j = 0; j < 4; j++) {
            int xj = x0 + j * ldx;
            for (int i = 0; i < 3; i++) finish(red, (3 * j + i) * L, w, w0 + i * n, x, xj, upper, n, y, y0 + j * ldy + i, add);
        }
    }

    private static void kernel4x1(float[] w, int w0, int n, float[] x, int x0, int ldx, float[] y, int y0, int ldy, boolean add, float[] red) {
        int x1 = x0 + ldx, x2 = x1 + ldx, x3 = x2 + ldx;
        int upper = n - n % L;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int c = 0; c < upper; c += L) {
            FloatVector v = FloatVector.fromArray(F, w, w0 + c);
            a0 = FloatVector.fromArray(F, x, x0 + c).fma(v, a0);
            a1 = FloatVector.fromArray(F, x, x1 + c).fma(v, a1);
            a2 = FloatVector.fromArray(F, x, x2 + c).fma(v, a2);
            a3 = FloatVector.fromArray(F, x, x3 + c).fma(v, a3);
        }
        a0.intoArray(red, 0);
        a1.intoArray(red, L);
        a2.intoArray(red, 2 * L);
        a3.intoArray(red, 3 * L);
        for (int j = 0; j < 4; j++) finish(red, j * L, w, w0, x, x0 + j * ldx, upper, n, y, y0 + j * ldy, add);
    }

    /**
     * y[yi] (+)= the sum of the 8 spilled lanes red[ro ..] in {@link #hsum}'s order, plus the fma tail of
     * columns [upper, n). Scalar on purpose: no vector crosses a call boundary (C2 would box it).
     */
    private static void finish(float[] red, int ro, float[] w, int wo, float[] x, int xo, int upper, int n, float[] y, int yi, boolean add) {
        float s = ((red[ro] + red[ro + 4]) + (red[ro + 2] + red[ro + 6])) + ((red[ro + 1] + red[ro + 5]) + (red[ro + 3] + red[ro + 7]));
        for (int c = upper; c < n; c++) s = Math.fma(w[wo + c], x[xo + c], s);
        y[yi] = add ? y[yi] + s : s;
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
