package org.finlora.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Element-wise pieces of the block: softmax and the SwiGLU gate. Both use {@link VectorMath#exp}
 * (vector lanes and the scalar tail alike), so an element gets the same bits whatever its index
 * modulo the vector length; the scalar references use the same exp.
 */
public final class Activations {
    private Activations() {
    }

    /** In-place softmax of x[off, off + n), max-subtracted. */
    public static void softmax(Simd simd, float[] x, int off, int n) {
        if (simd.vector()) softmaxVector(simd, x, off, n);
        else softmaxScalar(x, off, n);
    }

    public static void softmaxScalar(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            float e = VectorMath.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int i = 0; i < n; i++) x[off + i] *= inv;
    }

    public static void softmaxVector(Simd simd, float[] x, int off, int n) {
        VectorSpecies<Float> F = simd.floats();
        int L = F.length();
        int upper = n - n % L;
        float max = Float.NEGATIVE_INFINITY;
        if (upper > 0) {
            FloatVector m = FloatVector.fromArray(F, x, off);
            for (int i = L; i < upper; i += L) m = m.max(FloatVector.fromArray(F, x, off + i));
            max = m.reduceLanes(VectorOperators.MAX);   // max is exact in any order
        }
        for (int i = upper; i < n; i++) max = Math.max(max, x[off + i]);
        FloatVector mv = FloatVector.broadcast(F, max), acc = FloatVector.zero(F);
        for (int i = 0; i < upper; i += L) {
            FloatVector e = VectorMath.exp(FloatVector.fromArray(F, x, off + i).sub(mv));
            e.intoArray(x, off + i);
            acc = acc.add(e);
        }
        float sum = simd.hsum(acc);
        for (int i = upper; i < n; i++) {
            float e = VectorMath.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        FloatVector iv = FloatVector.broadcast(F, inv);
        for (int i = 0; i < upper; i += L) FloatVector.fromArray(F, x, off + i).mul(iv).intoArray(x, off + i);
        for (int i = upper; i < n; i++) x[off + i] *= inv;
    }

    /** gate[i] = silu(gate[i]) · up[i] for i in [0, n): SwiGLU, in parallel chunks. */
    public static void siluMul(Simd simd, float[] gate, float[] up, int n) {
        Parallel.forRange(n, 1 << 14, (s, e) -> {
            if (simd.vector()) siluMulVector(simd, gate, up, s, e);
            else siluMulScalar(gate, up, s, e);
        });
    }

    static void siluMulScalar(float[] gate, float[] up, int start, int end) {
        for (int i = start; i < end; i++) {
            float g = gate[i];
            gate[i] = g / (1f + VectorMath.exp(-g)) * up[i];
        }
    }

    static void siluMulVector(Simd simd, float[] gate, float[] up, int start, int end) {
        VectorSpecies<Float> F = simd.floats();
        int L = F.length();
        int i = start;
        for (; i + L <= end; i += L) {
            FloatVector g = FloatVector.fromArray(F, gate, i);
            FloatVector d = VectorMath.exp(g.neg()).add(1f);
            g.div(d).mul(FloatVector.fromArray(F, up, i)).intoArray(gate, i);
        }
        siluMulScalar(gate, up, i, end);
    }
}
