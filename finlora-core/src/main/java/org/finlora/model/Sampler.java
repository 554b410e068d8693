package org.finlora.model;

import java.util.SplittableRandom;

/**
 * Picks the next token from logits: argmax when temperature is 0, else a draw from
 * softmax(logits / temperature), restricted to the smallest set of most likely tokens whose
 * probability reaches topP when 0 < topP < 1. Seeded, so runs are reproducible.
 */
public final class Sampler {
    private final float temperature;
    private final float topP;
    private final SplittableRandom random;

    public Sampler(float temperature, float topP, long seed) {
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
            throw new org.finlora.FinloraException("--temperature " + temperature + ": expected a finite number >= 0");
        }
        if (!(topP > 0f && topP <= 1f)) throw new org.finlora.FinloraException("--top-p " + topP + ": expected a number in (0, 1]");
        this.temperature = temperature;
        this.topP = topP;
        this.random = new SplittableRandom(seed);
    }

    public static Sampler greedy() {
        return new Sampler(0f, 1f, 0);
    }

    /** Index of the largest of logits[off, off + n) (the first on ties). */
    public static int argmax(float[] logits, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (logits[off + i] > logits[off + best]) best = i;
        return best;
    }

    public int sample(float[] logits, int off, int n) {
        if (temperature == 0f) return argmax(logits, off, n);
        double[] p = new double[n];
        float max = logits[off + argmax(logits, off, n)];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = Math.exp((logits[off + i] - max) / temperature);
            sum += p[i];
        }
        double u = random.nextDouble();
        if (topP >= 1f) {
            double cdf = 0;
            for (int i = 0; i < n; i++) {
                cdf += p[i] / sum;
                if (u < cdf) return i;
            }
            return n - 1;
        }
        // Nucleus: sort candidates by probability (descending), keep the prefix that reaches topP.
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        java.util.Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
        double kept = 0;
        int count = 0;
        while (count < n) {
            kept += p[order[count++]] / sum;
            if (kept >= topP) break;
        }
        double target = u * kept, cdf = 0;
        for (int i = 0; i < count; i++) {
            cdf += p[order[i]] / sum;
            if (target < cdf) return order[i];
        }
        return order[count - 1];
    }
}
