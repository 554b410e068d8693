package org.finlora.eval;

import org.finlora.FinloraException;
import org.finlora.data.Example;
import org.finlora.data.FinTask;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.ToIntFunction;

/**
 * How many new tokens generation may take per task ({@code finlora eval --max-new-tokens}).
 * <ul>
 *   <li>{@link #FINLORA} (the default): each task's FinLoRA value, {@link FinTask#maxNewTokens()}.</li>
 *   <li>{@link #fixed(int)}: the same number for every task.</li>
 *   <li>{@link #AUTO}: max(FinLoRA's value, tokens of the task's longest label + 1). A small
 *       vocabulary can need more than FinLoRA's 10 tokens to spell a label (stories260K's tok512 spells
 *       " moderately positive" in more than 10), which would cut every such answer off before it
 *       matches; the +1 leaves room for the EOS a finetuned model ends its answer with. Labels are the
 *       task's fixed label set, or, for tasks without one, the distinct targets of the examples.</li>
 * </ul>
 *
 * @param fixed the number of tokens of a fixed budget; 0 for FINLORA and AUTO
 */
public record NewTokenBudget(Kind kind, int fixed) {
    public enum Kind { FINLORA, FIXED, AUTO }

    public static final NewTokenBudget FINLORA = new NewTokenBudget(Kind.FINLORA, 0);
    public static final NewTokenBudget AUTO = new NewTokenBudget(Kind.AUTO, 0);

    public NewTokenBudget {
        if (kind == Kind.FIXED && fixed < 1) throw new FinloraException("--max-new-tokens " + fixed + ": expected a number >= 1 or auto");
    }

    public static NewTokenBudget fixed(int tokens) {
        return new NewTokenBudget(Kind.FIXED, tokens);
    }

    /** The flag's value: null → FinLoRA's per-task values, "auto", or a number >= 1. */
    public static NewTokenBudget parse(String flag) {
        if (flag == null) return FINLORA;
        String s = flag.strip();
        if (s.equalsIgnoreCase("auto")) return AUTO;
        int n;
        try {
            n = Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new FinloraException("--max-new-tokens " + flag + ": expected a number >= 1 or auto");
        }
        return fixed(n);
    }

    /**
     * The budget for one task.
     *
     * @param tokenCount tokens of a target as training encodes it (no BOS, with the tokenizer's dummy prefix)
     */
    public int forTask(FinTask task, List<Example> examples, ToIntFunction<String> tokenCount) {
        return switch (kind) {
            case FINLORA -> task.maxNewTokens();
            case FIXED -> fixed;
            case AUTO -> Math.max(task.maxNewTokens(), longestLabel(task, examples, tokenCount) + 1);
        };
    }

    /** Tokens of the task's longest label (the fixed label set, else the examples' distinct targets); 0 when there is none. */
    public static int longestLabel(FinTask task, List<Example> examples, ToIntFunction<String> tokenCount) {
        Set<String> labels = new LinkedHashSet<>(task.labels());
        if (labels.isEmpty()) for (Example e : examples) labels.add(e.target());
        int longest = 0;
        for (String l : labels) longest = Math.max(longest, tokenCount.applyAsInt(l));
        return longest;
    }

    /** "FinLoRA's per-task values", "auto (...)" or "16", for logs. */
    public String describe() {
        return switch (kind) {
            case FINLORA -> "FinLoRA's per-task values";
            case FIXED -> Integer.toString(fixed);
            case AUTO -> "auto (max of FinLoRA's value and the longest label's tokens + 1)";
        };
    }
}
