package org.finlora.lora;

import org.finlora.kernel.Parallel;
import org.finlora.tensor.WeightMatrix;

import java.lang.foreign.MemorySegment;

/**
 * A frozen base weight with a LoRA adapter on top, for inference: W' = W + s·B·A, computed as
 * y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ (rank-r products in the cheap order; ΔW is never materialized). Several
 * adapters can wrap the same base matrix at once: the base bytes are shared.
 */
public final class LoraWeightMatrix extends WeightMatrix {
    public final WeightMatrix base;
    private final float[] a;      // [r, cols]
    private final float[] b;      // [rows, r]
    private final int r;
    private final float scale;

    public LoraWeightMatrix(WeightMatrix base, float[] a, float[] b, int rank, float scale) {
        super(base.rows, base.cols);
        if (a.length != rank * base.cols || b.length != base.rows * rank) {
            throw new IllegalArgumentException("LoRA A/B sizes " + a.length + "/" + b.length + " do not fit a ["
                    + base.rows + ", " + base.cols + "] weight at rank " + rank);
        }
        this.base = base;
        this.a = a;
        this.b = b;
        this.r = rank;
        this.scale = scale;
    }

    @Override
    public String format() {
        return base.format() + "+lora";
    }

    @Override
    public MemorySegment storage() {
        return base.storage();
    }

    @Override
    public long byteSize() {
        return base.byteSize() + 4L * (a.length + b.length);
    }

    @Override
    public void matmul(float[] x, float[] y, int T) {
        base.matmul(x, y, T);
        float[] xa = new float[T * r];
        Parallel.forRange(T, 1, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int xo = t * cols;
                for (int k = 0; k < r; k++) {
                    float s = 0;
                    int ao = k * cols;
                    for (int c = 0; c < cols; c++) s += x[xo + c] * a[ao + c];
                    xa[t * r + k] = s * scale;
                }
                int yo = t * rows;
                for (int o = 0; o < rows; o++) {
                    float s = 0;
                    for (int k = 0; k < r; k++) s += xa[t * r + k] * b[o * r + k];
                    y[yo + o] += s;
                }
            }
        });
    }

    @Override
    public void matmulTransposed(float[] dy, float[] dx, int T) {
        base.matmulTransposed(dy, dx, T);
        Parallel.forRange(T, 1, (t0, t1) -> {
            float[] dyb = new float[r];
            for (int t = t0; t < t1; t++) {
                java.util.Arrays.fill(dyb, 0f);
                int yo = t * rows;
                for (int o = 0; o < rows; o++) {
                    float g = dy[yo + o];
                    for (int k = 0; k < r; k++) dyb[k] += g * b[o * r + k];
                }
                int xo = t * cols;
                for (int k = 0; k < r; k++) {
                    float g = dyb[k] * scale;
                    int ao = k * cols;
                    for (int c = 0; c < cols; c++) dx[xo + c] += g * a[ao + c];
                }
            }
        });
    }

    @Override
    public void dequantizeRow(int row, float[] out, int off) {
        base.dequantizeRow(row, out, off);
        for (int k = 0; k < r; k++) {
            float g = scale * b[row * r + k];
            int ao = k * cols;
            for (int c = 0; c < cols; c++) out[off + c] += g * a[ao + c];
        }
    }
}
