package org.finlora.eval;

import java.util.List;

/**
 * Batched greedy generation: for each prompt (the raw FinLoRA context, BOS added by the
 * implementation, no chat template) return only the generated continuation, decoded with special
 * tokens skipped, stopping at EOS or after {@code maxNewTokens} tokens. The list has one entry per
 * prompt, in order.
 */
public interface TextGenerator {
    List<String> generate(List<String> prompts, int maxNewTokens);
}
