package org.finlora.kernel;

/**
 * Rotary position embedding. Frequencies are computed as transformers does, in f32: inv_freq[i] =
 * 1 / theta^(2i/d), optionally adjusted by llama3 scaling or divided by GGUF per-pair factors. Pairs
 * are adjacent (2i, 2i+1) when interleaved (Meta, llama2.c, GGUF) or (i, i + d/2) in the HF layout.
 */
public final class Rope {
    private final float[] invFreq;
    private final int headDim;
    private final boolean interleaved;

    public Rope(float[] invFreq, int headDim, boolean interleaved) {
        if (invFreq.length != headDim / 2) throw new IllegalArgumentException("need headDim/2 = " + headDim / 2 + " frequencies");
        this.invFreq = invFreq;
        this.headDim = headDim;
        this.interleaved = interleaved;
    }

    /** transformers' default rope init: 1 / theta^(arange(0, d, 2) / d), all in f32. */
    public static float[] inverseFrequencies(int headDim, float theta) {
        float[] inv = new float[headDim / 2];
        for (int i = 0; i < inv.length; i++) {
            float exponent = (float) (2 * i) / (float) headDim;
            inv[i] = 1.0f / (float) Math.pow(theta, exponent);
        }
        return inv;
    }

    /**
     * transformers' _compute_llama3_parameters in f32: keep short wavelengths, divide long ones by
     * factor, blend in between with smooth = (orig / wavelen - low) / (high - low).
     */
    public static float[] llama3Scaled(float[] invFreq, float factor, float lowFreqFactor, float highFreqFactor, int originalMaxPositions) {
        double lowFreqWavelen = (double) originalMaxPositions / lowFreqFactor;
        double highFreqWavelen = (double) originalMaxPositions / highFreqFactor;
        float twoPi = (float) (2 * Math.PI);
        float[] out = new float[invFreq.length];
        for (int i = 0; i < invFreq.length; i++) {
            float inv = invFreq[i];
            // torch evaluates `2 * math.pi / inv_freq` and `old_len / wavelen` as reciprocal(t) * scalar, in f32
            float wavelen = (1f / inv) * twoPi;
            float scaled = wavelen > lowFreqWavelen ? inv / factor : inv;
            boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
            if (medium) {
                float smooth = ((1f / wavelen) * (float) originalMaxPositions - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                scaled = (1 - smooth) * scaled / factor + smooth * scaled;
            }
            out[i] = scaled;
        }
        return out;
    }

    /** GGUF rope_freqs.weight: per-pair divisors of the base frequencies. */
    public static float[] divided(float[] invFreq, float[] factors) {
        if (factors.length != invFreq.length) {
            throw new org.finlora.FinloraException("rope_freqs has " + factors.length + " values, expected " + invFreq.length);
        }
        float[] out = new float[invFreq.length];
        for (int i = 0; i < out.length; i++) out[i] = invFreq[i] / factors[i];
        return out;
    }

    public float[] inverseFrequencies() {
        return invFreq.clone();
    }

    /** cos and sin of pos · inv_freq (f32 angle) for positions pos0 .. pos0 + T - 1, [T, d/2] each. */
    public void angles(int pos0, int T, float[] cos, float[] sin) {
        int half = headDim / 2;
        for (int t = 0; t < T; t++) {
            float p = pos0 + t;
            for (int i = 0; i < half; i++) {
                float a = p * invFreq[i];
                cos[t * half + i] = (float) Math.cos(a);
                sin[t * half + i] = (float) Math.sin(a);
            }
        }
    }

    /** Rotates nHeads heads of x[off ..] with the angles of row csRow of cos/sin. */
    public void rotate(float[] x, int off, int nHeads, float[] cos, float[] sin, int csRow) {
        int half = headDim / 2;
        int cs = csRow * half;
        for (int h = 0; h < nHeads; h++) {
            int base = off + h * headDim;
            for (int i = 0; i < half; i++) {
                int i0 = interleaved ? base + 2 * i : base + i;
                int i1 = interleaved ? i0 + 1 : i0 + half;
                float c = cos[cs + i], s = sin[cs + i];
                float x0 = x[i0], x1 = x[i1];
                x[i0] = x0 * c - x1 * s;
                x[i1] = x1 * c + x0 * s;
            }
        }
    }
}
