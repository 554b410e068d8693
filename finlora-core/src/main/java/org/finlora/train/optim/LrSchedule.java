package org.finlora.train.optim;

import org.finlora.FinloraException;

/**
 * HF transformers learning-rate schedules (get_scheduler), as a multiplier of the base lr at
 * optimizer step s (0-based: the first update uses s = 0, so it is 0 under warmup, as in HF).
 */
public final class LrSchedule {
    public enum Kind { CONSTANT, CONSTANT_WITH_WARMUP, LINEAR, COSINE }

    public final Kind kind;
    public final double baseLr;
    public final int warmupSteps, totalSteps;

    public LrSchedule(Kind kind, double baseLr, int warmupSteps, int totalSteps) {
        if (warmupSteps < 0 || totalSteps < 0) throw new FinloraException("warmup and total steps must be >= 0");
        this.kind = kind;
        this.baseLr = baseLr;
        this.warmupSteps = warmupSteps;
        this.totalSteps = totalSteps;
    }

    public static Kind parse(String name) {
        return switch (name) {
            case "constant" -> Kind.CONSTANT;
            case "constant_with_warmup" -> Kind.CONSTANT_WITH_WARMUP;
            case "linear" -> Kind.LINEAR;
            case "cosine" -> Kind.COSINE;
            default -> throw new FinloraException("unknown lr scheduler '" + name + "' (expected constant, constant_with_warmup, linear, cosine)");
        };
    }

    /** HF TrainingArguments.get_warmup_steps: explicit steps if > 0, else ceil(total · ratio). */
    public static int warmupSteps(int explicitSteps, double ratio, int totalSteps) {
        return explicitSteps > 0 ? explicitSteps : (int) Math.ceil(totalSteps * ratio);
    }

    public double multiplier(int step) {
        if (kind == Kind.CONSTANT) return 1.0;
        if (step < warmupSteps) return (double) step / Math.max(1, warmupSteps);
        return switch (kind) {
            case CONSTANT_WITH_WARMUP -> 1.0;
            case LINEAR -> Math.max(0.0, (double) (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
            case COSINE -> {
                double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
                yield Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * 0.5 * 2.0 * progress)));
            }
            default -> throw new IllegalStateException();
        };
    }

    public float lr(int step) {
        return (float) (baseLr * multiplier(step));
    }
}
