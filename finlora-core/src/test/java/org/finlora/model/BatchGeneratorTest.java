package org.finlora.model;

import org.finlora.data.Datasets;
import org.finlora.data.Example;
import org.finlora.io.Checkpoint;
import org.finlora.io.ModelLoader;
import org.finlora.lora.AdaptedWeights;
import org.finlora.lora.LoraAdapter;
import org.finlora.lora.LoraConfig;
import org.finlora.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** LlamaModel.forwardBatch against forward, and BatchGenerator against one-at-a-time Generator, on stories260K. */
class BatchGeneratorTest {
    static Checkpoint ck;
    static LlamaModel model;
    static Tokenizer tok;

    @BeforeAll
    static void load() {
        ck = ModelLoader.load(SharedModels.path("models/stories260K/stories260K.bin").toString(), null);
        model = LlamaModel.load(ck, null);
        tok = ck.tokenizer();
    }

    @AfterAll
    static void close() {
        if (ck != null) ck.close();
    }

    /** Prompts of very different lengths: BOS only, a few words, FinLoRA FPB contexts (~100-200 tokens). */
    static List<String> prompts(int fpbRows) {
        List<String> p = new ArrayList<>(List.of("", "Once upon a time", "Lily and Tom went to the park to play with a ball.", "The cat"));
        Path fpb = SharedModels.path("data/fpb_dev.jsonl");
        if (Files.isRegularFile(fpb)) for (Example e : Datasets.read(fpb, fpbRows)) p.add(e.context());
        return p;
    }

    static int[][] encode(List<String> prompts) {
        int[][] ids = new int[prompts.size()][];
        for (int i = 0; i < ids.length; i++) ids[i] = tok.encode(prompts.get(i), tok.addsBosByDefault());
        return ids;
    }

    static int[][] oneAtATime(LlamaModel m, int[][] prompts, int maxNew) {
        int[][] out = new int[prompts.length][];
        for (int i = 0; i < prompts.length; i++) out[i] = new Generator(m, tok).generate(prompts[i], maxNew, Sampler.greedy(), null);
        return out;
    }

    static void assertClose(float[] ref, int refOff, float[] got, int gotOff, int n, double tol, String what) {
        for (int i = 0; i < n; i++) assertEquals(ref[refOff + i], got[gotOff + i], tol, what + " at " + i);
    }

    @Test
    void raggedForwardMatchesPerSequenceForward() {
        int V = model.config.vocabSize();
        int[][] seqs = encode(List.of("Once upon a time there was", "The dog ran", "A"));
        // reference: each sequence alone, all positions
        float[][] ref = new float[seqs.length][];
        for (int b = 0; b < seqs.length; b++) ref[b] = model.forwardAll(seqs[b]);
        KvCache[] caches = new KvCache[seqs.length];
        for (int b = 0; b < seqs.length; b++) caches[b] = model.newCache(seqs[b].length);
        // ragged prefill of different prefix lengths (at least one token left for decode)
        int[] pre = new int[seqs.length];
        for (int b = 0; b < seqs.length; b++) pre[b] = Math.max(1, seqs[b].length - 1 - b);
        float[] last = model.forwardBatch(caches, seqs, new int[seqs.length], pre, new int[seqs.length]);
        assertEquals(seqs.length * V, last.length);
        for (int b = 0; b < seqs.length; b++) assertClose(ref[b], (pre[b] - 1) * V, last, b * V, V, 1e-4, "prefill seq " + b);
        // then batched decode steps, each sequence at its own position, dropping sequences as they end
        int[] pos = pre.clone();
        while (true) {
            List<Integer> live = new ArrayList<>();
            for (int b = 0; b < seqs.length; b++) if (pos[b] < seqs[b].length) live.add(b);
            if (live.isEmpty()) break;
            int n = live.size();
            KvCache[] cs = new KvCache[n];
            int[][] toks = new int[n][];
            int[] off = new int[n], cnt = new int[n], ps = new int[n];
            for (int i = 0; i < n; i++) {
                int b = live.get(i);
                cs[i] = caches[b];
                toks[i] = seqs[b];
                off[i] = pos[b];
                cnt[i] = 1;
                ps[i] = pos[b];
            }
            float[] step = model.forwardBatch(cs, toks, off, cnt, ps);
            for (int i = 0; i < n; i++) {
                int b = live.get(i);
                assertClose(ref[b], pos[b] * V, step, i * V, V, 1e-4, "decode seq " + b + " pos " + pos[b]);
                pos[b]++;
            }
        }
    }

    @Test
    void forwardBatchRejectsAFullCache() {
        KvCache c = model.newCache(2);
        int[][] t = {{1, 2, 3}};
        var e = org.junit.jupiter.api.Assertions.assertThrows(org.finlora.FinloraException.class,
                () -> model.forwardBatch(new KvCache[]{c}, t, new int[]{0}, new int[]{3}, new int[]{0}));
        assertTrue(e.getMessage().contains("context full"), e.getMessage());
    }

    @Test
    void batchedGreedyEqualsOneAtATime() {
        int[][] prompts = encode(prompts(6));
        int[] lens = Arrays.stream(prompts).mapToInt(p -> p.length).toArray();
        assertTrue(Arrays.stream(lens).sum() > BatchGenerator.PREFILL_ROWS, "prefill should need several packed calls: " + Arrays.toString(lens));
        int maxNew = 48;
        int[][] ref = oneAtATime(model, prompts, maxNew);
        BatchGenerator g = new BatchGenerator(model, tok);
        int[][] got = g.generateIds(prompts, maxNew);
        for (int i = 0; i < prompts.length; i++) assertArrayEquals(ref[i], got[i], "prompt " + i + " (" + lens[i] + " tokens)");
        assertEquals(Arrays.stream(lens).sum(), g.prefillTokens);
        assertEquals(0, g.sharedPrefixTokens, "the BOS-only prompt leaves no prefix to share");
        // batches of other sizes and orders give the same tokens
        for (int bs : new int[]{1, 3}) {
            for (int s = 0; s < prompts.length; s += bs) {
                int[][] part = Arrays.copyOfRange(prompts, s, Math.min(prompts.length, s + bs));
                int[][] r = new BatchGenerator(model, tok).generateIds(part, maxNew);
                for (int i = 0; i < part.length; i++) assertArrayEquals(ref[s + i], r[i], "batch size " + bs + ", prompt " + (s + i));
            }
        }
    }

    @Test
    void batchSizeOneAndSevenGiveTheSameAnswers() {
        // The eval loop's view: the same prompts (BOS only, short stories, FPB contexts) in batches of 1 and of 7.
        List<String> prompts = prompts(10);
        assertTrue(prompts.size() > 7, "needs a full batch of 7 and a ragged remainder: " + prompts.size());
        int maxNew = 12;
        List<String> one = new ArrayList<>(), seven = new ArrayList<>();
        BatchGenerator g1 = new BatchGenerator(model, tok), g7 = new BatchGenerator(model, tok);
        for (int s = 0; s < prompts.size(); s++) one.addAll(g1.generate(prompts.subList(s, s + 1), maxNew));
        for (int s = 0; s < prompts.size(); s += 7) seven.addAll(g7.generate(prompts.subList(s, Math.min(prompts.size(), s + 7)), maxNew));
        assertEquals(one, seven);
        assertEquals(g1.decodeTokens, g7.decodeTokens, "the same number of decode steps per sequence");
        assertTrue(one.stream().anyMatch(t -> !t.isEmpty()), "something was generated");
    }

    @Test
    void sharedInstructionPrefixIsRunOnceAndGivesTheSameTokens() {
        List<String> all = prompts(5);
        List<String> fpb = all.subList(4, all.size());   // FinLoRA FPB contexts: same instruction, different sentences
        int[][] prompts = encode(fpb);
        int shared = BatchGenerator.sharedPrefix(prompts);
        assertTrue(shared > 40, "FPB prompts share their instruction: " + shared + " tokens");
        int maxNew = 16;
        int[][] ref = oneAtATime(model, prompts, maxNew);
        BatchGenerator g = new BatchGenerator(model, tok);
        int[][] got = g.generateIds(prompts, maxNew);
        for (int i = 0; i < prompts.length; i++) assertArrayEquals(ref[i], got[i], "prompt " + i);
        int total = Arrays.stream(prompts).mapToInt(p -> p.length).sum();
        assertEquals((long) shared * (prompts.length - 1), g.sharedPrefixTokens);
        assertEquals(total - g.sharedPrefixTokens, g.prefillTokens);
    }

    @Test
    void laterCallsReuseTheInstructionOfThePreviousCall() {
        List<String> all = prompts(5);
        int[][] prompts = encode(all.subList(4, all.size()));   // FPB contexts: same instruction, different sentences
        int shared = BatchGenerator.sharedPrefix(prompts);
        assertTrue(prompts.length >= 3 && shared > 40, prompts.length + " prompts sharing " + shared + " tokens");
        int maxNew = 16;
        int[][] ref = oneAtATime(model, prompts, maxNew);
        // one prompt per call, as batch size 1 does: every call after the first copies its common start with the previous prompt
        BatchGenerator g = new BatchGenerator(model, tok);
        long expectShared = 0;
        for (int i = 0; i < prompts.length; i++) {
            int[][] got = g.generateIds(new int[][]{prompts[i]}, maxNew);
            assertArrayEquals(ref[i], got[0], "prompt " + i);
            if (i > 0) expectShared += Math.min(BatchGenerator.commonStart(prompts[i], prompts[i - 1]), prompts[i].length - 1);
        }
        assertTrue(expectShared >= (long) shared * (prompts.length - 1), "each later prompt shares at least the instruction: " + expectShared);
        assertEquals(expectShared, g.sharedPrefixTokens);
        int total = Arrays.stream(prompts).mapToInt(p -> p.length).sum();
        assertEquals(total - expectShared, g.prefillTokens);
        // batches of two: the second batch starts from the first batch's first prompt, then shares within itself
        BatchGenerator g2 = new BatchGenerator(model, tok);
        for (int s = 0; s < prompts.length; s += 2) {
            int[][] part = Arrays.copyOfRange(prompts, s, Math.min(prompts.length, s + 2));
            int[][] got = g2.generateIds(part, maxNew);
            for (int i = 0; i < part.length; i++) assertArrayEquals(ref[s + i], got[i], "batch of 2, prompt " + (s + i));
        }
        assertTrue(g2.sharedPrefixTokens >= (long) shared * (prompts.length - 1), "shared " + g2.sharedPrefixTokens);
        // switched off, a call starts cold
        BatchGenerator cold = new BatchGenerator(model, tok, false);
        for (int[] p : prompts) cold.generateIds(new int[][]{p}, maxNew);
        assertEquals(0, cold.sharedPrefixTokens);
        assertEquals(total, cold.prefillTokens);
    }

    @Test
    void sharedPrefixLeavesEveryPromptALastToken() {
        assertEquals(0, BatchGenerator.sharedPrefix(new int[][]{{1, 2, 3}}));
        assertEquals(2, BatchGenerator.sharedPrefix(new int[][]{{1, 2, 3, 4}, {1, 2, 5}, {1, 2, 3, 9}}));
        assertEquals(2, BatchGenerator.sharedPrefix(new int[][]{{1, 2, 3}, {1, 2, 3}}), "identical prompts keep one token each");
        assertEquals(0, BatchGenerator.sharedPrefix(new int[][]{{1}, {1, 2}}));
        assertEquals(0, BatchGenerator.sharedPrefix(new int[][]{{7, 2}, {1, 2}}));
    }

    @Test
    void stopsAtEosAndAtTheContextEndLikeGenerator() {
        // A long story from BOS reaches EOS (id 2) before 400 tokens; a 460-token prompt hits the 512-token context.
        int[] bos = {1};
        int[] longPrompt = new int[460];
        int[] story = new Generator(model, tok).generate(bos, 459, Sampler.greedy(), null);
        longPrompt[0] = 1;
        for (int i = 1; i < longPrompt.length; i++) longPrompt[i] = story[(i - 1) % story.length];
        int[][] prompts = {bos, longPrompt, tok.encode("Once upon a time", true)};
        int maxNew = 400;
        int[][] ref = oneAtATime(model, prompts, maxNew);
        int[][] got = new BatchGenerator(model, tok).generateIds(prompts, maxNew);
        for (int i = 0; i < prompts.length; i++) assertArrayEquals(ref[i], got[i], "prompt " + i);
        assertTrue(ref[0].length < maxNew, "story from BOS should end with EOS, got " + ref[0].length + " tokens");
        assertEquals(512 - 460 + 1, ref[1].length, "the long prompt stops at the context end (the last token needs no forward)");
    }

    @Test
    void textApiDecodesTheContinuationOnly() {
        List<String> prompts = List.of("Once upon a time", "The cat sat");
        List<String> got = new BatchGenerator(model, tok).generate(prompts, 20);
        assertEquals(2, got.size());
        for (int i = 0; i < prompts.size(); i++) {
            int[] ids = tok.encode(prompts.get(i), tok.addsBosByDefault());
            assertEquals(1, ids[0], "BOS first");
            int[] ref = new Generator(model, tok).generate(ids, 20, Sampler.greedy(), null);
            assertEquals(tok.decode(ref, true), got.get(i));
        }
        assertTrue(got.get(0).startsWith(", there was a little girl named Lily"), got.get(0));
        assertEquals(List.of(), new BatchGenerator(model, tok).generate(List.of(), 10));
        assertEquals(List.of("", ""), new BatchGenerator(model, tok).generate(prompts, 0));
    }

    @Test
    void overlongPromptKeepsBosAndItsEnd() {
        BatchGenerator g = new BatchGenerator(model, tok);
        int[] ids = new int[600];
        ids[0] = 1;
        for (int i = 1; i < ids.length; i++) ids[i] = 3 + i % 200;
        int[] cut = g.fitContext(ids, 10);
        assertEquals(502, cut.length);
        assertEquals(1, cut[0]);
        assertArrayEquals(Arrays.copyOfRange(ids, 600 - 501, 600), Arrays.copyOfRange(cut, 1, 502));
        assertEquals(1, g.truncatedPrompts);
        assertEquals(256, g.fitContext(ids, 1000).length, "at most half the context is kept free");
        assertEquals(2, g.truncatedPrompts);
        int[] shortIds = {1, 5, 6};
        assertTrue(shortIds == g.fitContext(shortIds, 10));
        // generation on the cut prompt runs and fills the remaining room
        List<String> out = g.generate(List.of("a ".repeat(700)), 10);
        assertEquals(1, out.size());
        assertEquals(3, g.truncatedPrompts);
    }

    /** The test model under a rank-4 adapter whose B is random (a fresh adapter's B is zero and changes nothing). */
    static LlamaModel adaptedModel(long initSeed, long bSeed) {
        LoraAdapter ad = LoraAdapter.init(LoraConfig.of(4, 8f, 0f), model.config, initSeed);
        SplittableRandom rng = new SplittableRandom(bSeed);
        for (int l = 0; l < ad.nLayers; l++) {
            for (int m = 0; m < 7; m++) {
                float[] b = ad.b(l, m);
                if (b == null) continue;
                for (int i = 0; i < b.length; i++) b[i] = (float) ((rng.nextDouble() * 2 - 1) * 0.3);
            }
        }
        return new LlamaModel(AdaptedWeights.with(model.weights, ad));
    }

    @Test
    void longPrefillWithAnAdapterEqualsTokenByToken() {
        // a prefill of 64+ tokens takes the GEMM route for plain weights; an adapted weight must keep its low-rank term there
        LlamaModel adapted = adaptedModel(5, 3);
        int T = 80, V = model.config.vocabSize();
        int[] tokens = new int[T];
        tokens[0] = 1;
        for (int t = 1; t < T; t++) tokens[t] = 3 + (t * 37) % 400;
        float[] all = adapted.forwardAll(tokens);
        KvCache c = adapted.newCache(T);
        for (int t = 0; t < T; t++) {
            float[] step = adapted.forward(c, tokens, t, 1, t, false);
            if (t % 7 == 0 || t == T - 1) assertClose(step, 0, all, t * V, V, 1e-4, "adapter logits, token " + t);
        }
        float[] base = model.forwardAll(tokens);
        double diff = 0;
        for (int i = (T - 1) * V; i < T * V; i++) diff = Math.max(diff, Math.abs(base[i] - all[i]));
        assertTrue(diff > 1e-2, "the adapter changes the logits: " + diff);
    }

    @Test
    void batchedGreedyEqualsOneAtATimeWithLoraAdapter() {
        LlamaModel adapted = adaptedModel(7, 11);
        int[][] prompts = encode(prompts(3));
        int maxNew = 24;
        int[][] ref = oneAtATime(adapted, prompts, maxNew);
        int[][] got = new BatchGenerator(adapted, tok).generateIds(prompts, maxNew);
        for (int i = 0; i < prompts.length; i++) assertArrayEquals(ref[i], got[i], "adapter, prompt " + i);
        int[][] base = new BatchGenerator(model, tok).generateIds(prompts, maxNew);
        boolean differs = false;
        for (int i = 0; i < prompts.length; i++) differs |= !Arrays.equals(base[i], got[i]);
        assertTrue(differs, "the adapter should change some generations");
        assertFalse(adapted.weights.layers[0].wq().format().equals(model.weights.layers[0].wq().format()));
    }
}
