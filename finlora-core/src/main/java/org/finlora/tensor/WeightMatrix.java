package org.finlora.tensor;

import java.lang.foreign.MemorySegment;

/**
 * A frozen 2-D weight W of shape [rows = out, cols = in] in some storage format (f32, bf16, Q4_0,
 * NF4, ...). The kernels that use it dequantize inside their tiles and never materialize W whole.
 * Activations are flat row-major float arrays: x is [T, cols], y is [T, rows].
 */
public abstract class WeightMatrix {
    public final int rows;
    public final int cols;

    protected WeightMatrix(int rows, int cols) {
        this.rows = rows;
        this.cols = cols;
    }

    /** A short name of the storage format, e.g. "f32", "q4_0", "nf4". */
    public abstract String format();

    /** Bytes this weight occupies, including its scales. */
    public abstract long byteSize();

    /**
     * The memory holding the weight's codes, the bulk of what one decode step streams through this
     * matrix (small on-heap scale arrays aside): bench generate reads it to measure the bandwidth limit.
     */
    public abstract MemorySegment storage();

    /** Forward: y[t, r] = sum_c x[t, c] * W[r, c] for t in [0, T). Overwrites y. */
    public abstract void matmul(float[] x, float[] y, int T);

    /** Input gradient: dx[t, c] += sum_r dy[t, r] * W[r, c] for t in [0, T). Accumulates into dx. */
    public abstract void matmulTransposed(float[] dy, float[] dx, int T);

    /** Writes row r of W, dequantized, to out[off, off + cols). */
    public abstract void dequantizeRow(int r, float[] out, int off);
}
