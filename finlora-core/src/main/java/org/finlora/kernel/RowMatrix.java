package org.finlora.kernel;

import org.finlora.tensor.WeightMatrix;

/**
 * Base of the weight formats whose rows can be dequantized independently (f32, f16, bf16, Q8_0, Q4_0,
 * and any block format that plugs in). A format supplies two kernels, each with a Vector API path and
 * a scalar reference: a fused row·x dot for decode (T = 1, streams the weight once, no scratch) and
 * a row-range dequantization. Prefill (T > 1) dequantizes a block of rows into L2-resident scratch
 * once and reuses each weight vector across 4 token rows held in accumulators.
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
        Parallel.forRange(rows, T == 1 ? 64 : ROW_BLOCK, (r0, r1) -> matmulRows(x, y, T, r0, r1, vector));
    }

    /**
     * y[t, r] for rows r in [r0, r1) only, on the calling thread: T = 1 streams each row once through
     * the fused dot; T > 1 dequantizes blocks of rows into scratch and tiles them over tokens.
     */
    public void matmulRows(float[] x, float[] y, int T, int r0, int r1, boolean vector) {
        if (T == 1) {
            for (int r = r0; r < r1; r++) y[r] = dot(r, x, 0, vector);
            return;
        }
        float[] w = new float[ROW_BLOCK * cols];
        for (int rb = r0; rb < r1; rb += ROW_BLOCK) {
            int nr = Math.min(ROW_BLOCK, r1 - rb);
            for (int i = 0; i < nr; i++) dequantize(rb + i, 0, cols, w, i * cols, vector);
            if (vector) Dot.tileVector(w, nr, x, T, cols, y, rows, rb);
            else Dot.tileScalar(w, nr, x, T, cols, y, rows, rb);
        }
    }

    /** {@link #matmulTransposed(float[], float[], int)} with the kernel path chosen explicitly. */
    public void matmulTransposed(float[] dy, float[] dx, int T, boolean vector) {
        checkSizes(dx, dy, T, "dx", "dy");
        int align = blockAlign();
        int nBlocks = (cols + align - 1) / align;
        // Each task owns a column range of dx (no write sharing) and streams every row of W once.
        Parallel.forRange(nBlocks, Math.max(1, 128 / align), (b0, b1) -> {
            int c0 = b0 * align, n = Math.min(cols, b1 * align) - c0;
            float[] w = new float[ROW_BLOCK * n];
            for (int rb = 0; rb < rows; rb += ROW_BLOCK) {
                int nr = Math.min(ROW_BLOCK, rows - rb);
                for (int i = 0; i < nr; i++) dequantize(rb + i, c0, n, w, i * n, vector);
                for (int t = 0; t < T; t++) {
                    if (vector) Dot.accumulateRowsVector(w, nr, n, dy, t * rows + rb, dx, t * cols + c0);
                    else Dot.accumulateRowsScalar(w, nr, n, dy, t * rows + rb, dx, t * cols + c0);
                }
            }
        });
    }

    private void checkSizes(float[] in, float[] out, int T, String inName, String outName) {
        if (T < 0 || (long) T * cols > in.length || (long) T * rows > out.length) {
            throw new IllegalArgumentException(format() + " [" + rows + ", " + cols + "] x " + T + " tokens: " + inName + " has "
                    + in.length + " floats, " + outName + " has " + out.length);
        }
    }
}
