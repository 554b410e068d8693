package org.finlora.train;

import org.finlora.FinloraException;
import org.finlora.train.optim.LrSchedule;

/**
 * Loop hyper-parameters of {@link Trainer} (HF Trainer names; FinLoRA legacy defaults via {@link #defaults()}).
 *
 * @param maxSteps     optimizer steps to run in total; 0 = epochs × steps per epoch (as HF max_steps)
 * @param evalEvery    evaluate every N optimizer steps (0 = only at the end)
 * @param saveEvery    checkpoint every N optimizer steps (0 = never, except on stop requests and NaN)
 * @param warmupSteps  explicit warmup steps (> 0 wins over warmupRatio, as HF)
 */
public record TrainerOptions(double lr, int epochs, int batchSize, int gradAccum, double maxGradNorm, double weightDecay,
                             String optimizer, LrSchedule.Kind schedule, int warmupSteps, double warmupRatio,
                             int evalEvery, int saveEvery, long seed, int maxSteps, boolean shuffle) {
    public TrainerOptions {
        if (!(lr > 0) || !Double.isFinite(lr)) throw new FinloraException("--lr " + lr + ": expected a positive number");
        if (epochs < 1) throw new FinloraException("--epochs " + epochs + ": expected at least 1");
        if (batchSize < 1) throw new FinloraException("--batch-size " + batchSize + ": expected at least 1");
        if (gradAccum < 1) throw new FinloraException("--grad-accum " + gradAccum + ": expected at least 1");
        if (!(maxGradNorm >= 0)) throw new FinloraException("--max-grad-norm " + maxGradNorm + ": expected >= 0 (0 = no clipping)");
        if (!(weightDecay >= 0)) throw new FinloraException("--weight-decay " + weightDecay + ": expected >= 0");
        if (warmupSteps < 0) throw new FinloraException("--warmup-steps " + warmupSteps + ": expected >= 0");
        if (!(warmupRatio >= 0 && warmupRatio <= 1)) throw new FinloraException("--warmup-ratio " + warmupRatio + ": expected a number in [0, 1]");
        if (evalEvery < 0 || saveEvery < 0 || maxSteps < 0) throw new FinloraException("--eval-every, --save-every and --max-steps must be >= 0");
        if (!optimizer.equals("adamw") && !optimizer.equals("adamw8bit") && !optimizer.equals("zero-one-adam")) {
            throw new FinloraException("--optimizer " + optimizer + ": expected adamw, adamw8bit or zero-one-adam");
        }
    }

    /** lr 1e-4, 1 epoch, batch 4, no accumulation, clip 1.0, wd 0, adamw, linear schedule without warmup, seed 42. */
    public static TrainerOptions defaults() {
        return new TrainerOptions(1e-4, 1, 4, 1, 1.0, 0.0, "adamw", LrSchedule.Kind.LINEAR, 0, 0.0, 0, 0, 42, 0, true);
    }

    public TrainerOptions withMaxSteps(int steps) {
        return new TrainerOptions(lr, epochs, batchSize, gradAccum, maxGradNorm, weightDecay, optimizer, schedule, warmupSteps,
                warmupRatio, evalEvery, saveEvery, seed, steps, shuffle);
    }

    public TrainerOptions withEvalSave(int evalEvery, int saveEvery) {
        return new TrainerOptions(lr, epochs, batchSize, gradAccum, maxGradNorm, weightDecay, optimizer, schedule, warmupSteps,
                warmupRatio, evalEvery, saveEvery, seed, maxSteps, shuffle);
    }
}
