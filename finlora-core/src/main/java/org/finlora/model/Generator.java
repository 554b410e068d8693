package org.finlora.model;

import org.finlora.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * Autoregressive generation: prefill the prompt in chunks, then decode one token at a time with the
 * KV cache until a stop id, maxTokens, or the model's context length.
 */
public final class Generator {
    /** Prompt tokens run per prefill forward (bounds activation memory). */
    static final int PREFILL_CHUNK = 256;

    private final LlamaModel model;
    private final Set<Integer> stopIds;

    public Generator(LlamaModel model, Tokenizer tokenizer) {
        this(model, tokenizer.stopIds());
    }

    public Generator(LlamaModel model, Set<Integer> stopIds) {
        this.model = model;
        this.stopIds = stopIds;
    }

    /** Timings of the last {@link #generate} call. */
    public long prefillNanos, decodeNanos;
    public int prefillTokens, decodeTokens;

    /**
     * Generates after {@code prompt} (which must be non-empty); each new token goes to onToken as
     * soon as it is sampled. The stop token is neither reported nor returned.
     */
    public int[] generate(int[] prompt, int maxTokens, Sampler sampler, IntConsumer onToken) {
        if (prompt.length == 0) throw new org.finlora.FinloraException("generate: empty prompt (the tokenizer added no BOS)");
        int ctx = model.config.maxSeqLen();
        if (prompt.length >= ctx) {
            throw new org.finlora.FinloraException("prompt of " + prompt.length + " tokens does not fit the context length " + ctx);
        }
        int capacity = (int) Math.min(ctx, (long) prompt.length + Math.max(0, maxTokens));
        KvCache cache = model.newCache(capacity);
        int vocab = model.config.vocabSize();
        long t0 = System.nanoTime();
        float[] logits = null;
        for (int p = 0; p < prompt.length; p += PREFILL_CHUNK) {
            int n = Math.min(PREFILL_CHUNK, prompt.length - p);
            logits = model.forward(cache, prompt, p, n, p, false);
        }
        if (Float.isNaN(logits[0])) {
            // a NaN here is in the weights (nothing else is NaN after one forward): say so rather than print noise
            String bad = NonFiniteWeights.find(model.weights);
            throw new org.finlora.FinloraException("the model's output is NaN" + (bad != null ? ": its weights are not finite (" + bad
                    + "); the model file is corrupt" : ""));
        }
        long t1 = System.nanoTime();
        prefillNanos = t1 - t0;
        prefillTokens = prompt.length;
        int[] out = new int[Math.max(0, maxTokens)];
        int count = 0, pos = prompt.length;
        int[] one = new int[1];
        while (count < maxTokens) {
            int next = sampler.sample(logits, 0, vocab);
            if (stopIds.contains(next)) break;
            out[count++] = next;
            if (onToken != null) onToken.accept(next);
            if (count == maxTokens || pos >= capacity) break;
            one[0] = next;
            logits = model.forward(cache, one, 0, 1, pos++, false);
        }
        decodeNanos = System.nanoTime() - t1;
        decodeTokens = count;
        return Arrays.copyOf(out, count);
    }
}
