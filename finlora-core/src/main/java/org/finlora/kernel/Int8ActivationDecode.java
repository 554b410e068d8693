package org.finlora.kernel;

/**
 * Base of the ggml block formats (q8_0, q4_0) whose decode (T = 1) follows ggml's CPU dot products:
 * x is quantized once per call to int8 blocks ({@link ActivationQ8}), then each row is an integer
 * dot per block scaled by d_w · d_x. Prefill (T >= 2) and dequantization keep f32 activations
 * ({@link RowMatrix}). A format supplies the row dot (its scalar reference) and the decode of a row range.
 */
abstract class Int8ActivationDecode extends RowMatrix {
    protected Int8ActivationDecode(int rows, int cols) {
        super(rows, cols);
    }

    /** Row r · the int8 activations a (ggml_vec_dot_q8_0_q8_0 / _q4_0_q8_0); vector: Vector API, else the scalar reference. */
    abstract float dot(int r, ActivationQ8 a, boolean vector);

    /** y[r] = row r · a for r in [r0, r1); vector: the Vector API kernel, else the row dots' scalar reference. */
    abstract void decodeRows(ActivationQ8 a, float[] y, int r0, int r1, boolean vector);

    @Override
    public void matmulRows(float[] x, float[] y, int T, int r0, int r1, boolean vector) {
        if (T != 1) {
            super.matmulRows(x, y, T, r0, r1, vector);
            return;
        }
        ActivationQ8 a = ActivationQ8.forThread(cols);
        a.quantize(x, 0, cols);
        decodeRows(a, y, r0, r1, vector);
    }

    /** The decode dot of row r with x[xOff, xOff + cols) (int8 activations, as {@link #matmulRows}). */
    @Override
    protected float dot(int r, float[] x, int xOff, boolean vector) {
        ActivationQ8 a = ActivationQ8.forThread(cols);
        a.quantize(x, xOff, cols);
        return dot(r, a, vector);
    }
}
