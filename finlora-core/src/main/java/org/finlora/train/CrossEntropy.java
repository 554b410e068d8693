package org.finlora.train;


import org.finlora.FinloraException;
import org.finlora.kernel.Parallel;
import org.finlora.tensor.WeightMatrix;

/**
 * Causal-LM cross-entropy, HF convention: the logits at (b, t) predict labels[b, t+1]; label -100 is
 * ignored; the loss is sum / denom (denom = counted tokens, or the token count of a whole
 * accumulation step). Logits are made through the lm_head chunk by chunk (chunkRows rows at a
 * time), only for rows that have a target, and the chunk's dlogits go straight back through
 * lm_head.matmulTransposed, so [B*T, vocab] is never held at once.
 */
public final class CrossEntropy {
    public static final int IGNORE_INDEX = -100;

    private final int dim, vocab, chunkRows;
    private final float[] xChunk, logits, dxChunk;
    private final int[] rowOf, targetOf;
    private final double[] rowLoss;

    public CrossEntropy(int dim, int vocab, int chunkRows) {
        this.dim = dim;
        this.vocab = vocab;
        this.chunkRows = chunkRows;
        xChunk = new float[chunkRows * dim];
        dxChunk = new float[chunkRows * dim];
        logits = new float[chunkRows * vocab];
        rowOf = new int[chunkRows];
        targetOf = new int[chunkRows];
        rowLoss = new double[chunkRows];
    }

    /** Bytes of the chunk buffers. */
    public long byteSize() {
        return 4L * (xChunk.length + dxChunk.length + logits.length) + 8L * chunkRows * 3;
    }

    /** Tokens that carry a loss in a [B, T] label batch after the shift. */
    public static int countTargets(int[] labels, int B, int T) {
        int n = 0;
        for (int b = 0; b < B; b++) {
            for (int t = 1; t < T; t++) if (labels[b * T + t] != IGNORE_INDEX) n++;
        }
        return n;
    }

    /**
     * Returns sum(-log p(target)) / denom over the counted tokens. When dx is not null, adds
     * d(loss)/dx to dx [B*T, dim] (x is the final-normed hidden state [B*T, dim]).
     */
    public double forwardBackward(float[] x, WeightMatrix head, int[] labels, int B, int T, double denom, float[] dx) {
        if (head.cols != dim || head.rows != vocab) {
            throw new IllegalArgumentException("lm_head is [" + head.rows + ", " + head.cols + "], expected [" + vocab + ", " + dim + "]");
        }
        double total = 0;
        int r = 0;
        for (int b = 0; b < B; b++) {
            for (int t = 0; t + 1 < T; t++) {
                int label = labels[b * T + t + 1];
                if (label == IGNORE_INDEX) continue;
                if (label < 0 || label >= vocab) {
                    throw new FinloraException("label " + label + " at batch row " + b + ", position " + (t + 1) + " is outside the vocabulary [0, " + vocab + ")");
                }
                rowOf[r] = b * T + t;
                targetOf[r] = label;
                r++;
                if (r == chunkRows) {
                    total += chunk(x, head, r, denom, dx);
                    r = 0;
                }
            }
        }
        if (r > 0) total += chunk(x, head, r, denom, dx);
        return total / denom;
    }

    private double chunk(float[] x, WeightMatrix head, int R, double denom, float[] dx) {
        for (int i = 0; i < R; i++) System.arraycopy(x, rowOf[i] * dim, xChunk, i * dim, dim);
        head.matmul(xChunk, logits, R);
        float invDenom = (float) (1.0 / denom);
        boolean grad = dx != null;
        Parallel.forRange(R, 1, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                int o = i * vocab;
                float max = Float.NEGATIVE_INFINITY;
                for (int v = 0; v < vocab; v++) max = Math.max(max, logits[o + v]);
                float targetLogit = logits[o + targetOf[i]];
                // one exp per logit: e = exp(l - max) is kept in place, then p = e / sum
                double sum = 0;
                for (int v = 0; v < vocab; v++) {
                    float e = (float) Math.exp(logits[o + v] - max);
                    logits[o + v] = e;
                    sum += e;
                }
                double lse = max + Math.log(sum);
                rowLoss[i] = lse - targetLogit;
                if (grad) {
                    float scale = (float) (invDenom / sum);
                    for (int v = 0; v < vocab; v++) logits[o + v] *= scale;
                    logits[o + targetOf[i]] -= invDenom;
                }
            }
        });
        double s = 0;
        for (int i = 0; i < R; i++) s += rowLoss[i];
        if (grad) {
            java.util.Arrays.fill(dxChunk, 0, R * dim, 0f);
            head.matmulTransposed(logits, dxChunk, R);
            for (int i = 0; i < R; i++) {
                int xo = rowOf[i] * dim, co = i * dim;
                for (int c = 0; c < dim; c++) dx[xo + c] += dxChunk[co + c];
            }
        }
        return s;
    }
}
