package org.finlora.kernel;

/**
 * Base of the ggml block formats (q8_0, q4_0) whose decode (T = 1) follows ggml's CPU dot products:
 * x is quantized once per call to int8 blocks ({@link ActivationQ8}), then each row is an integer
 * dot per block scaled by d_w · d_x. Prefill (T >= 2) and dequantization keep f32 activations
 * ({@link RowMatrix}). A format supplies the row dot (its scalar reference) and the vector decode of
 * a row range.
 */
abstract class Int8ActivationDecode extends RowMatrix {
    protected Int8ActivationDecode(int rows, int cols, Simd simd) {
        super(rows, cols, simd);
    }

    /** Row r · the int8 activations a, scalar reference (ggml_vec_dot_q8_0_q8_0 / _q4_0_q8_0). */
    abstract float dotReference(int r, ActivationQ8 a);

    /** y[r] = row r · a for r in [r0, r1), through the Vector API kernel. */
    abstract void decodeRows(ActivationQ8 a, float[] y, int r0, int r1);

    @Override
    protected final void decodeRows(float[] x, float[] y, int r0, int r1) {
        ActivationQ8 a = ActivationQ8.forThread(cols);
        a.quantize(x, 0, cols, simd);
        decodeRows(a, y, r0, r1);
    }

    @Override
    protected final void decodeRowsReference(float[] x, float[] y, int r0, int r1) {
        ActivationQ8 a = ActivationQ8.forThread(cols);
        a.quantize(x, 0, cols, Simd.SCALAR);
        for (int r = r0; r < r1; r++) y[r] = dotReference(r, a);
    }
}
