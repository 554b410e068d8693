package org.finlora.train;

import org.finlora.kernel.Gemm;
import org.finlora.kernel.Parallel;
import org.finlora.kernel.Simd;
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
    /** The width of the LoRA branch's kernels (the base's own kernels run at the width it was built for). */
    public final Simd simd;
    /** DoRA magnitude m [out] and its gradient; null for plain LoRA. */
    public final float[] magnitude, gradMagnitude;

    public LoraLinear(WeightMatrix base, float[] a, float[] b, float[] gradA, float[] gradB, int rank, float scale, float dropout, Simd simd) {
        this(base, a, b, gradA, gradB, null, null, rank, scale, dropout, simd);
    }

    /**
     * With magnitude != null this is DoRA (PEFT): n = ‖W + s·B·A‖_row (recomputed each forward,
     * detached), g = m/n, y = W·x + (g-1)·(W·x̃) + g·s·B·A·x̃.
     */
    public LoraLinear(WeightMatrix base, float[] a, float[] b, float[] gradA, float[] gradB, float[] magnitude, float[] gradMagnitude,
                      int rank, float scale, float dropout, Simd simd) {
        this.simd = simd;
        this.magnitude = magnitude;
        this.gradMagnitude = gradMagnitude;
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

    public boolean isDora() {
        return magnitude != null;
    }

    /** Floats of saved activations a DoRA forward needs for N tokens: W·x̃ [N,out], B·A·x̃ [N,out], n [out]. */
    public int doraSavedSize(int N) {
        return 2 * N * out + out;
    }

    /**
     * y [N, out] = x·Wᵀ + s·h·Bᵀ, where h [N, r] = x̃·Aᵀ is written for backward. xd is scratch of
     * at least N*in floats used only when dropout is active (seed selects the mask).
     */
    public void forward(float[] x, float[] y, float[] h, int N, long seed, boolean training, float[] xd) {
        base.matmul(x, y, N);
        if (a == null) return;
        if (magnitude != null) throw new IllegalStateException("DoRA layer: use forwardDora");
        float[] xin = x;
        if (training && dropout > 0f) {
            applyDropout(x, xd, N * in, seed, dropout);
            xin = xd;
        }
        Gemm.xwT(simd, xin, a, h, N, in, rank, 1f, false);
        Gemm.aw(h, bT(), y, N, rank, out, scale, true);   // y += s·h·Bᵀ as axpys over out
    }

    /**
     * dx [N, in] += dy·W + s·((dy·B)·A) ⊙ mask/(1-p); gradA += s·(dy·B)ᵀ·x̃; gradB += s·dyᵀ·h.
     * g is scratch of N*rank floats, xd scratch of N*in floats (dropout only).
     */
    public void backward(float[] dy, float[] x, float[] h, float[] dx, int N, long seed, boolean training, float[] g, float[] xd) {
        base.matmulTransposed(dy, dx, N);
        if (a == null) return;
        if (magnitude != null) throw new IllegalStateException("DoRA layer: use backwardDora");
        Gemm.aTb(dy, h, gradB, N, out, rank, scale);           // [out, r]
        Gemm.xwT(simd, dy, bT(), g, N, out, rank, 1f, false);         // g = dy·B  [N, r]
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

    /**
     * DoRA forward. saved (doraSavedSize(N) floats) receives W·x̃, B·A·x̃ and the row norms for
     * backward; h [N, r] = x̃·Aᵀ as in plain LoRA; xd is dropout scratch (N*in).
     */
    public void forwardDora(float[] x, float[] y, float[] h, float[] saved, int N, long seed, boolean training, float[] xd) {
        base.matmul(x, y, N);
        boolean drop = training && dropout > 0f;
        float[] xin = x;
        if (drop) {
            applyDropout(x, xd, N * in, seed, dropout);
            xin = xd;
        }
        int wxOff = 0, loOff = N * out, nOff = 2 * N * out;
        if (drop) {
            base.matmul(xin, saved, N);           // W·x̃ into saved[0, N*out)
        } else {
            System.arraycopy(y, 0, saved, wxOff, N * out);
        }
        Gemm.xwT(simd, xin, a, h, N, in, rank, 1f, false);
        float[] lo = new float[N * out];
        Gemm.xwT(simd, h, b, lo, N, rank, out, 1f, false);
        System.arraycopy(lo, 0, saved, loOff, N * out);
        float[] norms = new float[out];
        org.finlora.lora.LoraAdapter.rowNorms(base, a, b, rank, scale, norms);
        System.arraycopy(norms, 0, saved, nOff, out);
        Parallel.forRange(N, 4, (n0, n1) -> {
            for (int n = n0; n < n1; n++) {
                for (int o = 0; o < out; o++) {
                    float g = magnitude[o] / norms[o];
                    int i = n * out + o;
                    y[i] += (g - 1f) * saved[wxOff + i] + g * scale * saved[loOff + i];
                }
            }
        });
    }

    /**
     * DoRA backward (n detached, as PEFT): dm += Σ_n dy·(W·x̃ + s·B·A·x̃)/n; dx += dy·W +
     * [(dy⊙(g-1))·W + s·((dy⊙g)·B)·A] through the dropout mask; dA, dB as LoRA with dy⊙g.
     * dyg is scratch of N*out floats.
     */
    public void backwardDora(float[] dy, float[] x, float[] h, float[] saved, float[] dx, int N, long seed, boolean training,
                             float[] g, float[] xd, float[] dyg) {
        base.matmulTransposed(dy, dx, N);
        int loOff = N * out, nOff = 2 * N * out;
        Parallel.forRange(out, 16, (o0, o1) -> {
            for (int o = o0; o < o1; o++) {
                double s = 0;
                for (int n = 0; n < N; n++) {
                    int i = n * out + o;
                    s += (double) dy[i] * (saved[i] + scale * saved[loOff + i]);
                }
                gradMagnitude[o] += (float) (s / saved[nOff + o]);
            }
        });
        for (int n = 0; n < N; n++) {
            for (int o = 0; o < out; o++) dyg[n * out + o] = dy[n * out + o] * (magnitude[o] / saved[nOff + o]);
        }
        Gemm.aTb(dyg, h, gradB, N, out, rank, scale);
        Gemm.xwT(simd, dyg, bT(), g, N, out, rank, 1f, false);
        boolean drop = training && dropout > 0f;
        float[] xin = x;
        if (drop) {
            applyDropout(x, xd, N * in, seed, dropout);
            xin = xd;
        }
        Gemm.aTb(g, xin, gradA, N, rank, in, scale);
        // dyg := dy ⊙ (g - 1) for the (g-1)·W·x̃ term
        for (int n = 0; n < N; n++) {
            for (int o = 0; o < out; o++) dyg[n * out + o] = dy[n * out + o] * (magnitude[o] / saved[nOff + o] - 1f);
        }
        if (!drop) {
            Gemm.aw(g, a, dx, N, rank, in, scale, true);
            base.matmulTransposed(dyg, dx, N);
        } else {
            Gemm.aw(g, a, xd, N, rank, in, scale, false);
            base.matmulTransposed(dyg, xd, N);
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
