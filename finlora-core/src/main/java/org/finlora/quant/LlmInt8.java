package org.finlora.quant;

/**
 * LLM.int8() (bitsandbytes Linear8bitLt, has_fp16_weights=False): vector-wise int8 weights with
 * 16-bit outlier columns of the activations.
 *
 * <p>Weights: bnb casts the weight to fp16 before quantizing (Int8Params), so each value is first
 * rounded to fp16 here too. SCB[r] = max|W[r,:]| (f32); CB = rint(W * (127 / SCB[r])) as int8 (the
 * default backend's formula: 127/SCB in f32, then one multiply, then round half to even). A zero row
 * (SCB = 0) gets CB = 0.
 *
 * <p>Activations (per matmul): X is cast to fp16. Outlier columns are those with |x| &ge; threshold
 * in any row; outlier entries are left out of the row absmax and their columns get CA = 0.
 * CA = rint(x * (127 / rowmax)); a row whose absmax is 0 gets CA = 0.
 * Output: y = float(int32 dot(CA, CB)) * (rowmax * SCB) * 6.200124e-05 (the default backend's
 * constant for 1/127^2), plus X[:, outliers] @ (CB[:, outliers] * SCB / 127)^T in f32.
 */
public final class LlmInt8 {
    public static final float DEFAULT_THRESHOLD = 6.0f;
    /** 1/127^2 as bnb's default backend writes it (int8_mm_dequant). */
    public static final float MM_DEQUANT_SCALE = 6.200124e-05f;

    private LlmInt8() {
    }

    public static float toFp16(float x) {
        return Float.float16ToFloat(Float.floatToFloat16(x));
    }

    /** Quantizes one weight row w[off, off+len) (values already f32) to cb[cbOff..]; returns SCB. */
    public static float quantizeRow(float[] w, int off, int len, byte[] cb, int cbOff) {
        float scb = 0f;
        for (int i = 0; i < len; i++) scb = Math.max(scb, Math.abs(toFp16(w[off + i])));
        float mul = 127f / scb;
        for (int i = 0; i < len; i++) {
            cb[cbOff + i] = scb == 0f ? 0 : (byte) Math.rint(toFp16(w[off + i]) * mul);
        }
        return scb;
    }

    /** The dequantized weight value used for outlier columns and the input gradient: CB * (SCB / 127). */
    public static float rowScale(float scb) {
        return scb / 127f;
    }

    /**
     * Quantizes activations x[T, cols]: fills ca (integer values stored as float, 0 for outlier
     * columns), rowmax[T] and outlier[cols]; returns the number of outlier columns. threshold &le; 0
     * disables outlier handling.
     */
    public static int quantizeActivations(float[] x, int T, int cols, float threshold, float[] ca, float[] rowmax, boolean[] outlier) {
        int nOut = 0;
        java.util.Arrays.fill(outlier, 0, cols, false);
        if (threshold > 0f) {
            for (int t = 0; t < T; t++) {
                for (int c = 0; c < cols; c++) {
                    if (!outlier[c] && Math.abs(toFp16(x[t * cols + c])) >= threshold) {
                        outlier[c] = true;
                        nOut++;
                    }
                }
            }
        }
        for (int t = 0; t < T; t++) {
            float m = 0f;
            int base = t * cols;
            for (int c = 0; c < cols; c++) {
                float v = Math.abs(toFp16(x[base + c]));
                if (threshold > 0f && v >= threshold) continue;   // outlier entries are zeroed before the absmax
                m = Math.max(m, v);
            }
            rowmax[t] = m;
            float mul = 127f / m;
            for (int c = 0; c < cols; c++) {
                ca[base + c] = (outlier[c] || m == 0f) ? 0f : (float) Math.rint(toFp16(x[base + c]) * mul);
            }
        }
        return nOut;
    }
}
