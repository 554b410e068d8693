package org.finlora.train;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.finlora.kernel.Parallel;
import org.finlora.kernel.Simd;
import org.finlora.kernel.VectorMath;

/**
 * The Llama MLP activation: out = silu(gate) * up, elementwise over n values. The sigmoid is
 * 1 / (1 + e^-g) in float with the vector exp; the scalar tail performs the same operations in the
 * same order, so every element gets the same bits whichever path computed it.
 */
public final class SwiGLU {
    private SwiGLU() {
    }

    static float sigmoid(float g) {
        return 1f / (1f + VectorMath.exp(-g));
    }

    private static FloatVector sigmoid(FloatVector g) {
        FloatVector one = g.broadcast(1f);
        return one.div(one.add(VectorMath.exp(g.neg())));
    }

    public static void forward(Simd simd, float[] out, float[] gate, float[] up, int n) {
        Parallel.forRange(n, 4096, (i0, i1) -> {
            int i = i0;
            if (simd.vector()) {
                VectorSpecies<Float> S = simd.floats();
                for (; i + S.length() <= i1; i += S.length()) {
                    FloatVector g = FloatVector.fromArray(S, gate, i);
                    g.mul(sigmoid(g)).mul(FloatVector.fromArray(S, up, i)).intoArray(out, i);
                }
            }
            for (; i < i1; i++) {
                float g = gate[i];
                out[i] = g * sigmoid(g) * up[i];
            }
        });
    }

    /** Overwrites dgate and dup: d/dg silu(g) = sig * (1 + g * (1 - sig)). */
    public static void backward(Simd simd, float[] dgate, float[] dup, float[] dout, float[] gate, float[] up, int n) {
        Parallel.forRange(n, 4096, (i0, i1) -> {
            int i = i0;
            if (simd.vector()) {
                VectorSpecies<Float> S = simd.floats();
                FloatVector one = FloatVector.broadcast(S, 1f);
                for (; i + S.length() <= i1; i += S.length()) {
                    FloatVector g = FloatVector.fromArray(S, gate, i), d = FloatVector.fromArray(S, dout, i);
                    FloatVector sig = sigmoid(g);
                    d.mul(g.mul(sig)).intoArray(dup, i);
                    d.mul(FloatVector.fromArray(S, up, i)).mul(sig).mul(one.add(g.mul(one.sub(sig)))).intoArray(dgate, i);
                }
            }
            for (; i < i1; i++) {
                float g = gate[i];
                float sig = sigmoid(g);
                float silu = g * sig;
                dup[i] = dout[i] * silu;
                dgate[i] = dout[i] * up[i] * sig * (1f + g * (1f - sig));
            }
        });
    }
}
