package org.finlora.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dense float kernels over heap arrays at the width of a {@link Simd}: dots, the small-T register
 * tiles of the weight formats (forward and input gradient), axpy. Vector paths beside their scalar
 * references.
 */
public final class Dot {
    private Dot() {
    }

    /** sum_i a[aOff + i] · b[bOff + i]. */
    public static float dot(Simd simd, float[] a, int aOff, float[] b, int bOff, int n) {
        return simd.vector() ? dotVector(simd, a, aOff, b, bOff, n) : dotScalar(a, aOff, b, bOff, n);
    }

    public static float dotScalar(float[] a, int aOff, float[] b, int bOff, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    static float dotVector(Simd simd, float[] a, int aOff, float[] b, int bOff, int n) {
        VectorSpecies<Float> F = simd.floats();
        int L = F.length();
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            acc0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc0);
            acc1 = FloatVector.fromArray(F, a, aOff + i + L).fma(FloatVector.fromArray(F, b, bOff + i + L), acc1);
        }
        for (; i + L <= n; i += L) acc0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc0);
        float s = simd.hsum(acc0.add(acc1));
        for (; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    /** y[off + i] += a * x[xOff + i]. */
    public static void axpy(Simd simd, float a, float[] x, int xOff, float[] y, int off, int n) {
        int i = 0;
        if (simd.vector()) {
            VectorSpecies<Float> F = simd.floats();
            int L = F.length();
            FloatVector av = FloatVector.broadcast(F, a);
            for (; i + L <= n; i += L) {
                FloatVector.fromArray(F, x, xOff + i).fma(av, FloatVector.fromArray(F, y, off + i)).intoArray(y, off + i);
            }
        }
        for (; i < n; i++) y[off + i] += a * x[xOff + i];
    }

    /**
     * y[t, r0 + i] += sum_k w[i·ws + k] · x[t·cols + c0 + k] for k &lt; len, i &lt; nr (nr &lt;= 4): the
     * 4-row × 2-token register tile of the small-T forward. Each weight vector loaded from the
     * scratch serves two tokens, each x vector four rows. Rows past nr in w must hold zeros.
     */
    static void rowTile(Simd simd, float[] x, float[] y, int T, float[] w, int ws, int c0, int len, int cols, int rows, int r0, int nr) {
        VectorSpecies<Float> F = simd.floats();
        int L = F.length();
        int ub = F.loopBound(len);
        int t = 0;
        for (; t + 1 < T; t += 2) {
            int xa = t * cols + c0, xb = xa + cols;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            FloatVector b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (int k = 0; k < ub; k += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xa + k);
                FloatVector xw = FloatVector.fromArray(F, x, xb + k);
                FloatVector w0 = FloatVector.fromArray(F, w, k);
                FloatVector w1 = FloatVector.fromArray(F, w, ws + k);
                FloatVector w2 = FloatVector.fromArray(F, w, 2 * ws + k);
                FloatVector w3 = FloatVector.fromArray(F, w, 3 * ws + k);
                a0 = w0.fma(xv, a0);
                a1 = w1.fma(xv, a1);
                a2 = w2.fma(xv, a2);
                a3 = w3.fma(xv, a3);
                b0 = w0.fma(xw, b0);
                b1 = w1.fma(xw, b1);
                b2 = w2.fma(xw, b2);
                b3 = w3.fma(xw, b3);
            }
            float sa0 = simd.hsum(a0), sa1 = simd.hsum(a1), sa2 = simd.hsum(a2), sa3 = simd.hsum(a3);
            float sb0 = simd.hsum(b0), sb1 = simd.hsum(b1), sb2 = simd.hsum(b2), sb3 = simd.hsum(b3);
            for (int k = ub; k < len; k++) {
                float xv = x[xa + k], xw = x[xb + k];
                sa0 += w[k] * xv;
                sa1 += w[ws + k] * xv;
                sa2 += w[2 * ws + k] * xv;
                sa3 += w[3 * ws + k] * xv;
                sb0 += w[k] * xw;
                sb1 += w[ws + k] * xw;
                sb2 += w[2 * ws + k] * xw;
                sb3 += w[3 * ws + k] * xw;
            }
            store(y, t * rows + r0, nr, sa0, sa1, sa2, sa3);
            store(y, (t + 1) * rows + r0, nr, sb0, sb1, sb2, sb3);
        }
        for (; t < T; t++) {
            int xa = t * cols + c0;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int k = 0; k < ub; k += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xa + k);
                a0 = FloatVector.fromArray(F, w, k).fma(xv, a0);
                a1 = FloatVector.fromArray(F, w, ws + k).fma(xv, a1);
                a2 = FloatVector.fromArray(F, w, 2 * ws + k).fma(xv, a2);
                a3 = FloatVector.fromArray(F, w, 3 * ws + k).fma(xv, a3);
            }
            float sa0 = simd.hsum(a0), sa1 = simd.hsum(a1), sa2 = simd.hsum(a2), sa3 = simd.hsum(a3);
            for (int k = ub; k < len; k++) {
                float xv = x[xa + k];
                sa0 += w[k] * xv;
                sa1 += w[ws + k] * xv;
                sa2 += w[2 * ws + k] * xv;
                sa3 += w[3 * ws + k] * xv;
            }
            store(y, t * rows + r0, nr, sa0, sa1, sa2, sa3);
        }
    }

    /** y[o + i] += s_i for i &lt; nr. */
    private static void store(float[] y, int o, int nr, float s0, float s1, float s2, float s3) {
        y[o] += s0;
        if (nr > 1) y[o + 1] += s1;
        if (nr > 2) y[o + 2] += s2;
        if (nr > 3) y[o + 3] += s3;
    }

    /**
     * dx[t, dc + c] += sum_k dy[t, dk + k] · p[k, c] for t &lt; T, c &lt; n, k &lt; nk: p is a dequantized
     * panel of nk weight rows × n columns at p[pOff ..] (row stride n), dy has row stride ldy, dx row stride ldx.
     * Register tiles of 4 tokens × 2 vectors of columns stay in registers across the whole panel
     * (6 loads per 8 FMAs). Each element accumulates in k order with fused multiply-adds, so the
     * result does not depend on the width, the tile or the column-chunk boundaries.
     */
    static void panelTransposedVector(Simd simd, float[] p, int pOff, int nk, int n, float[] dy, int dk, int ldy, int T,
                                      float[] dx, int dc, int ldx) {
        int L = simd.floats().length();
        int upper2 = n - n % (2 * L), upper = n - n % L;
        int t = 0;
        for (; t + 4 <= T; t += 4) {
            int y0 = t * ldy + dk, x0 = t * ldx + dc;
            int c = 0;
            for (; c < upper2; c += 2 * L) kernelT4x2(simd, p, nk, n, pOff + c, dy, y0, ldy, dx, x0 + c, ldx);
            for (; c < upper; c += L) {
                for (int j = 0; j < 4; j++) stripT1(simd, p, nk, n, pOff + c, dy, y0 + j * ldy, dx, x0 + j * ldx + c);
            }
            for (; c < n; c++) {
                for (int j = 0; j < 4; j++) columnT(p, nk, n, pOff + c, dy, y0 + j * ldy, dx, x0 + j * ldx + c);
            }
        }
        for (; t < T; t++) {
            int y0 = t * ldy + dk, x0 = t * ldx + dc;
            int c = 0;
            for (; c < upper; c += L) stripT1(simd, p, nk, n, pOff + c, dy, y0, dx, x0 + c);
            for (; c < n; c++) columnT(p, nk, n, pOff + c, dy, y0, dx, x0 + c);
        }
    }

    /** Scalar reference of {@link #panelTransposedVector}: the same fused multiply-adds in the same order. */
    static void panelTransposedScalar(float[] p, int nk, int n, float[] dy, int dk, int ldy, int T, float[] dx, int dc, int ldx) {
        for (int t = 0; t < T; t++) {
            for (int c = 0; c < n; c++) columnT(p, nk, n, c, dy, t * ldy + dk, dx, t * ldx + dc + c);
        }
    }

    private static void kernelT4x2(Simd simd, float[] p, int nk, int n, int c, float[] dy, int y0, int ldy, float[] dx, int x0, int ldx) {
        VectorSpecies<Float> F = simd.floats();
        int L = F.length();
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

    private static void stripT1(Simd simd, float[] p, int nk, int n, int c, float[] dy, int y0, float[] dx, int x0) {
        VectorSpecies<Float> F = simd.floats();
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
