package org.finlora.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.finlora.tensor.WeightMatrix;

import java.util.Arrays;

/**
 * The tiled kernels shared by the quantized weight formats of this package (NF4/FP4, int8, rtn).
 * A format only says how to dequantize a span of one row; the kernels dequantize a tile of
 * {@link #ROW_GROUP} rows x {@code tile} columns once into a small scratch (L1-sized, 8 KB) and
 * reuse it for every token of the batch, so the whole weight is never materialized.
 *
 * <p>Forward y = x W^T runs a 4-row x 2-token register tile over the scratch, parallel over row
 * groups. The input gradient dx += dy W is parallel over column tiles, so no two threads write the
 * same dx element. The scalar references (matmulScalar, matmulTransposedScalar) run the plain loops
 * on the scalar decode; -Dfinlora.vector=false makes them the default.
 */
public abstract class DequantMatrix extends WeightMatrix {
    /** -Dfinlora.vector=false forces the scalar reference kernels. */
    public static final boolean VECTOR_ENABLED = !"false".equalsIgnoreCase(System.getProperty("finlora.vector"));
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    public static final int ROW_GROUP = 4;
    static final int MAX_TILE = 512;

    /** Columns per tile: a multiple of 16 (whole nibble groups), or the whole row when it is shorter. */
    protected final int tile;

    protected DequantMatrix(int rows, int cols) {
        super(rows, cols);
        this.tile = Math.min(MAX_TILE, cols);
    }

    /** Scalar reference decode of W[r, c0, c0 + len) into dst[off, off + len). */
    public abstract void dequantize(int r, int c0, int len, float[] dst, int off);

    /** The decode the tiled kernels use; formats override it with a Vector API version. Same values. */
    protected void dequantizeTile(int r, int c0, int len, float[] dst, int off) {
        dequantize(r, c0, len, dst, off);
    }

    @Override
    public void dequantizeRow(int r, float[] out, int off) {
        dequantize(r, 0, cols, out, off);
    }

    @Override
    public void matmul(float[] x, float[] y, int T) {
        if (VECTOR_ENABLED) matmulVector(x, y, T);
        else matmulScalar(x, y, T);
    }

    @Override
    public void matmulTransposed(float[] dy, float[] dx, int T) {
        if (VECTOR_ENABLED) matmulTransposedVector(dy, dx, T);
        else matmulTransposedScalar(dy, dx, T);
    }

    /** Scalar reference forward: one dequantized row at a time, plain f32 dot products. */
    public void matmulScalar(float[] x, float[] y, int T) {
        Parallel.forRange(rows, 16, (start, end) -> {
            float[] w = new float[cols];
            for (int r = start; r < end; r++) {
                dequantize(r, 0, cols, w, 0);
                for (int t = 0; t < T; t++) {
                    float s = 0f;
                    int xo = t * cols;
                    for (int c = 0; c < cols; c++) s += x[xo + c] * w[c];
                    y[t * rows + r] = s;
                }
            }
        });
    }

    /** Scalar reference input gradient, parallel over column ranges. */
    public void matmulTransposedScalar(float[] dy, float[] dx, int T) {
        Parallel.forRange(cols, 64, (start, end) -> {
            float[] w = new float[end - start];
            for (int r = 0; r < rows; r++) {
                dequantize(r, start, end - start, w, 0);
                for (int t = 0; t < T; t++) {
                    float d = dy[t * rows + r];
                    if (d == 0f) continue;
                    int o = t * cols + start;
                    for (int c = 0; c < w.length; c++) dx[o + c] += d * w[c];
                }
            }
        });
    }

    /** Fills rows r0.. of the scratch (ROW_GROUP x tile) with W[r0+i, c0, c0+len); missing rows are 0. */
    private void loadGroup(int r0, int nr, int c0, int len, float[] w) {
        for (int i = 0; i < ROW_GROUP; i++) {
            if (i < nr) dequantizeTile(r0 + i, c0, len, w, i * tile);
            else Arrays.fill(w, i * tile, i * tile + len, 0f);
        }
    }

    public void matmulVector(float[] x, float[] y, int T) {
        if (Gemm.ENABLED && T >= Gemm.PREFILL_TOKENS) {   // prefill: the packed-panel GEMM
            Gemm.panelMatmul(this, x, y, T);
            return;
        }
        int groups = (rows + ROW_GROUP - 1) / ROW_GROUP;
        Parallel.forRange(groups, Parallel.minChunk(1, (long) ROW_GROUP * cols * T), (g0, g1) -> {
            float[] w = new float[ROW_GROUP * tile];
            for (int g = g0; g < g1; g++) {
                int r0 = g * ROW_GROUP, nr = Math.min(ROW_GROUP, rows - r0);
                for (int t = 0; t < T; t++) Arrays.fill(y, t * rows + r0, t * rows + r0 + nr, 0f);
                for (int c0 = 0; c0 < cols; c0 += tile) {
                    int len = Math.min(tile, cols - c0);
                    loadGroup(r0, nr, c0, len, w);
                    dotTile(x, y, T, w, tile, c0, len, cols, rows, r0, nr);
                }
            }
        });
    }

    /**
     * y[t, r0+i] += sum_k w[i*ws + k] * x[t*cols + c0 + k] for k &lt; len, i &lt; nr: the 4-row x 2-token
     * register tile. Each weight vector loaded from scratch serves two tokens, each x vector four rows.
     */
    static void dotTile(float[] x, float[] y, int T, float[] w, int ws, int c0, int len, int cols, int rows, int r0, int nr) {
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
            float[] sa = {Dot.hsum(a0), Dot.hsum(a1),
                    Dot.hsum(a2), Dot.hsum(a3)};
            float[] sb = {Dot.hsum(b0), Dot.hsum(b1),
                    Dot.hsum(b2), Dot.hsum(b3)};
            for (int k = ub; k < len; k++) {
                float xv = x[xa + k], xw = x[xb + k];
                for (int i = 0; i < ROW_GROUP; i++) {
                    sa[i] += w[i * ws + k] * xv;
                    sb[i] += w[i * ws + k] * xw;
                }
            }
            for (int i = 0; i < nr; i++) {
                y[t * rows + r0 + i] += sa[i];
                y[(t + 1) * rows + r0 + i] += sb[i];
            }
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
            float[] sa = {Dot.hsum(a0), Dot.hsum(a1),
                    Dot.hsum(a2), Dot.hsum(a3)};
            for (int k = ub; k < len; k++) {
                float xv = x[xa + k];
                for (int i = 0; i < ROW_GROUP; i++) sa[i] += w[i * ws + k] * xv;
            }
            for (int i = 0; i < nr; i++) y[t * rows + r0 + i] += sa[i];
        }
    }

    public void matmulTransposedVector(float[] dy, float[] dx, int T) {
        int nTiles = (cols + tile - 1) / tile;
        int groups = (rows + ROW_GROUP - 1) / ROW_GROUP;
        Parallel.forRange(nTiles, Parallel.minChunk(1, (long) tile * rows * T), (ta, tb) -> {
            float[] w = new float[ROW_GROUP * tile];
            int L = F.length();
            for (int ti = ta; ti < tb; ti++) {
                int c0 = ti * tile, len = Math.min(tile, cols - c0);
                int ub = F.loopBound(len);
                for (int g = 0; g < groups; g++) {
                    int r0 = g * ROW_GROUP, nr = Math.min(ROW_GROUP, rows - r0);
                    loadGroup(r0, nr, c0, len, w);
                    for (int t = 0; t < T; t++) {
                        int yo = t * rows + r0;
                        float d0 = dy[yo], d1 = nr > 1 ? dy[yo + 1] : 0f, d2 = nr > 2 ? dy[yo + 2] : 0f, d3 = nr > 3 ? dy[yo + 3] : 0f;
                        if (d0 == 0f && d1 == 0f && d2 == 0f && d3 == 0f) continue;
                        FloatVector v0 = FloatVector.broadcast(F, d0), v1 = FloatVector.broadcast(F, d1);
                        FloatVector v2 = FloatVector.broadcast(F, d2), v3 = FloatVector.broadcast(F, d3);
                        int o = t * cols + c0;
                        for (int k = 0; k < ub; k += L) {
                            FloatVector acc = FloatVector.fromArray(F, dx, o + k);
                            acc = FloatVector.fromArray(F, w, k).fma(v0, acc);
                            acc = FloatVector.fromArray(F, w, tile + k).fma(v1, acc);
                            acc = FloatVector.fromArray(F, w, 2 * tile + k).fma(v2, acc);
                            acc = FloatVector.fromArray(F, w, 3 * tile + k).fma(v3, acc);
                            acc.intoArray(dx, o + k);
                        }
                        for (int k = ub; k < len; k++) {
                            dx[o + k] += d0 * w[k] + d1 * w[tile + k] + d2 * w[2 * tile + k] + d3 * w[3 * tile + k];
                        }
                    }
                }
            }
        });
    }
}
