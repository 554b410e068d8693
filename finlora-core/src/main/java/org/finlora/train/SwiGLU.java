package org.finlora.train;

import org.finlora.kernel.Parallel;

/** The Llama MLP activation: out = silu(gate) * up, elementwise over n values. */
public final class SwiGLU {
    private SwiGLU() {
    }

    public static void forward(float[] out, float[] gate, float[] up, int n) {
        Parallel.forRange(n, 4096, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                float g = gate[i];
                float sig = (float) (1.0 / (1.0 + Math.exp(-g)));
                out[i] = g * sig * up[i];
            }
        });
    }

    /** Overwrites dgate and dup: d/dg silu(g) = sig * (1 + g * (1 - sig)). */
    public static void backward(float[] dgate, float[] dup, float[] dout, float[] gate, float[] up, int n) {
        Parallel.forRange(n, 4096, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                float g = gate[i];
                float sig = (float) (1.0 / (1.0 + Math.exp(-g)));
                float silu = g * sig;
                dup[i] = dout[i] * silu;
                dgate[i] = dout[i] * up[i] * sig * (1f + g * (1f - sig));
            }
        });
    }
}
