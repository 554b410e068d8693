package org.finlora.kernel;

import org.finlora.tensor.WeightMatrix;

/**
 * Base of the weight formats whose rows can be dequantized independently (f32, f16, bf16, Q8_0, Q4_0,
 * and any block format that plugs in). A format supplies two kernels, each with a Vector API path and
 * a scalar reference: a fused row·x dot for decode (T = 1, streams the weight once, no scratch) and
 * a row-range dequantization. Prefill with few tokens dequantizes a block of rows into scratch once and
 * reuses each weight vector across 4 token rows held in accumulators; prefill with many tokens and the
 * training backward (dx += dy·W) dequantize panels of W into per-thread scratch and run 4-token ×
 * 16-column outer-product register tiles over them (docs/performance.md).
 */
public abstract class RowMatrix extends WeightMatrix {
    /** Rows dequantized together into scratch by the tiled paths. */
    static final int ROW_BLOCK = 8;

    protected RowMatrix(int rows, int cols) {
        super(rows, cols);
    }

    /** Writes W[r, c0 .. c0 + n) to out[off ..]; c0 is a multiple of {@link #blockAlign()}, as is n unless c0 + n == cols. */
    protected abstract void dequantize(int r, int c0, int n, float[] out, int off, boolean vector);

    /** sum_c W[r, c] * x[xOff + c]. */
    protected abstract float dot(int r, float[] x, int xOff, boolean vector);

    /**
     * The prefill GEMM's panel of rows r0 .. r0 + 15 (every column; W[r0 + j, k] at out[off + 16k + j]), for
     * formats whose layout holds such strips together (Vector API path). False: the GEMM decodes row by row.
     */
    protected boolean decodeStrip(int r0, float[] out, int off) {
        return false;
    }

    /**
     * From how many tokens (T >= 2) the Vector API forward runs the packed-panel GEMM rather than
     * {@link #matmulRows}: Gemm.PREFILL_TOKENS, where the row path stops being faster for formats that
     * dequantize rows cheaply; a format whose rows are costly to take apart can ask for it sooner.
     */
    public int gemmTokens() {
        return Gemm.PREFILL_TOKENS;
    }

    /** Whether the Vector API forward of T tokens runs the packed-panel GEMM (see {@link #gemmTokens}). */
    boolean usesGemm(int T) {
        return Vectors.ENABLED && Gemm.ENABLED && T >= 2 && T >= gemmTokens();
    }

    /** Column granularity of {@link #dequantize} ranges (the block size of block formats). */
    protected int blockAlign() {
        return 1;
    }

    @Override
    public final void dequantizeRow(int r, float[] out, int off) {
        dequantize(r, 0, cols, out, off, Vectors.ENABLED);
    }

    @Override
    public final void matmul(float[] x, float[] y, int T) {
        matmul(x, y, T, Vectors.ENABLED);
    }

    @Override
    public final void matmulTransposed(float[] dy, float[] dx, int T) {
        matmulTransposed(dy, dx, T, Vectors.ENABLED);
    }

    /** {@link #matmul(float[], float[], int)} with the kernel path chosen explicitly (tests compare both). */
    public void matmul(float[] x, float[] y, int T, boolean vector) {
        checkSizes(x, y, T, "x", "y");
        if (vector && usesGemm(T)) {   // prefill: the packed-panel GEMM
            Gemm.panelMatmul(this, x, y, T);
            return;
        }
        Parallel.forRange(rows, Parallel.minChunk(T == 1 ? 64 : ROW_BLOCK, (long) cols * T), (r0, r1) -> matmulRows(x, y, T, r0, r1, vector));
    }

    /**
     * y[t, r] for rows r in [r0, r1) only, on the calling thread: T = 1 streams each row once through
     * the fused dot; T >= 2 dequantizes ROW_BLOCK whole rows into per-thread scratch and shares each
     * weight vector across 4 tokens ({@link #matmul} sends Gemm.PREFILL_TOKENS and more to the GEMM).
     */
    public void matmulRows(float[] x, float[] y, int T, int r0, int r1, boolean vector) {
        if (T == 1) {
            for (int r = r0; r < r1; r++) y[r] = dot(r, x, 0, vector);
            return;
        }
        if (!vector) {   // scalar reference: whole rows, one dot per (token, row)
            float[] w = scratch(cols);
            for (int r = r0; r < r1; r++) {
                dequantize(r, 0, cols, w, 0, false);
                Dot.tileScalar(w, 1, cols, x, 0, cols, T, y, rows, r, false);
            }
            return;
        }
        float[] w = scratch(ROW_BLOCK * cols);
        for (int rb = r0; rb < r1; rb += ROW_BLOCK) {
            int nr = Math.min(ROW_BLOCK, r1 - rb);
            for (int i = 0; i < nr; i++) dequantize(rb + i, 0, cols, w, i * cols, true);
            Dot.tileRowsVector(w, nr, x, T, cols, y, rows, rb);
        }
    }

    /**
     * {@link #matmulTransposed(float[], float[], int)} with the kernel path chosen explicitly. Each task
     * owns a contiguous column range of dx (no write sharing, no atomics); within it, a panel of
     * BACK_ROWS weight rows × BACK_COLS columns is dequantized once into per-thread scratch and reused by
     * every token through the 4-token register tiles of {@link Dot#panelTransposedVector}.
     */
    public void matmulTransposed(float[] dy, float[] dx, int T, boolean vector) {
        checkSizes(dx, dy, T, "dx", "dy");
        if (T == 0) return;
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
                    for (int i = 0; i < nk; i++) dequantize(k0 + i, c0, n, p, i * n, vector);
                    if (vector) Dot.panelTransposedVector(p, 0, nk, n, dy, k0, rows, T, dx, c0, cols);
                    else Dot.panelTransposedScalar(p, nk, n, dy, k0, rows, T, dx, c0, cols);
                }
            }
        });
    }

    /** Weight rows per transposed panel of the input gradient. */
    static final int BACK_ROWS = 128;
    /** Columns per transposed panel: 128 × 256 floats = 128 KiB, L2-resident. */
    static final int BACK_COLS = 256;

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[1][0]);

    /** This thread's scratch of at least n floats, reused across calls (kernels never nest). */
    static float[] scratch(int n) {
        float[][] h = SCRATCH.get();
        if (h[0].length < n) h[0] = new float[n];
        return h[0];
    }

    private void checkSizes(float[] in, float[] out, int T, String inName, String outName) {
        if (T < 0 || (long) T * cols > in.length || (long) T * rows > out.length) {
            throw new IllegalArgumentException(format() + " [" + rows + ", " + cols + "] x " + T + " tokens: " + inName + " has "
                    + in.length + " floats, " + outName + " has " + out.length);
        }
    }
}
