package org.finlora.train;

import org.finlora.kernel.Parallel;
import org.finlora.tensor.WeightMatrix;

/**
 * A frozen linear layer with an optional LoRA branch, PEFT semantics:
 * y = x·Wᵀ + s·(dropout(x)·Aᵀ)·Bᵀ, A [r, in], B [out, r], s = alpha/r (or alpha/√r for rsLoRA).
 * Dropout is inverted (kept values × 1/(1-p)) and applies to the LoRA input only. Its mask is a
 * pure function of (seed, element index), so backward and activation recomputation regenerate it
 * instead of storing it. W gets no gradient; dA and dB accumulate.
 */
public final class LoraLinear {
    public final WeightMatrix base;
    public final int in, out, rank;
    /** Null when this projection has no adapter. */
    public final float[] a, b, gradA, gradB;
    public final float scale, dropout;

    public LoraLinear(WeightMatrix base, float[] a, float[] b, float[] gradA, float[] gradB, int rank, float scale, float dropout) {
        this.base = base;
        this.in = base.cols;
        this.out = base.rows;
        this.rank = rank;
        this.a = a;
        this.b = b;
        this.gradA = gradA;
        this.gradB = gradB;
        this.scale = scale;
        this.dropout = dropout;
        if (a != null && (a.length != rank * in || b.length != out * rank)) {
            throw new IllegalArgumentException("LoRA A/B sizes " + a.length + "/" + b.length + " do not match r=" + rank + ", in=" + in + ", out=" + out);
        }
    }

    public boolean hasAdapter() {
        return a != null;
    }

    /**
     * y [N, out] = x·Wᵀ + s·h·Bᵀ, where h [N, r] = x̃·Aᵀ is written for backward. xd is scratch of
     * at least N*in floats used only when dropout is active (seed selects the mask).
     */
    public void forward(float[] x, float[] y, float[] h, int N, long seed, boolean training, float[] xd) {
        base.matmul(x, y, N);
        if (a == null) return;
        float[] xin = x;
        if (training && dropout > 0f) {
            applyDropout(x, xd, N * in, seed, dropout);
            xin = xd;
        }
        Gemm.xwT(xin, a, h, N, in, rank, 1f, false);
        Gemm.xwT(h, b, y, N, rank, out, scale, true);
    }

    /**
     * dx [N, in] += dy·W + s·((dy·B)·A) ⊙ mask/(1-p); gradA += s·(dy·B)ᵀ·x̃; gradB += s·dyᵀ·h.
     * g is scratch of N*rank floats, xd scratch of N*in floats (dropout only).
     */
    public void backward(float[] dy, float[] x, float[] h, float[] dx, int N, long seed, boolean training, float[] g, float[] xd) {
        base.matmulTransposed(dy, dx, N);
        if (a == null) return;
        Gemm.aTb(dy, h, gradB, N, out, rank, scale);           // [out, r]
        Gemm.xwT(dy, bT(), g, N, out, rank, 1f, false);         // g = dy·B  [N, r]
        boolean drop = training && dropout > 0f;
        float[] xin = x;
        if (drop) {
            applyDropout(x, xd, N * in, seed, dropout);
            xin = xd;
        }
        Gemm.aTb(g, xin, gradA, N, rank, in, scale);            // [r, in]
        if (!drop) {
            Gemm.aw(g, a, dx, N, rank, in, scale, true);
        } else {
            // dx̃ = s·g·A, then through the dropout mask: dx += dx̃ ⊙ keep/(1-p)
            Gemm.aw(g, a, xd, N, rank, in, scale, false);
            float keepScale = 1f / (1f - dropout);
            Parallel.forRange(N * in, 4096, (i0, i1) -> {
                for (int i = i0; i < i1; i++) if (keep(seed, i, dropout)) dx[i] += xd[i] * keepScale;
            });
        }
    }

    private float[] bTCache;

    /** Bᵀ as [r, out] so that dy·B is an x·Wᵀ product with W = Bᵀ. */
    private float[] bT() {
        if (bTCache == null) bTCache = new float[rank * out];
        for (int o = 0; o < out; o++) {
            for (int j = 0; j < rank; j++) bTCache[j * out + o] = b[o * rank + j];
        }
        return bTCache;
    }

    /** xd[i] = keep(i) ? x[i]/(1-p) : 0 for i in [0, n). */
    public static void applyDropout(float[] x, float[] xd, int n, long seed, float p) {
        float keepScale = 1f / (1f - p);
        Parallel.forRange(n, 4096, (i0, i1) -> {
            for (int i = i0; i < i1; i++) xd[i] = keep(seed, i, p) ? x[i] * keepScale : 0f;
        });
    }

    /** Counter-based Bernoulli(1-p): SplitMix64 of (seed, index) → uniform in [0, 1) with 24 bits. */
    public static boolean keep(long seed, long index, float p) {
        long z = seed + (index + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        float u = (z >>> 40) * 0x1.0p-24f;
        return u >= p;
    }
}
