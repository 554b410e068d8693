package org.finlora.kernel;

/** Element-wise pieces of the block: softmax and the SwiGLU gate. */
public final class Activations {
    private Activations() {
    }

    /** In-place softmax of x[off, off + n), max-subtracted. */
    public static void softmax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int i = 0; i < n; i++) x[off + i] *= inv;
    }

    /** gate[i] = silu(gate[i]) · up[i] for i in [0, n): SwiGLU, in parallel chunks. */
    public static void siluMul(float[] gate, float[] up, int n) {
        Parallel.forRange(n, 1 << 14, (s, e) -> {
            for (int i = s; i < e; i++) {
                float g = gate[i];
                gate[i] = g / (1f + (float) Math.exp(-g)) * up[i];
            }
        });
    }
}
