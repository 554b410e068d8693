package org.finlora.kernel;

/**
 * Causal grouped-query attention of T new tokens (at positions pos .. pos + T - 1) over a KV cache
 * that already holds their keys/values: query head h reads kv head h / (nHeads / nKvHeads).
 */
public final class Attention {
    private Attention() {
    }

    /**
     * @param q      [T, nHeads · headDim] rotated queries
     * @param out    [T, nHeads · headDim] attention outputs (overwritten)
     * @param kCache [capacity, nKvHeads · headDim] rotated keys of positions 0 .. pos + T - 1
     * @param vCache [capacity, nKvHeads · headDim] values
     */
    public static void forward(float[] q, float[] out, int T, int pos, float[] kCache, float[] vCache,
                               int nHeads, int nKvHeads, int headDim, boolean vector) {
        int qDim = nHeads * headDim, kvDim = nKvHeads * headDim, group = nHeads / nKvHeads;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        Parallel.forRange(T * nHeads, 1, (start, end) -> {
            float[] att = new float[pos + T];
            for (int job = start; job < end; job++) {
                int t = job / nHeads, h = job % nHeads;
                int n = pos + t + 1;
                int qo = t * qDim + h * headDim, ko = (h / group) * headDim;
                for (int s = 0; s < n; s++) att[s] = Dot.dot(q, qo, kCache, s * kvDim + ko, headDim, vector) * scale;
                Activations.softmax(att, 0, n);
                java.util.Arrays.fill(out, qo, qo + headDim, 0f);
                for (int s = 0; s < n; s++) Dot.axpy(att[s], vCache, s * kvDim + ko, out, qo, headDim, vector);
            }
        });
    }
}
