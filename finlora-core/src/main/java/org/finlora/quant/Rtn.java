package org.finlora.quant;

/**
 * Round-to-nearest k-bit asymmetric quantization (the RTN baseline of low-bit studies), per group of
 * {@code groupSize} consecutive weights within a row (the last group of a row may be shorter).
 *
 * <p>Formula, following the GPTQ reference quantizer (IST-DASLab/gptq, quant.py: find_params with
 * sym=False, and quantize), all in f32 with round half to even (torch.round):
 * xmin = min(min(x), 0), xmax = max(max(x), 0); if both are 0 then xmin = -1, xmax = +1;
 * maxq = 2^k - 1; scale = (xmax - xmin) / maxq; zero = round(-xmin / scale);
 * q = clamp(round(x / scale) + zero, 0, maxq); dequantized w = scale * (q - zero).
 */
public final class Rtn {
    public static final int DEFAULT_GROUP_SIZE = 128;

    private Rtn() {
    }

    public static void checkBits(int bits, String what) {
        if (bits < 2 || bits > 8) throw new org.finlora.FinloraException(what + ": rtn bits " + bits + " outside 2..8");
    }

    /**
     * Quantizes x[off, off+len) into q[qOff..] (one unsigned code per byte) and returns {scale, zero}
     * (zero is an integer in [0, 2^k - 1] stored as float).
     */
    public static float[] quantizeGroup(float[] x, int off, int len, int bits, byte[] q, int qOff) {
        float maxq = (1 << bits) - 1;
        float xmin = 0f, xmax = 0f;
        for (int i = 0; i < len; i++) {
            xmin = Math.min(xmin, x[off + i]);
            xmax = Math.max(xmax, x[off + i]);
        }
        if (xmin == 0f && xmax == 0f) {
            xmin = -1f;
            xmax = 1f;
        }
        float scale = (xmax - xmin) / maxq;
        float zero = (float) Math.rint(-xmin / scale) + 0f;   // + 0 turns torch's -0.0 zero point into 0.0
        for (int i = 0; i < len; i++) {
            float v = (float) Math.rint(x[off + i] / scale) + zero;
            q[qOff + i] = (byte) (int) Math.max(0f, Math.min(maxq, v));
        }
        return new float[]{scale, zero};
    }

    public static float dequantize(int q, float scale, float zero) {
        return scale * ((float) q - zero);
    }
}
