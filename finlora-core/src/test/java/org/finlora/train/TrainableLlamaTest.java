package org.finlora.train;

import org.finlora.lora.LoraAdapter;
import org.finlora.lora.LoraConfig;
import org.finlora.model.LlamaConfig;
import org.finlora.model.LlamaWeights;
import org.finlora.train.optim.AdamW;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class TrainableLlamaTest {
    static final int B = 2, T = 6;
    static final int[] TOKENS = {1, 5, 9, 33, 2, 17, 1, 30, 4, 12, 0, 0};
    static final int[] LENGTHS = {6, 4};
    // row 0: prompt 1,5 masked; row 1: padding masked
    static final int[] LABELS = {-100, -100, 9, 33, 2, 17, -100, 30, 4, 12, -100, -100};

    private static LoraAdapter randomAdapter(LlamaConfig c, LoraConfig lc, long seed) {
        LoraAdapter ad = LoraAdapter.init(lc, c, seed);
        Random rng = new Random(seed + 1);
        for (int l = 0; l < c.nLayers(); l++)
            for (int m = 0; m < 7; m++) {
                float[] b = ad.b(l, m);
                if (b == null) continue;
                for (int i = 0; i < b.length; i++) b[i] = (float) rng.nextGaussian() * 0.2f;
                float[] a = ad.a(l, m);
                for (int i = 0; i < a.length; i++) a[i] *= 2f;
            }
        return ad;
    }

    @Test
    void loraGradientsMatchFiniteDifferencesOfTheLoss() {
        for (boolean interleaved : new boolean[]{false, true}) {
            LlamaConfig c = TinyLlama.config(interleaved);
            LlamaWeights w = TinyLlama.weights(c, 11);
            LoraConfig lc = new LoraConfig(3, 5f, 0f, LoraConfig.ALL_TARGETS, false, false, "default", null);
            LoraAdapter ad = randomAdapter(c, lc, 7);
            TrainableLlama model = new TrainableLlama(w, ad, B, T, false, 1);
            model.zeroGrad();
            double loss = model.forwardBackward(TOKENS, LABELS, LENGTHS, B, T, 0);
            assertTrue(loss > 0.5 && loss < 30, "loss " + loss);
            List<float[]> params = ad.tensors(), grads = model.grads.tensors();
            List<String> names = ad.tensorNames();
            for (int i = 0; i < params.size(); i++) {
                float[] p = params.get(i);
                GradCheck.check(names.get(i) + " interleaved=" + interleaved, p, grads.get(i), p.length,
                        () -> model.forward(TOKENS, LABELS, LENGTHS, B, T, 0, false), 1e-2f, 3e-2);
            }
        }
    }

    @Test
    void checkpointingAndDropoutReproduceTheSameGradients() {
        LlamaConfig c = TinyLlama.config(false);
        LlamaWeights w = TinyLlama.weights(c, 12);
        LoraConfig lc = new LoraConfig(4, 8f, 0.2f, List.of("q_proj", "v_proj", "down_proj"), true, false, "default", null);
        LoraAdapter ad = randomAdapter(c, lc, 9);
        TrainableLlama plain = new TrainableLlama(w, ad, B, T, false, 5);
        TrainableLlama ckpt = new TrainableLlama(w, ad, B, T, true, 5);
        plain.zeroGrad();
        ckpt.zeroGrad();
        double l1 = plain.forwardBackward(TOKENS, LABELS, LENGTHS, B, T, 0);
        double l2 = ckpt.forwardBackward(TOKENS, LABELS, LENGTHS, B, T, 0);
        assertEquals(l1, l2, 0);
        List<float[]> g1 = plain.grads.tensors(), g2 = ckpt.grads.tensors();
        assertEquals(6 * 2, g1.size());
        for (int i = 0; i < g1.size(); i++) assertArrayEquals(g1.get(i), g2.get(i), 0f);
        // dropout changes the loss (vs evaluation mode) and the mask changes between forwards
        plain.setTraining(false);
        double eval = plain.forward(TOKENS, LABELS, LENGTHS, B, T, 0, false);
        assertNotEquals(l1, eval);
        plain.setTraining(true);
        assertNotEquals(l1, plain.forward(TOKENS, LABELS, LENGTHS, B, T, 0, false));
        assertTrue(plain.memoryPlan().activations() > ckpt.memoryPlan().activations());
        // gradient-check the dropout path: with fixed masks the loss is a function of A and B
        TrainableLlama fixed = new TrainableLlama(w, ad, B, T, true, 77);
        fixed.setFixedDropoutMasks(true);
        fixed.zeroGrad();
        fixed.forwardBackward(TOKENS, LABELS, LENGTHS, B, T, 0);
        List<float[]> params = ad.tensors(), grads = fixed.grads.tensors();
        for (int i : new int[]{0, 1, 4, 5, 10, 11}) {
            GradCheck.check(ad.tensorNames().get(i) + " with dropout", params.get(i), grads.get(i), params.get(i).length,
                    () -> fixed.forward(TOKENS, LABELS, LENGTHS, B, T, 0, false), 1e-2f, 3e-2);
        }
    }

    @Test
    void batchRowsAreIndependentOfPadding() {
        // row 1 alone (T=4, no padding) gives the same loss sum as inside the padded batch
        LlamaConfig c = TinyLlama.config(false);
        LlamaWeights w = TinyLlama.weights(c, 13);
        LoraAdapter ad = randomAdapter(c, LoraConfig.of(2, 4f, 0f), 3);
        TrainableLlama m = new TrainableLlama(w, ad, B, T, false, 0);
        double both = m.forward(TOKENS, LABELS, LENGTHS, B, T, 1.0, false);
        double row0 = m.forward(java.util.Arrays.copyOf(TOKENS, 6), java.util.Arrays.copyOf(LABELS, 6), new int[]{6}, 1, 6, 1.0, false);
        double row1 = m.forward(new int[]{1, 30, 4, 12}, new int[]{-100, 30, 4, 12}, new int[]{4}, 1, 4, 1.0, false);
        assertEquals(both, row0 + row1, 1e-4);
    }

    @Test
    void overfitsEightSequencesWithAdamW() {
        LlamaConfig c = TinyLlama.config(false);
        LlamaWeights w = TinyLlama.weights(c, 21);
        LoraAdapter ad = LoraAdapter.init(LoraConfig.of(8, 16f, 0f), c, 4);
        int nb = 8, t = 8;
        Random rng = new Random(99);
        int[] tokens = new int[nb * t], labels = new int[nb * t], lengths = new int[nb];
        for (int b = 0; b < nb; b++) {
            lengths[b] = 5 + b % 4;
            for (int i = 0; i < t; i++) {
                tokens[b * t + i] = i == 0 ? 1 + 4 * b : i < lengths[b] ? 1 + rng.nextInt(36) : 0;   // distinct first tokens: no ambiguous prefix
                labels[b * t + i] = i < lengths[b] && i > 0 ? tokens[b * t + i] : -100;
            }
        }
        TrainableLlama model = new TrainableLlama(w, ad, nb, t, false, 0);
        AdamW opt = AdamW.hfDefaults(ad.tensors());
        double first = 0, loss = 0;
        for (int step = 0; step < 200; step++) {
            model.zeroGrad();
            loss = model.forwardBackward(tokens, labels, lengths, nb, t, 0);
            if (step == 0) first = loss;
            opt.step(model.grads.tensors(), 2e-2f);
        }
        assertTrue(first > 3, "initial loss " + first);
        assertTrue(loss < 0.05, "final loss " + loss);
    }

    @Test
    void accumulationEqualsOneBigBatch() {
        LlamaConfig c = TinyLlama.config(true);
        LlamaWeights w = TinyLlama.weights(c, 31);
        LoraAdapter ad = randomAdapter(c, LoraConfig.of(2, 4f, 0f), 5);
        TrainableLlama big = new TrainableLlama(w, ad, B, T, false, 0);
        big.zeroGrad();
        double lBig = big.forwardBackward(TOKENS, LABELS, LENGTHS, B, T, 0);
        TrainableLlama small = new TrainableLlama(w, ad, 1, T, false, 0);
        List<Batch> micro = new ArrayList<>();
        micro.add(new Batch(java.util.Arrays.copyOfRange(TOKENS, 0, 6), java.util.Arrays.copyOfRange(LABELS, 0, 6), new int[]{6}, 1, 6));
        micro.add(new Batch(java.util.Arrays.copyOfRange(TOKENS, 6, 12), java.util.Arrays.copyOfRange(LABELS, 6, 12), new int[]{4}, 1, 6));
        double lAcc = GradientAccumulation.run(small, micro);
        assertEquals(lBig, lAcc, 1e-5);
        List<float[]> g1 = big.grads.tensors(), g2 = small.grads.tensors();
        for (int i = 0; i < g1.size(); i++) assertArrayEquals(g1.get(i), g2.get(i), 1e-5f);
    }
}
