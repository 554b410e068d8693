package org.finlora.kernel;

/**
 * Base of the ggml block formats (q8_0, q4_0) whose decode (T = 1) follows ggml's CPU dot products:
 * x is quantized once per call to int8 blocks ({@link ActivationQ8}), then each row is an integer
 * dot per block scaled by d_w · d_x. Prefill (T >= 2) and dequantization keep f32 activations
 * ({@link RowMatrix}). A format supplies the row dot and a two-row version of it.
 */
abstract class Int8ActivationDecode extends RowMatrix {
    protected Int8ActivationDecode(int rows, int cols) {
        super(rows, cols);
    }

    /** Row r · the int8 activations a (ggml_vec_dot_q8_0_q8_0 / _q4_0_q8_0); vector: Vector API, else the scalar reference. */
    abstract float dot(int r, ActivationQ8 a, boolean vector);

    /** y[r] and y[r2] = rows r and r2 · a together (Vector API), sharing each block's activation loads. */
    abstract void dotPair(int r, int r2, ActivationQ8 a, float[] y);

    @Override
    public void matmulRows(float[] x, float[] y, int T, int r0, int r1, boolean vector) {
        if (T != 1) {
            super.matmulRows(x, y, T, r0, r1, vector);
            return;
        }
        ActivationQ8 a = ActivationQ8.forThread(cols);
        a.quantize(x, 0, cols);
        int r = r0;
        if (vector) {   // pair row i of the first half with row i of the second: two long sequential streams
            int half = (r1 - r0) / 2;
            for (; r < r0 + half; r++) dotPair(r, r + half, a, y);
            r += half;
        }
        for (; r < r1; r++) y[r] = dot(r, a, vector);
    }

    /** The decode dot of row r with x[xOff, xOff + cols) (int8 activations, as {@link #matmulRows}). */
    @Override
    protected float dot(int r, float[] x, int xOff, boolean vector) {
        ActivationQ8 a = ActivationQ8.forThread(cols);
        a.quantize(x, xOff, cols);
        return dot(r, a, vector);
    }
}
