package org.finlora.kernel;

import org.finlora.tensor.WeightMatrix;

import java.util.Arrays;

/**
 * The contract of every weight format the kernels run (f32, bf16, f16, q8_0, q4_0, nf4, fp4, int8,
 * int8-block, rtnK, ...), and the kernels they share. A format supplies how to decode a span of one
 * row (a scalar reference and, where it has one, a vector version giving the same values); optionally
 * a fused row dot for decode, a decode of the GEMM's strips, and its own decode of a row range (the
 * int8-activation formats). Everything else is here, at the width of the matrix's {@link Simd}:
 * <ul>
 *   <li>T = 1 (decode): {@link #decodeRows}, rows split across threads;</li>
 *   <li>2 &lt;= T &lt; {@link #gemmTokens()}: 4-row groups decoded in column tiles into an L1-sized
 *   scratch and reused by every token through the 4-row × 2-token register tile ({@link Dot#rowTile});</li>
 *   <li>more tokens: the packed-panel GEMM ({@link Gemm});</li>
 *   <li>input gradient dx += dy·W: panels of W decoded into per-thread scratch and run through
 *   4-token register tiles ({@link Dot#panelTransposedVector}); from {@link Gemm#MIN_TOKENS} tokens, the GEMM.</li>
 * </ul>
 * With {@link Simd#SCALAR} every product runs its scalar reference ({@link #matmulReference},
 * {@link #matmulTransposedReference}), which tests also call directly on a matrix of any width.
 */
public abstract class RowMatrix extends WeightMatrix {
    /** Rows of the small-T forward's register tile. */
    static final int ROW_GROUP = 4;
    /** Columns of one decoded scratch tile of the small-T forward: 4 rows × 512 floats = 8 KiB, L1-resident. */
    static final int COL_TILE = 512;
    /** Weight rows per transposed panel of the input gradient. */
    static final int BACK_ROWS = 128;
    /** Columns per transposed panel: 128 × 256 floats = 128 KiB, L2-resident. */
    static final int BACK_COLS = 256;

    /** The width this matrix's kernels (and its layout, where that depends on the width) were built for. */
    protected final Simd simd;

    protected RowMatrix(int rows, int cols, Simd simd) {
        super(rows, cols);
        this.simd = simd;
    }

    public final Simd simd() {
        return simd;
    }

    // ---- what a format supplies ----

    /** Scalar reference: W[r, c0 .. c0 + n) to out[off ..]; c0 is a multiple of {@link #blockAlign()}, as is n unless c0 + n == cols. */
    protected abstract void decodeReference(int r, int c0, int n, float[] out, int off);

    /** The same values as {@link #decodeReference}, through the format's vector decode where it has one. */
    protected void decode(int r, int c0, int n, float[] out, int off) {
        decodeReference(r, c0, n, out, off);
    }

    /** Column granularity of decode ranges (the block size of block formats). */
    protected int blockAlign() {
        return 1;
    }

    /** Row r · x[0, cols) through the vector kernels, for the default {@link #decodeRows}: decode the row, then a vector dot. */
    protected float rowDot(int r, float[] x) {
        float[] w = scratch(cols);
        decode(r, 0, cols, w, 0);
        return Dot.dotVector(simd, w, 0, x, 0, cols);
    }

    /** Scalar reference of {@link #rowDot}, for the default {@link #decodeRowsReference}. */
    protected float rowDotReference(int r, float[] x) {
        float[] w = scratch(cols);
        decodeReference(r, 0, cols, w, 0);
        return Dot.dotScalar(w, 0, x, 0, cols);
    }

    /** Decode: y[r] = W[r]·x for r in [r0, r1), on the calling thread (vector path). */
    protected void decodeRows(float[] x, float[] y, int r0, int r1) {
        for (int r = r0; r < r1; r++) y[r] = rowDot(r, x);
    }

    /** Scalar reference of {@link #decodeRows}. */
    protected void decodeRowsReference(float[] x, float[] y, int r0, int r1) {
        for (int r = r0; r < r1; r++) y[r] = rowDotReference(r, x);
    }

    /**
     * The GEMM's panel of rows r0 .. r0 + NR - 1 (NR = 2 · float lanes; every column; W[r0 + j, k] at
     * out[off + NR·k + j]), for formats whose layout holds such strips together. False: the GEMM decodes
     * row by row.
     */
    protected boolean decodeStrip(int r0, float[] out, int off) {
        return false;
    }

    /**
     * From how many tokens (T >= 2) the forward runs the packed-panel GEMM rather than the row tiles:
     * Gemm.PREFILL_TOKENS, where the tiles stop being faster for formats that decode rows cheaply; a
     * format whose rows are costly to take apart can ask for it sooner.
     */
    public int gemmTokens() {
        return Gemm.PREFILL_TOKENS;
    }

    // ---- the shared kernels ----

    /** Whether the forward of T tokens runs the packed-panel GEMM (see {@link #gemmTokens}). */
    boolean usesGemm(int T) {
        return simd.vector() && T >= 2 && T >= gemmTokens();
    }

    @Override
    public void dequantizeRow(int r, float[] out, int off) {
        if (simd.vector()) decode(r, 0, cols, out, off);
        else decodeReference(r, 0, cols, out, off);
    }

    @Override
    public void matmul(float[] x, float[] y, int T) {
        checkSizes(x, y, T, "x", "y");
        if (!simd.vector()) {
            matmulReference(x, y, T);
            return;
        }
        if (usesGemm(T)) {
            Gemm.panelMatmul(this, x, y, T);
            return;
        }
        Parallel.forRange(rows, Parallel.minChunk(T == 1 ? 64 : ROW_GROUP, (long) cols * T), (r0, r1) -> matmulRows(x, y, T, r0, r1));
    }

    /**
     * y[t, r] for rows r in [r0, r1) only, on the calling thread, vector path: T = 1 through
     * {@link #decodeRows}, else 4-row groups in column tiles ({@link #matmul} sends T >= gemmTokens to the GEMM).
     */
    void matmulRows(float[] x, float[] y, int T, int r0, int r1) {
        if (T == 1) {
            decodeRows(x, y, r0, r1);
            return;
        }
        int tile = Math.min(COL_TILE, cols);
        float[] w = scratch(ROW_GROUP * tile);
        for (int g = r0; g < r1; g += ROW_GROUP) {
            int nr = Math.min(ROW_GROUP, r1 - g);
            for (int t = 0; t < T; t++) Arrays.fill(y, t * rows + g, t * rows + g + nr, 0f);
            for (int c0 = 0; c0 < cols; c0 += tile) {
                int len = Math.min(tile, cols - c0);
                for (int i = 0; i < ROW_GROUP; i++) {
                    if (i < nr) decode(g + i, c0, len, w, i * tile);
                    else Arrays.fill(w, i * tile, i * tile + len, 0f);
                }
                Dot.rowTile(simd, x, y, T, w, tile, c0, len, cols, rows, g, nr);
            }
        }
    }

    /** Scalar reference forward: T = 1 through {@link #decodeRowsReference}, else each row decoded once and dotted with every token. */
    public void matmulReference(float[] x, float[] y, int T) {
        checkSizes(x, y, T, "x", "y");
        if (T == 1) {
            Parallel.forRange(rows, Parallel.minChunk(16, cols), (r0, r1) -> decodeRowsReference(x, y, r0, r1));
            return;
        }
        Parallel.forRange(rows, Parallel.minChunk(1, (long) cols * T), (r0, r1) -> {
            float[] w = new float[cols];
            for (int r = r0; r < r1; r++) {
                decodeReference(r, 0, cols, w, 0);
                for (int t = 0; t < T; t++) y[t * rows + r] = Dot.dotScalar(w, 0, x, t * cols, cols);
            }
        });
    }

    /**
     * Input gradient. Each task owns a contiguous column range of dx (no write sharing, no atomics);
     * within it, a panel of BACK_ROWS weight rows × BACK_COLS columns is decoded once into per-thread
     * scratch and reused by every token through the 4-token register tiles of {@link Dot#panelTransposedVector}.
     */
    @Override
    public void matmulTransposed(float[] dy, float[] dx, int T) {
        checkSizes(dx, dy, T, "dx", "dy");
        if (T == 0) return;
        if (!simd.vector()) {
            transposedPanels(dy, dx, T, false);
            return;
        }
        if (T >= Gemm.MIN_TOKENS) {
            Gemm.panelMatmulTransposed(this, dy, dx, T);
            return;
        }
        transposedPanels(dy, dx, T, true);
    }

    /** Scalar reference of the input gradient: the same panels, each element's fused multiply-adds in row order. */
    public void matmulTransposedReference(float[] dy, float[] dx, int T) {
        checkSizes(dx, dy, T, "dx", "dy");
        if (T > 0) transposedPanels(dy, dx, T, false);
    }

    private void transposedPanels(float[] dy, float[] dx, int T, boolean vector) {
        int align = blockAlign();
        int nBlocks = (cols + align - 1) / align;
        int nc = Math.max(align, BACK_COLS / align * align);
        Parallel.forRange(nBlocks, Parallel.minChunk(Math.max(1, 64 / align), (long) align * rows * T), (b0, b1) -> {
            int cStart = b0 * align, cEnd = Math.min(cols, b1 * align);
            float[] p = scratch(BACK_ROWS * Math.min(nc, cEnd - cStart));
            for (int c0 = cStart; c0 < cEnd; c0 += nc) {
                int n = Math.min(nc, cEnd - c0);
                for (int k0 = 0; k0 < rows; k0 += BACK_ROWS) {
                    int nk = Math.min(BACK_ROWS, rows - k0);
                    for (int i = 0; i < nk; i++) {
                        if (vector) decode(k0 + i, c0, n, p, i * n);
                        else decodeReference(k0 + i, c0, n, p, i * n);
                    }
                    if (vector) Dot.panelTransposedVector(simd, p, 0, nk, n, dy, k0, rows, T, dx, c0, cols);
                    else Dot.panelTransposedScalar(p, nk, n, dy, k0, rows, T, dx, c0, cols);
                }
            }
        });
    }

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[1][0]);

    /** This thread's scratch of at least n floats, reused across calls (kernels never nest). */
    static float[] scratch(int n) {
        float[][] h = SCRATCH.get();
        if (h[0].length < n) h[0] = new float[n];
        return h[0];
    }

    void checkSizes(float[] in, float[] out, int T, String inName, String outName) {
        if (T < 0 || (long) T * cols > in.length || (long) T * rows > out.length) {
            throw new IllegalArgumentException(format() + " [" + rows + ", " + cols + "] x " + T + " tokens: " + inName + " has "
                    + in.length + " floats, " + outName + " has " + out.length);
        }
    }
}
