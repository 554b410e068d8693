package org.finlora.model;

import org.finlora.FinloraException;
import org.finlora.eval.TextGenerator;
import org.finlora.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Greedy generation for many prompts at once, FinLoRA's eval convention: each prompt is BOS (when
 * the tokenizer adds one) + the raw context, no chat template; only the continuation is decoded,
 * special tokens skipped. The prefix common to all prompts of a batch (a task's instruction) is run
 * once and its keys/values copied, and so is the part of a prompt that repeats the previous call's
 * first prompt (a task's instruction recurs across batches, and one-at-a-time evaluation is one call
 * per example); the rest of the prompts are prefilled together (ragged rows packed
 * up to {@link #PREFILL_ROWS} per forward); then every unfinished sequence advances one token per
 * {@link LlamaModel#forwardBatch} step, so each weight matrix is streamed once per step for the whole
 * batch. A sequence stops at a stop id, after maxNewTokens, or when its context is full — the same
 * rules as {@link Generator}, whose greedy output it reproduces.
 */
public final class BatchGenerator implements TextGenerator {
    /** Prompt rows (summed over sequences) per prefill forward; bounds activation memory. */
    static final int PREFILL_ROWS = 512;
    /** A common prompt prefix shorter than this is not worth a separate forward. */
    static final int MIN_SHARED_PREFIX = 4;

    private final LlamaModel model;
    private final Tokenizer tokenizer;
    private final Set<Integer> stopIds;
    /** Whether a prompt may copy the keys/values of its common start with the previous call's first prompt. */
    private final boolean reuseAcrossCalls;
    /** The previous call's first prompt and its cache (positions below retainedTokens.length hold that prompt). */
    private int[] retainedTokens;
    private KvCache retained;

    /**
     * Totals over every call: time and tokens run in prefill and decode, prompt tokens not run because
     * their keys/values were copied from an identical prefix, prompts cut to fit the context.
     */
    public long prefillNanos, decodeNanos, prefillTokens, decodeTokens, sharedPrefixTokens;
    public int truncatedPrompts;

    public BatchGenerator(LlamaModel model, Tokenizer tokenizer) {
        this(model, tokenizer, true);
    }

    /**
     * @param reuseAcrossCalls keep the first prompt's keys/values of each call for the next one (the
     *                         model's weights must not change between calls; false: every call starts cold)
     */
    public BatchGenerator(LlamaModel model, Tokenizer tokenizer, boolean reuseAcrossCalls) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.stopIds = tokenizer.stopIds();
        this.reuseAcrossCalls = reuseAcrossCalls;
    }

    @Override
    public List<String> generate(List<String> prompts, int maxNewTokens) {
        int[][] ids = new int[prompts.size()][];
        for (int i = 0; i < ids.length; i++) ids[i] = fitContext(tokenizer.encode(prompts.get(i), tokenizer.addsBosByDefault()), maxNewTokens);
        int[][] out = generateIds(ids, maxNewTokens);
        List<String> texts = new ArrayList<>(out.length);
        for (int[] o : out) texts.add(tokenizer.decode(o, true));
        return texts;
    }

    /**
     * A prompt too long to leave room for the answer keeps its first token when it is BOS and its
     * last tokens (the question and "Answer:" are at the end of FinLoRA prompts). Room kept: all of
     * maxNewTokens, but at most half the context.
     */
    int[] fitContext(int[] ids, int maxNewTokens) {
        int ctx = model.config.maxSeqLen();
        int limit = ctx - Math.min(Math.max(0, maxNewTokens), ctx / 2);
        if (ids.length <= limit) return ids;
        truncatedPrompts++;
        boolean bos = ids.length > 0 && ids[0] == tokenizer.bosId();
        int[] cut = new int[limit];
        int keep = bos ? limit - 1 : limit;
        if (bos) cut[0] = ids[0];
        System.arraycopy(ids, ids.length - keep, cut, limit - keep, keep);
        return cut;
    }

    /**
     * Greedy continuation ids of every prompt (each non-empty and shorter than the context), stop
     * token excluded; computed together.
     */
    public int[][] generateIds(int[][] prompts, int maxNewTokens) {
        int B = prompts.length;
        int ctx = model.config.maxSeqLen(), vocab = model.config.vocabSize();
        for (int[] p : prompts) {
            if (p.length == 0) throw new FinloraException("generate: empty prompt (the tokenizer added no BOS)");
            if (p.length >= ctx) throw new FinloraException("prompt of " + p.length + " tokens does not fit the context length " + ctx);
        }
        int max = Math.max(0, maxNewTokens);
        int[][] out = new int[B][max];
        int[] produced = new int[B];
        if (B == 0 || max == 0) return trimmed(out, produced);

        KvCache[] caches = new KvCache[B];
        int[] capacity = new int[B];
        for (int b = 0; b < B; b++) {
            capacity[b] = (int) Math.min(ctx, (long) prompts[b].length + max);
            caches[b] = model.newCache(capacity[b]);
        }
        float[] logits = new float[B * vocab];   // row b: logits for sequence b's next token

        long t0 = System.nanoTime();
        prefill(prompts, caches, logits, vocab);
        long t1 = System.nanoTime();
        if (reuseAcrossCalls) {
            // decode only writes positions past the prompt, so caches[0] keeps prompts[0] intact
            retainedTokens = prompts[0];
            retained = caches[0];
        }

        // Decode: pick each live sequence's token, then run all that continue in one step.
        int[] pos = new int[B];
        for (int b = 0; b < B; b++) pos[b] = prompts[b].length;
        boolean[] live = new boolean[B];
        Arrays.fill(live, true);
        int[] seq = new int[B], stepPos = new int[B], ones = new int[B];
        Arrays.fill(ones, 1);
        while (true) {
            int n = 0;
            for (int b = 0; b < B; b++) {
                if (!live[b]) continue;
                int id = Sampler.argmax(logits, b * vocab, vocab);
                if (stopIds.contains(id)) {
                    live[b] = false;
                    continue;
                }
                out[b][produced[b]++] = id;
                if (produced[b] == max || pos[b] >= capacity[b]) {
                    live[b] = false;
                    continue;
                }
                seq[n] = b;
                stepPos[n] = pos[b]++;
                n++;
            }
            if (n == 0) break;
            // The token each sequence runs is the one it just produced: out[b][produced[b] - 1].
            KvCache[] stepCaches = new KvCache[n];
            int[][] stepTokens = new int[n][];
            int[] stepOff = new int[n];
            for (int i = 0; i < n; i++) {
                stepCaches[i] = caches[seq[i]];
                stepTokens[i] = out[seq[i]];
                stepOff[i] = produced[seq[i]] - 1;
            }
            float[] step = model.forwardBatch(stepCaches, stepTokens, stepOff, Arrays.copyOf(ones, n), Arrays.copyOf(stepPos, n));
            for (int i = 0; i < n; i++) System.arraycopy(step, i * vocab, logits, seq[i] * vocab, vocab);
            decodeTokens += n;
        }
        prefillNanos += t1 - t0;
        decodeNanos += System.nanoTime() - t1;
        return trimmed(out, produced);
    }

    /**
     * Runs every prompt through the model, packing up to PREFILL_ROWS rows per forward (a long
     * prompt is split across calls); when a prompt's last row has run, its logits go to its row of
     * {@code logits}.
     */
    private void prefill(int[][] prompts, KvCache[] caches, float[] logits, int vocab) {
        int B = prompts.length;
        int[] done = new int[B];
        if (retained != null) {
            // The start this prompt has in common with the previous call's first prompt is already computed.
            for (int b = 0; b < B; b++) {
                int n = Math.min(commonStart(prompts[b], retainedTokens), prompts[b].length - 1);
                if (n < MIN_SHARED_PREFIX) continue;
                caches[b].copyPrefix(retained, n);
                done[b] = n;
                sharedPrefixTokens += n;
            }
        }
        int shared = sharedPrefix(prompts);
        if (shared - Arrays.stream(done).min().orElse(0) >= MIN_SHARED_PREFIX) {
            // FinLoRA prompts of a task start with the same instruction: run it once, copy its keys/values.
            for (int p = done[0]; p < shared; p += PREFILL_ROWS) {
                int n = Math.min(PREFILL_ROWS, shared - p);
                model.forwardBatch(new KvCache[]{caches[0]}, new int[][]{prompts[0]}, new int[]{p}, new int[]{n}, new int[]{p});
                prefillTokens += n;
            }
            for (int b = 1; b < B; b++) {
                if (done[b] >= shared) continue;
                caches[b].copyPrefix(caches[0], shared);
                sharedPrefixTokens += shared - done[b];
                done[b] = shared;
            }
            done[0] = Math.max(done[0], shared);
        }
        int first = 0;   // sequences before this one are fully prefilled
        while (first < B) {
            List<Integer> members = new ArrayList<>();
            List<Integer> counts = new ArrayList<>();
            int budget = PREFILL_ROWS;
            for (int b = first; b < B && budget > 0; b++) {
                int n = Math.min(prompts[b].length - done[b], budget);
                if (n == 0) continue;
                members.add(b);
                counts.add(n);
                budget -= n;
            }
            int m = members.size();
            KvCache[] cs = new KvCache[m];
            int[][] toks = new int[m][];
            int[] off = new int[m], cnt = new int[m], pos = new int[m];
            for (int i = 0; i < m; i++) {
                int b = members.get(i);
                cs[i] = caches[b];
                toks[i] = prompts[b];
                off[i] = done[b];
                cnt[i] = counts.get(i);
                pos[i] = done[b];
            }
            float[] last = model.forwardBatch(cs, toks, off, cnt, pos);
            for (int i = 0; i < m; i++) {
                int b = members.get(i);
                done[b] += cnt[i];
                prefillTokens += cnt[i];
                if (done[b] == prompts[b].length) System.arraycopy(last, i * vocab, logits, b * vocab, vocab);
            }
            while (first < B && done[first] == prompts[first].length) first++;
        }
    }

    /** Length of the common start of a and b. */
    static int commonStart(int[] a, int[] b) {
        int n = Math.min(a.length, b.length), k = 0;
        while (k < n && a[k] == b[k]) k++;
        return k;
    }

    /**
     * Tokens at the start of every prompt that are the same in all of them, leaving each prompt at
     * least one token of its own (its last row gives its first logits); 0 for a single prompt.
     */
    static int sharedPrefix(int[][] prompts) {
        if (prompts.length < 2) return 0;
        int n = Integer.MAX_VALUE;
        for (int[] p : prompts) n = Math.min(n, p.length - 1);
        int[] first = prompts[0];
        for (int b = 1; b < prompts.length && n > 0; b++) {
            int k = 0;
            while (k < n && prompts[b][k] == first[k]) k++;
            n = k;
        }
        return Math.max(0, n);
    }

    private static int[][] trimmed(int[][] out, int[] produced) {
        int[][] r = new int[out.length][];
        for (int b = 0; b < out.length; b++) r[b] = Arrays.copyOf(out[b], produced[b]);
        return r;
    }
}
