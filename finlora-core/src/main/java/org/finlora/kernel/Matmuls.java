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
        boolean shared = true;
        int total = 0;
        for (WeightMatrix w : ws) {
            if (w.cols != ws[0].cols) throw new IllegalArgumentException("matrices of different widths: " + w.cols + " vs " + ws[0].cols);
            // formats of the kernel contract on a vector width, below their GEMM threshold, share the region
            shared &= w instanceof RowMatrix m && m.simd.vector() && !m.usesGemm(T);
            total += w.rows;
        }
        if (!shared) {   // the GEMM (one matrix at a time), the scalar references, or other matrices: each its own forward
            for (int i = 0; i < ws.length; i++) ws[i].matmul(x, ys[i], T);
            return;
        }
        for (int i = 0; i < ws.length; i++) ((RowMatrix) ws[i]).checkSizes(x, ys[i], T, "x", "y");
        Parallel.forRange(total, Parallel.minChunk(T == 1 ? 64 : RowMatrix.ROW_GROUP, (long) ws[0].cols * T), (s, e) -> {
            int base = 0;
            for (int i = 0; i < ws.length; i++) {
                int lo = Math.max(s, base), hi = Math.min(e, base + ws[i].rows);
                if (lo < hi) ((RowMatrix) ws[i]).matmulRows(x, ys[i], T, lo - base, hi - base);
                base += ws[i].rows;
            }
        });
    }
}
