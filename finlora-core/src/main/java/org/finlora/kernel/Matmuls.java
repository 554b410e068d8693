package org.finlora.kernel;

import org.finlora.tensor.WeightMatrix;

/**
 * Several matmuls of the same input (q/k/v, gate/up) in one parallel region: their rows are split
 * across threads as one range, so a decode step waits at one barrier instead of one per matrix.
 */
public final class Matmuls {
    private Matmuls() {
    }

    /** ys[i][T, ws[i].rows] = x[T, cols] · ws[i]ᵀ for every i (all ws share cols). */
    public static void sameInput(WeightMatrix[] ws, float[] x, float[][] ys, int T) {
        boolean gemm = T >= Gemm.PREFILL_TOKENS;
        for (WeightMatrix w : ws) gemm |= w instanceof RowMatrix m && m.usesGemm(T);   // a format that wants the GEMM sooner
        if (gemm) {   // prefill: each weight's own forward (the GEMM), one matrix at a time
            for (int i = 0; i < ws.length; i++) ws[i].matmul(x, ys[i], T);
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
