package org.finlora.train;

import java.nio.file.Path;

/** What the training loop reports (the CLI draws progress bars and writes metrics; core knows nothing of it). */
public interface TrainerListener {
    /** Before the first step: byte totals, the step count of the whole run and the step it starts from (> 0 on resume). */
    default void onStart(MemoryPlan plan, int totalSteps, int startStep) {
    }

    /** After every optimizer step. */
    default void onStep(StepMetrics m) {
    }

    /** After an evaluation: mean loss per counted token of the eval data at optimizer step {@code step}. */
    default void onEval(int step, double loss) {
    }

    default void onCheckpoint(int step, Path dir) {
    }

    /**
     * @param step       optimizer steps done (1-based after the update)
     * @param loss       mean loss per counted target token over the accumulation group
     * @param tokens     tokens (non-padding) processed in this step
     * @param seconds    wall time of this step
     */
    record StepMetrics(int step, int totalSteps, int epoch, double loss, double lr, double gradNorm, long tokens,
                       long targetTokens, double seconds) {
    }

    TrainerListener NONE = new TrainerListener() {
    };
}
