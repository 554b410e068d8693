package org.finlora.kernel;

import org.finlora.tensor.WeightMatrix;

/**
 * Several matmuls of the same input (q/k/v, gate/up) in one parallel region: their rows are split
 * across threads as one range, so a decode step waits at one barrier instead of one per matrix.
 */
public final class Matmuls {
    private Matmuls() {
    }

    /**
     * Tokens from which these products go through {@link Gemm} (prefill). [2048 x 2048] per busy core:
     * at T = 128 the GEMM beat the weights' own kernels for f32, q8_0, q4_0 and nf4 (1.2-2.3x); at
     * T = 32 it lost for nf4 (decoding a panel is paid back over too few tokens), at T = 16 for both.
     */
    static final int PREFILL_GEMM_TOKENS = 64;

    /**
     * Whether a product of T tokens goes through {@link Gemm}: a long prefill, and a weight whose
     * product is its decoded rows times x. LLM.int8 weights are left to their own kernel, which
     * quantizes the activations to int8 as bitsandbytes does (decode and prefill then agree).
     */
    static boolean gemmRoute(WeightMatrix w, int T) {
        return Gemm.ENABLED && T >= PREFILL_GEMM_TOKENS && !(w instanceof Int8VectorwiseMatrix);
    }

    /** y[T, w.rows] = x[T, w.cols] · wᵀ, through the GEMM for a long prefill. */
    public static void single(WeightMatrix w, float[] x, float[] y, int T) {
        if (gemmRoute(w, T)) Gemm.matmul(w, x, y, T);
        else w.matmul(x, y, T);
    }

    /** ys[i][T, ws[i].rows] = x[T, cols] · ws[i]ᵀ for every i (all ws share cols). */
    public static void sameInput(WeightMatrix[] ws, float[] x, float[][] ys, int T) {
        if (gemmRoute(ws[0], T)) {   // long prefill: the packed-panel GEMM, one matrix at a time
            for (int i = 0; i < ws.length; i++) single(ws[i], x, ys[i], T);
            return;
        }
        boolean rowWise = true;
        int total = 0;
        for (WeightMatrix w : ws) {
            rowWise &= w instanceof RowMatrix;
            total += w.rows;
            if (w.cols != ws[0].cols) throw new IllegalArgumentException("matrices of different widths: " + w.cols + " vs " + ws[0].cols);
        }
        if (!rowWise) {   // other formats: one region each
            for (int i = 0; i < ws.length; i++) ws[i].matmul(x, ys[i], T);
            return;
        }
        for (int i = 0; i < ws.length; i++) {
            if ((long) T * ws[i].rows > ys[i].length || (long) T * ws[i].cols > x.length) {
                throw new IllegalArgumentException("output " + i + " too small for " + T + " tokens");
            }
        }
        boolean vector = Vectors.ENABLED;
        Parallel.forRange(total, Parallel.minChunk(T == 1 ? 64 : RowMatrix.ROW_BLOCK, (long) ws[0].cols * T), (s, e) -> {
            int base = 0;
            for (int i = 0; i < ws.length; i++) {
                int lo = Math.max(s, base), hi = Math.min(e, base + ws[i].rows);
                if (lo < hi) ((RowMatrix) ws[i]).matmulRows(x, ys[i], T, lo - base, hi - base, vector);
                base += ws[i].rows;
            }
        });
    }
}
