package org.finlora.quant;

/**
 * Symmetric blockwise int8 ("int8-block"): blocks of {@code blocksize} over the flattened row-major
 * tensor (as bnb's blockwise formats), absmax per block in f32, q = rint(x * (127 / absmax)) in
 * [-127, 127], w = q * (absmax / 127). An all-zero block stores q = 0. No outlier handling.
 */
public final class Int8Blockwise {
    public static final int DEFAULT_BLOCKSIZE = 64;

    private Int8Blockwise() {
    }

    /** Quantizes x[off, off+len) into q[qOff..]; returns the block absmax. */
    public static float quantizeBlock(float[] x, int off, int len, byte[] q, int qOff) {
        float absmax = 0f;
        for (int i = 0; i < len; i++) absmax = Math.max(absmax, Math.abs(x[off + i]));
        float mul = 127f / absmax;
        for (int i = 0; i < len; i++) q[qOff + i] = absmax == 0f ? 0 : (byte) Math.rint(x[off + i] * mul);
        return absmax;
    }

    /** The per-block dequantization scale. */
    public static float scale(float absmax) {
        return absmax / 127f;
    }
}
