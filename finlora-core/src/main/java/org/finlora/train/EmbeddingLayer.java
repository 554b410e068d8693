package org.finlora.train;

import org.finlora.FinloraException;
import org.finlora.kernel.Parallel;
import org.finlora.tensor.WeightMatrix;

/** Frozen token-embedding lookup: out[n] = E[token[n]]. No gradient flows into E. */
public final class EmbeddingLayer {
    private EmbeddingLayer() {
    }

    public static void forward(float[] out, int[] tokens, WeightMatrix embedding, int N) {
        int C = embedding.cols;
        for (int n = 0; n < N; n++) {
            int tok = tokens[n];
            if (tok < 0 || tok >= embedding.rows) {
                throw new FinloraException("token id " + tok + " at position " + n + " is outside the vocabulary [0, " + embedding.rows + ")");
            }
        }
        Parallel.forRange(N, 8, (n0, n1) -> {
            for (int n = n0; n < n1; n++) embedding.dequantizeRow(tokens[n], out, n * C);
        });
    }
}
