package org.finlora.cli;

import org.finlora.FinloraException;
import org.finlora.io.Checkpoint;
import org.finlora.io.ModelLoader;
import org.finlora.kernel.Parallel;
import org.finlora.lora.LoraAdapter;
import org.finlora.lora.LoraConfig;
import org.finlora.model.LlamaWeights;
import org.finlora.train.BaseWeights;
import org.finlora.train.TrainableLlama;
import org.finlora.train.optim.AdamW;
import org.finlora.train.optim.GradClip;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * {@code finlora bench train}: LoRA training throughput on random full-length sequences (every
 * token counted): forward + backward + clip + AdamW per step, timed after --warmup untimed steps.
 */
@Command(name = "train", description = "LoRA training tokens/s and peak RSS (random ids, loss on every token).")
final class BenchTrainCommand implements Runnable {
    @Option(names = "--model", defaultValue = "synthetic:llama-3.2-1b", description = "Model (default: ${DEFAULT-VALUE}).")
    String model;
    @Option(names = "--tokenizer", description = "Tokenizer file for llama2.c checkpoints.")
    Path tokenizer;
    @Option(names = "--quant", defaultValue = "nf4", description = "Base weights: nf4, fp4, int8, none, ... (default: ${DEFAULT-VALUE}).")
    String quant;
    @Option(names = "--rank", defaultValue = "8", description = "LoRA rank (default: ${DEFAULT-VALUE}).")
    int rank;
    @Option(names = "--target-modules", split = ",", description = "Projections to adapt (default: all seven).")
    List<String> targets;
    @Option(names = "--seq-len", defaultValue = "256", description = "Tokens per sequence (default: ${DEFAULT-VALUE}).")
    int seqLen;
    @Option(names = "--batch-size", defaultValue = "4", description = "Sequences per step (default: ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--steps", defaultValue = "3", description = "Timed steps (default: ${DEFAULT-VALUE}).")
    int steps;
    @Option(names = "--warmup", defaultValue = "1", description = "Untimed steps before the timed ones (default: ${DEFAULT-VALUE}).")
    int warmup;
    @Option(names = "--checkpointing", description = "Activation recomputation per layer.")
    boolean checkpointing;
    @Option(names = "--threads", description = "Worker threads (default: all processors).")
    Integer threads;

    @Override
    public void run() {
        if (steps < 1 || warmup < 0 || seqLen < 2 || batchSize < 1) {
            throw new FinloraException("--steps >= 1, --warmup >= 0, --seq-len >= 2 and --batch-size >= 1 are needed");
        }
        if (threads != null) Parallel.setThreads(threads);
        long tLoad = System.nanoTime();
        try (Checkpoint ck = ModelLoader.load(model, tokenizer)) {
            LlamaWeights w = BaseWeights.load(ck, quant, false);
            double loadS = (System.nanoTime() - tLoad) / 1e9;
            LoraConfig lc = new LoraConfig(rank, 16f, 0.05f, FinetuneCommand.targets(targets), false, false, "default", model);
            LoraAdapter ad = LoraAdapter.init(lc, w, 42);
            TrainableLlama m = new TrainableLlama(w, ad, batchSize, seqLen, checkpointing, 42);
            AdamW opt = AdamW.hfDefaults(ad.tensors());
            System.out.println(m.memoryPlan().withOptimizerState(opt.stateBytes()));
            System.out.printf(Locale.ROOT, "model %s, quant %s, loaded in %.1f s; rank %d, batch %d x %d tokens%s%n", model, quant, loadS,
                    rank, batchSize, seqLen, checkpointing ? ", activation checkpointing" : "");
            int n = batchSize * seqLen, vocab = w.config.vocabSize();
            int[] ids = new int[n];
            SplittableRandom rng = new SplittableRandom(1);
            for (int i = 0; i < n; i++) ids[i] = rng.nextInt(vocab);
            List<float[]> grads = m.grads.tensors();
            long timed = 0, cpu0 = 0;
            for (int s = 0; s < warmup + steps; s++) {
                if (s == warmup) {
                    timed = System.nanoTime();
                    cpu0 = BenchCommand.processCpuNanos();
                }
                long t = System.nanoTime();
                m.zeroGrad();
                double loss = m.forwardBackward(ids, ids, null, batchSize, seqLen, 0);
                GradClip.clipByGlobalNorm(grads, 1.0);
                opt.step(grads, 1e-4);
                System.out.printf(Locale.ROOT, "%s step %d: loss %.4f, %.2f s%n", s < warmup ? "warm-up" : "timed", s, loss, (System.nanoTime() - t) / 1e9);
            }
            long wall = System.nanoTime() - timed;
            long cpu = BenchCommand.processCpuNanos();
            double tps = (double) steps * n / (wall / 1e9);
            System.out.printf(Locale.ROOT, "train: %.1f tokens/s (%d steps of %d tokens, %.2f s/step, %s), peak RSS %s%n", tps, steps, n,
                    wall / 1e9 / steps, BenchCommand.cores(cpu0 < 0 ? -1 : cpu - cpu0, wall), BenchCommand.mib(BenchCommand.peakRssBytes()));
            double perToken = modelFlopsPerToken(w, lc, seqLen);
            System.out.printf(Locale.ROOT, "model FLOP/s: %.1f GFLOPS (%.2f GFLOP per token: frozen-weight forward and input gradient, "
                    + "lm_head, LoRA branch, attention; recomputation not counted)%n", tps * perToken / 1e9, perToken / 1e9);
        }
    }

    /**
     * Model FLOPs of one training token, the convention of MFU figures (recomputation not counted): each
     * frozen projection and lm_head runs its forward and its input gradient (2 + 2 FLOPs per weight; the
     * frozen weights get no gradient), each adapter its forward and backward (6 FLOPs per LoRA weight),
     * and causal attention over an average of seqLen/2 positions (scores and weighted sum, forward twice
     * as much backward).
     */
    static double modelFlopsPerToken(LlamaWeights w, LoraConfig lc, int seqLen) {
        var c = w.config;
        double f = 4.0 * c.dim() * c.vocabSize();
        for (String name : LlamaWeights.LINEAR_NAMES) {
            var m = w.layers[0].linear(name);
            f += c.nLayers() * 4.0 * m.rows * m.cols;
            if (lc.targets(name)) f += c.nLayers() * 6.0 * lc.rank() * (m.rows + m.cols);
        }
        f += c.nLayers() * 3 * (4.0 * c.nHeads() * c.headDim() * (seqLen / 2.0));
        return f;
    }
}
