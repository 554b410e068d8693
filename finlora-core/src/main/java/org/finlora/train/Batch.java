package org.finlora.train;

/**
 * One micro-batch: tokens and labels [B, T] row-major, right-padded; lengths[b] real tokens.
 * Labels are -100 where no loss is taken (prompt, padding); the HF shift happens in the loss.
 */
public record Batch(int[] tokens, int[] labels, int[] lengths, int B, int T) {
    public Batch {
        if (tokens.length != B * T || labels.length != B * T) {
            throw new IllegalArgumentException("tokens/labels must hold B*T = " + B * T + " ids");
        }
        if (lengths != null && lengths.length != B) throw new IllegalArgumentException("lengths must hold B = " + B + " values");
    }

    public int countTargets() {
        return CrossEntropy.countTargets(labels, B, T);
    }
}
