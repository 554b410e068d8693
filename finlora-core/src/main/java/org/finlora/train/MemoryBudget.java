package org.finlora.train;

import org.finlora.FinloraException;
import org.finlora.lora.LoraAdapter;
import org.finlora.lora.LoraConfig;
import org.finlora.model.LlamaConfig;
import org.finlora.model.LlamaWeights;

import java.util.Locale;

/**
 * The heap a training run will allocate, computed from the shapes alone before anything is
 * allocated (the same buffers {@link TrainableLlama} and the optimizers create), so a setup that
 * cannot fit is refused with what to change instead of failing with an OutOfMemoryError halfway.
 */
public final class MemoryBudget {
    /** Largest Java array (elements). */
    static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private MemoryBudget() {
    }

    /**
     * Bytes of LoRA parameters, gradients, optimizer state, activations and scratch for batches of
     * {@code maxB} rows of {@code maxT} tokens; {@code baseBytes} is the frozen base as loaded.
     */
    public static MemoryPlan estimate(LlamaConfig c, LoraConfig lc, int maxB, int maxT, boolean checkpointing, String optimizer,
                                      long baseBytes) {
        int[][] shapes = LoraAdapter.projectionShapes(c);
        long r = lc.rank(), L = c.nLayers();
        long loraParams = 0, largestLora = 0, hStore = 0;
        for (int m = 0; m < 7; m++) {
            if (!lc.targets(LlamaWeights.LINEAR_NAMES[m])) continue;
            long in = shapes[0][m], out = shapes[1][m];
            loraParams += L * (r * in + out * r + (lc.useDora() ? out : 0));
            largestLora = Math.max(largestLora, Math.max(r * in, out * r));
            hStore += r;
        }
        long N = (long) maxB * maxT, C = c.dim(), q = c.qDim(), kv = c.kvDim(), H = c.hiddenDim(), V = c.vocabSize();
        long maxIn = Math.max(Math.max(C, q), H);
        long perBlock = N + N * q + 2 * N * kv + (long) maxB * c.nHeads() * maxT + N * q + N * C + N + 2 * N * H + N * hStore;
        if (lc.useDora()) {
            for (int m = 0; m < 7; m++) if (lc.targets(LlamaWeights.LINEAR_NAMES[m])) perBlock += 2 * N * shapes[1][m] + shapes[1][m];
        }
        long acts = 4 * ((checkpointing ? 1 : L) * perBlock + (L + 1) * N * C + N * C + N);
        long chunk = Math.max(1, Math.min(TrainableLlama.CE_CHUNK_ROWS, N));
        long scratch = 4 * (N * C * 5 + N * q * 2 + N * kv * 2 + N * H * 3 + N * maxIn + N * r + (checkpointing ? N * C : 0)
                + (lc.useDora() ? N * maxIn : 0)) + 4 * (2 * chunk * C + chunk * V) + 24 * chunk;
        long stateBytesPerParam = optimizer.equals("zero-one-adam") ? 12 : 8;
        long largest = Math.max(Math.max(largestLora, N * Math.max(maxIn, Math.max(q, H))), Math.max(chunk * V, (long) maxB * c.nHeads() * maxT));
        if (largest > MAX_ARRAY) {
            throw new FinloraException(String.format(Locale.ROOT, "training batches of %d x %d tokens with LoRA rank %d need a buffer of %d floats, "
                    + "more than a Java array holds (%d): lower --batch-size, --max-seq-len or --rank", maxB, maxT, r, largest, MAX_ARRAY));
        }
        return new MemoryPlan(baseBytes, 4 * loraParams, 4 * loraParams, stateBytesPerParam * loraParams, acts, scratch);
    }

    /** Refuses a plan whose heap part (everything but the base weights) exceeds the heap still free. */
    public static void check(MemoryPlan plan, int maxB, int maxT, int rank) {
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        long need = plan.total() - plan.baseWeights();
        if (need > free) {
            throw new FinloraException(String.format(Locale.ROOT, "training needs %s of heap (activations %s for batches of %d x %d tokens, "
                            + "LoRA rank %d: parameters, gradients and optimizer state %s) but only %s is free under the heap limit of %s: "
                            + "lower --batch-size, --max-seq-len or --rank, add --checkpointing, or raise the limit with FINLORA_JAVA_OPTS=-Xmx<size>",
                    gib(need), gib(plan.activations() + plan.scratch()), maxB, maxT, rank,
                    gib(plan.loraParams() + plan.loraGrads() + plan.optimizerState()), gib(free), gib(rt.maxMemory())));
        }
    }

    static String gib(long b) {
        return b >= (1L << 30) ? String.format(Locale.ROOT, "%.1f GiB", b / (double) (1L << 30)) : String.format(Locale.ROOT, "%.0f MiB", b / (double) (1L << 20));
    }
}
