package org.finlora.train;

import org.finlora.FinloraException;
import org.finlora.lora.LoraAdapter;
import org.finlora.lora.LoraConfig;
import org.finlora.model.LlamaConfig;
import org.finlora.model.LlamaWeights;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The up-front estimate must be what TrainableLlama really allocates, and a setup that cannot fit is refused before allocating. */
class MemoryBudgetTest {
    @Test
    void estimateMatchesTheAllocatedBuffers() {
        LlamaConfig c = TinyLlama.config(false);
        LlamaWeights w = TinyLlama.weights(c, 1);
        for (LoraConfig lc : List.of(LoraConfig.of(4, 8, 0),
                new LoraConfig(3, 4f, 0f, List.of("q_proj", "down_proj"), false, true, "default", null))) {
            for (boolean ckpt : new boolean[]{false, true}) {
                LoraAdapter ad = LoraAdapter.init(lc, w, 1);
                MemoryPlan real = new TrainableLlama(w, ad, 3, 7, ckpt, 0).memoryPlan();
                MemoryPlan est = MemoryBudget.estimate(c, lc, 3, 7, ckpt, "adamw", real.baseWeights());
                String what = lc + " checkpointing " + ckpt;
                assertEquals(real.loraParams(), est.loraParams(), what);
                assertEquals(real.activations(), est.activations(), what);
                assertEquals(real.scratch(), est.scratch(), what);
                assertEquals(8 * ad.parameterCount(), est.optimizerState(), what);
            }
        }
    }

    @Test
    void hugeRanksAndBatchesAreRefusedBeforeAllocating() {
        LlamaConfig c = TinyLlama.config(false);
        var e = assertThrows(FinloraException.class, () -> MemoryBudget.check(
                MemoryBudget.estimate(c, LoraConfig.of(1_000_000, 16, 0), 4, 64, false, "adamw", 0), 4, 64, 1_000_000));
        assertTrue(e.getMessage().contains("--rank") && e.getMessage().contains("-Xmx"), e.getMessage());
        e = assertThrows(FinloraException.class, () -> MemoryBudget.estimate(c, LoraConfig.of(8, 16, 0), 100_000, 4096, false, "adamw", 0));
        assertTrue(e.getMessage().contains("batches of 100000 x 4096") && e.getMessage().contains("Java array"), e.getMessage());
    }
}
