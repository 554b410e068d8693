package org.finlora.train;

import java.util.List;

/**
 * Gradient accumulation as transformers ≥ 4.46 does it: every micro-batch's loss sum is divided by
 * the number of counted tokens over the whole accumulation group (num_items_in_batch), so the
 * accumulated gradient equals that of one big batch.
 */
public final class GradientAccumulation {
    private GradientAccumulation() {
    }

    /**
     * Zeroes the gradients, runs forward + backward over all micro-batches, and returns the
     * group's mean loss per counted token (0 when nothing is counted).
     */
    public static double run(TrainableLlama model, List<Batch> microBatches) {
        int total = 0;
        for (Batch b : microBatches) total += b.countTargets();
        model.zeroGrad();
        if (total == 0) return 0;
        double loss = 0;
        for (Batch b : microBatches) {
            if (b.countTargets() == 0) continue;
            loss += model.forwardBackward(b.tokens(), b.labels(), b.lengths(), b.B(), b.T(), total);
        }
        return loss;
    }
}
