package org.finlora.model;

import org.finlora.FinloraException;

/**
 * Perplexity by the GPTQ convention: the token stream is cut into floor(n / ctx) non-overlapping
 * windows of ctx tokens, each scored on its own from position 0 (fresh KV cache); the result is
 * exp(mean NLL over every predicted token), i.e. ctx - 1 predictions per window.
 */
public final class Perplexity {
    /** Tokens run per forward inside a window (bounds the [chunk, vocab] logits buffer). */
    static final int CHUNK = 128;

    /** Called after each window. */
    public interface Progress {
        void windowDone(int window, int windows, double meanNllSoFar);
    }

    public record Result(double perplexity, double meanNll, long predictedTokens, int windows, int ctx) {
    }

    private Perplexity() {
    }

    /** Window length actually used: ctx capped by the model context and, for short texts, by the text itself. */
    public static int windowLength(int tokens, int ctx, int maxSeqLen) {
        int w = Math.min(ctx, maxSeqLen);
        return Math.min(w, tokens);
    }

    public static Result compute(LlamaModel model, int[] tokens, int ctx, Progress progress) {
        if (ctx < 2) throw new FinloraException("--ctx " + ctx + ": need at least 2 tokens per window");
        if (tokens.length < 2) throw new FinloraException("perplexity: the text has " + tokens.length + " token(s), need at least 2");
        int w = windowLength(tokens.length, ctx, model.config.maxSeqLen());
        int windows = tokens.length / w;
        int vocab = model.config.vocabSize();
        double nllSum = 0;
        long predicted = 0;
        KvCache cache = model.newCache(w);
        for (int win = 0; win < windows; win++) {
            int start = win * w;
            for (int p = 0; p < w; p += CHUNK) {
                int n = Math.min(CHUNK, w - p);
                float[] logits = model.forward(cache, tokens, start + p, n, p, true);
                for (int t = 0; t < n; t++) {
                    int pos = p + t;
                    if (pos + 1 >= w) break;                 // the window's last token predicts nothing inside it
                    nllSum += nll(logits, t * vocab, vocab, tokens[start + pos + 1]);
                    predicted++;
                }
            }
            if (progress != null) progress.windowDone(win + 1, windows, nllSum / predicted);
        }
        double mean = nllSum / predicted;
        return new Result(Math.exp(mean), mean, predicted, windows, w);
    }

    /** -log softmax(logits)[target], in double. */
    public static double nll(float[] logits, int off, int n, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, logits[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(logits[off + i] - max);
        return Math.log(sum) + max - logits[off + target];
    }
}
