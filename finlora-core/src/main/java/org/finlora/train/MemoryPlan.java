package org.finlora.train;

/** Byte totals of a training setup, printed at startup (llm.c style). */
public record MemoryPlan(long baseWeights, long loraParams, long loraGrads, long optimizerState, long activations, long scratch) {

    public long total() {
        return baseWeights + loraParams + loraGrads + optimizerState + activations + scratch;
    }

    public MemoryPlan withOptimizerState(long bytes) {
        return new MemoryPlan(baseWeights, loraParams, loraGrads, bytes, activations, scratch);
    }

    @Override
    public String toString() {
        return String.format("memory: base weights %s, LoRA params %s, LoRA grads %s, optimizer state %s, activations %s, scratch %s, total %s",
                mib(baseWeights), mib(loraParams), mib(loraGrads), mib(optimizerState), mib(activations), mib(scratch), mib(total()));
    }

    private static String mib(long b) {
        return String.format("%.2f MiB", b / (1024.0 * 1024.0));
    }
}
