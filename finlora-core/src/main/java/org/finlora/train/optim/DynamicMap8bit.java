package org.finlora.train.optim;

/**
 * bitsandbytes' dynamic 8-bit code books (create_dynamic_map, 7 exponent bits), built with a
 * float32 replica of torch.linspace. Signed: 127 positive means ×10^(i-6), their negatives, 0 and 1.
 * Unsigned: 254 positive values, 0 and 1. Private to the 8-bit optimizer until quant.DynamicMap lands.
 */
public final class DynamicMap8bit {
    public static final float[] SIGNED = build(true);
    public static final float[] UNSIGNED = build(false);

    private DynamicMap8bit() {
    }

    /** torch.linspace(start, end, steps) in float32: the first half steps up from start, the rest down from end. */
    static float[] linspace(float start, float end, int steps) {
        float[] out = new float[steps];
        float step = (end - start) / (steps - 1);
        int half = steps / 2;
        for (int i = 0; i < steps; i++) out[i] = i < half ? start + step * i : end - step * (steps - 1 - i);
        return out;
    }

    private static float[] build(boolean signed) {
        float[] data = new float[256];
        int n = 0;
        for (int i = 0; i < 7; i++) {
            int items = signed ? (1 << i) + 1 : (1 << (i + 1)) + 1;
            float[] b = linspace(0.1f, 1f, items);
            float scale = (float) Math.pow(10, i - 6);
            for (int j = 0; j + 1 < items; j++) {
                float mean = (b[j] + b[j + 1]) / 2f;
                data[n++] = scale * mean;
                if (signed) data[n++] = -scale * mean;
            }
        }
        data[n++] = 0f;
        data[n++] = 1f;
        if (n != 256) throw new IllegalStateException("dynamic map has " + n + " values");
        java.util.Arrays.sort(data);
        return data;
    }

    /** Index of the code nearest to x (codes sorted ascending); an exact midpoint goes to the lower code. */
    public static int nearest(float[] code, float x) {
        int lo = 0, hi = code.length - 1;
        if (x <= code[lo]) return lo;
        if (x >= code[hi]) return hi;
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (code[mid] <= x) lo = mid;
            else hi = mid;
        }
        // code[lo] <= x < code[hi]
        float mid = (code[lo] + code[hi]) * 0.5f;
        return x > mid ? hi : lo;
    }
}
