package org.finlora.train;

import org.finlora.tensor.WeightMatrix;

import java.lang.foreign.MemorySegment;

/** A plain f32 [rows, cols] weight for tests; the real kernels plug in through WeightMatrix. */
public final class DenseTestMatrix extends WeightMatrix {
    public final float[] w;

    public DenseTestMatrix(int rows, int cols, float[] w) {
        super(rows, cols);
        if (w.length != rows * cols) throw new IllegalArgumentException("size");
        this.w = w;
    }

    public static DenseTestMatrix random(int rows, int cols, java.util.Random rng, float scale) {
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) (rng.nextGaussian() * scale);
        return new DenseTestMatrix(rows, cols, w);
    }

    @Override
    public String format() {
        return "f32-test";
    }

    @Override
    public MemorySegment storage() {
        return MemorySegment.ofArray(w);
    }

    @Override
    public long byteSize() {
        return 4L * w.length;
    }

    @Override
    public void matmul(float[] x, float[] y, int T) {
        for (int t = 0; t < T; t++) {
            for (int r = 0; r < rows; r++) {
                float s = 0f;
                for (int c = 0; c < cols; c++) s += x[t * cols + c] * w[r * cols + c];
                y[t * rows + r] = s;
            }
        }
    }

    @Override
    public void matmulTransposed(float[] dy, float[] dx, int T) {
        for (int t = 0; t < T; t++) {
            for (int r = 0; r < rows; r++) {
                float d = dy[t * rows + r];
                for (int c = 0; c < cols; c++) dx[t * cols + c] += d * w[r * cols + c];
            }
        }
    }

    @Override
    public void dequantizeRow(int r, float[] out, int off) {
        System.arraycopy(w, r * cols, out, off, cols);
    }
}
