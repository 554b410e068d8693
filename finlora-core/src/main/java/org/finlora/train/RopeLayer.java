package org.finlora.train;

import org.finlora.kernel.Parallel;
import org.finlora.kernel.Rope;
import org.finlora.model.LlamaConfig;

/**
 * Rotary position embedding for training, in place on [B*T, nHeads*headDim] with position = t.
 * Pairs are adjacent (2i, 2i+1) when interleaved (Meta/llama2.c/GGUF), else (i, i + headDim/2) (HF).
 * Backward is the inverse rotation (the rotation is orthogonal).
 */
public final class RopeLayer {
    private final int headDim;
    private final boolean interleaved;
    private final int maxT;
    /** [maxT, headDim/2] cos and sin of t * invFreq[i], computed in f32 as HF does. */
    private final float[] cos, sin;

    public RopeLayer(float[] invFreq, int headDim, boolean interleaved, int maxT) {
        if (invFreq.length != headDim / 2) throw new IllegalArgumentException("invFreq has " + invFreq.length + " entries, expected " + headDim / 2);
        this.headDim = headDim;
        this.interleaved = interleaved;
        this.maxT = maxT;
        int half = headDim / 2;
        cos = new float[maxT * half];
        sin = new float[maxT * half];
        for (int t = 0; t < maxT; t++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) t * invFreq[i];
                cos[t * half + i] = (float) Math.cos(angle);
                sin[t * half + i] = (float) Math.sin(angle);
            }
        }
    }

    /**
     * The frequencies inference uses (kernel.Rope, as model.LlamaModel builds them): HF
     * inv_freq[i] = 1 / theta^(2i/d) in f32, then GGUF per-pair divisors when present (they already
     * encode llama3 scaling), else llama3 scaling when configured.
     */
    public static float[] inverseFrequencies(LlamaConfig c) {
        float[] inv = Rope.inverseFrequencies(c.headDim(), c.ropeTheta());
        if (c.ropeFreqFactors() != null) return Rope.divided(inv, c.ropeFreqFactors());
        LlamaConfig.RopeScaling s = c.ropeScaling();
        if (s != null) inv = Rope.llama3Scaled(inv, s.factor(), s.lowFreqFactor(), s.highFreqFactor(), s.originalMaxPositions());
        return inv;
    }

    /** Rotates x [B*T, nHeads*headDim] forward by t * invFreq. */
    public void forward(float[] x, int B, int T, int nHeads) {
        rotate(x, B, T, nHeads, 1f);
    }

    /** Input gradient, in place: rotates dx back by -t * invFreq. */
    public void backward(float[] dx, int B, int T, int nHeads) {
        rotate(dx, B, T, nHeads, -1f);
    }

    private void rotate(float[] x, int B, int T, int nHeads, float sign) {
        if (T > maxT) throw new IllegalArgumentException("T=" + T + " exceeds the RoPE table length " + maxT);
        int half = headDim / 2;
        int width = nHeads * headDim;
        Parallel.forRange(B * T, 8, (n0, n1) -> {
            for (int n = n0; n < n1; n++) {
                int t = n % T;
                for (int h = 0; h < nHeads; h++) {
                    int base = n * width + h * headDim;
                    for (int i = 0; i < half; i++) {
                        float c = cos[t * half + i], s = sign * sin[t * half + i];
                        int i0 = interleaved ? base + 2 * i : base + i;
                        int i1 = interleaved ? i0 + 1 : i0 + half;
                        float a = x[i0], b = x[i1];
                        x[i0] = a * c - b * s;
                        x[i1] = a * s + b * c;
                    }
                }
            }
        });
    }
}
