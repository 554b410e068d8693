package org.finlora.quant;

import java.util.Arrays;

/**
 * bitsandbytes' dynamic 8-bit maps (create_dynamic_map, 7 exponent bits) and blockwise 8-bit
 * quantization with them (used for the nested absmax of double quantization).
 *
 * <p>Map: for i = 0..6, fp32 linspace(0.1, 1, k+1) with k = 2^i (signed) or 2^(i+1) (unsigned);
 * the pairwise means (b[j]+b[j+1])/2 in f32, multiplied by f32(10^(i-6)) in f32, with both signs when
 * signed; then 0 and 1.0; sorted. linspace follows torch's scalar CPU rule (step = (end-start)/(n-1)
 * in f32; first half start+step*i, second half end-step*(n-1-i)). torch's vectorized CPU kernel
 * computes some entries with FMA and per-lane arange, so the map it builds can differ from this one
 * in the last bit of some entries, depending on the CPU. A checkpoint carries its own map
 * ({@code nested_quant_map}); pass that map to the functions here to reproduce it exactly.
 */
public final class DynamicMap {
    private DynamicMap() {
    }

    private static final double[] POWERS_OF_TEN = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0};
    private static final float[] SIGNED = create(true);
    private static final float[] UNSIGNED = create(false);

    /** The signed map (256 values, dyn[0] = -0.99296875, dyn[127] = 0, dyn[255] = 1). A copy. */
    public static float[] signed() {
        return SIGNED.clone();
    }

    /** The unsigned map (0, 254 positive values, 1.0). A copy. */
    public static float[] unsigned() {
        return UNSIGNED.clone();
    }

    /** torch.linspace(start, end, steps) in float32 by torch's scalar CPU rule. */
    public static float[] linspace(float start, float end, int steps) {
        float[] out = new float[steps];
        if (steps == 1) {
            out[0] = start;
            return out;
        }
        float step = (end - start) / (float) (steps - 1);
        int halfway = steps / 2;
        for (int i = 0; i < steps; i++) {
            out[i] = i < halfway ? start + step * (float) i : end - step * (float) (steps - 1 - i);
        }
        return out;
    }

    static float[] create(boolean signed) {
        float[] data = new float[256];
        int n = 0;
        for (int i = 0; i < 7; i++) {
            int items = signed ? (1 << i) + 1 : (1 << (i + 1)) + 1;
            float[] b = linspace(0.1f, 1f, items);
            float scale = (float) POWERS_OF_TEN[i];   // the Python float 10**(i-6), cast to f32 by torch
            for (int j = 0; j + 1 < items; j++) {
                float mean = (b[j] + b[j + 1]) / 2f;
                data[n++] = scale * mean;
                if (signed) data[n++] = -scale * mean;
            }
        }
        data[n++] = 0f;
        data[n++] = 1f;
        if (n != 256) throw new IllegalStateException("dynamic map has " + n + " values");
        Arrays.sort(data);
        return data;
    }

    /**
     * The index of the code nearest to x in a sorted map; an exact tie goes to the lower index (the
     * default backend's argmin of |x - code|, evaluated in f32). NaN gives 0, as both backends do.
     */
    public static int nearest(float[] code, float x) {
        if (Float.isNaN(x)) return 0;
        int lo = 0, hi = code.length - 1;
        if (x <= code[0]) return 0;
        if (x >= code[hi]) return hi;
        while (hi - lo > 1) {            // invariant: code[lo] < x < code[hi] (or equal at lo)
            int mid = (lo + hi) >>> 1;
            if (code[mid] <= x) lo = mid;
            else hi = mid;
        }
        float dLo = Math.abs(x - code[lo]);
        float dHi = Math.abs(x - code[hi]);
        return dHi < dLo ? hi : lo;
    }

    /** uint8 codes and one f32 absmax per block. */
    public record Blockwise(byte[] codes, float[] absmax, int blocksize) {
    }

    /** bnb quantize_blockwise: per block absmax, x * (1/absmax) clamped to [-1, 1], nearest code. */
    public static Blockwise quantizeBlockwise(float[] x, float[] code, int blocksize) {
        int nb = (x.length + blocksize - 1) / blocksize;
        byte[] q = new byte[x.length];
        float[] absmax = new float[nb];
        for (int b = 0; b < nb; b++) {
            int off = b * blocksize, end = Math.min(x.length, off + blocksize);
            float m = 0f;
            for (int i = off; i < end; i++) m = Math.max(m, Math.abs(x[i]));
            absmax[b] = m;
            float inv = 1f / m;
            for (int i = off; i < end; i++) {
                float s = x[i] * inv;
                if (s > 1f) s = 1f;
                if (s < -1f) s = -1f;
                q[i] = (byte) nearest(code, s);
            }
        }
        return new Blockwise(q, absmax, blocksize);
    }

    /** code[q] * absmax[i / blocksize] in f32. */
    public static float[] dequantizeBlockwise(Blockwise b, float[] code) {
        float[] out = new float[b.codes().length];
        for (int i = 0; i < out.length; i++) out[i] = code[b.codes()[i] & 0xFF] * b.absmax()[i / b.blocksize()];
        return out;
    }
}
