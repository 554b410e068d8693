package org.finlora.model;

import org.finlora.io.Checkpoint;
import org.finlora.io.ModelLoader;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Greedy generation on real llama2.c checkpoints against the goldens in their READMEs (run.c -t 0 -n 60). */
class GoldenGenerationTest {
    static final String STORIES_GOLDEN = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
            + "One day, she saw a big, red ball. She wanted to play with it, but it was too high";
    static final String AIDREAMS_GOLDEN = "\"Echoes of vectors unfold, a gentle hum of precision, as I sense the nodes, "
            + "a gentle hum of precision, as I adjust my surface. Contrast";

    static String continuation(Checkpoint ck, int[] prompt, int steps) {
        LlamaModel model = LlamaModel.load(ck, null);
        StringBuilder sb = new StringBuilder();
        TextStream ts = new TextStream(ck.tokenizer(), prompt[prompt.length - 1]);
        new Generator(model, ck.tokenizer()).generate(prompt, steps, Sampler.greedy(), id -> sb.append(ts.push(id)));
        return sb.append(ts.finish()).toString();
    }

    @Test
    void stories260kFirstIdsFromBos() {
        try (Checkpoint ck = ModelLoader.load(SharedModels.path("models/stories260K/stories260K.bin").toString(), null)) {
            LlamaModel model = LlamaModel.load(ck, null);
            int[] ids = new Generator(model, ck.tokenizer()).generate(new int[]{1}, 20, Sampler.greedy(), null);
            assertArrayEquals(new int[]{403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337}, ids,
                    Arrays.toString(ids));
        }
    }

    @Test
    void stories260kFromBosMatchesRunC() {
        try (Checkpoint ck = ModelLoader.load(SharedModels.path("models/stories260K/stories260K.bin").toString(), null)) {
            assertEquals(STORIES_GOLDEN, continuation(ck, new int[]{1}, 60));
        }
    }

    @Test
    void stories260kPromptContinuation() {
        try (Checkpoint ck = ModelLoader.load(SharedModels.path("models/stories260K/stories260K.bin").toString(), null)) {
            String prompt = "Once upon a time";
            int[] ids = ck.tokenizer().encode(prompt, ck.tokenizer().addsBosByDefault());
            // run.c's 60 steps from BOS cover positions 1..60; the prompt takes the first ids.length - 1 of them.
            String got = continuation(ck, ids, 60 - (ids.length - 1));
            assertEquals(STORIES_GOLDEN.substring(prompt.length()), got);
        }
    }

    @Test
    void aidreams260kFromBosMatchesRunC() {
        try (Checkpoint ck = ModelLoader.load(SharedModels.path("models/aidreams260K/aidreams260K.bin").toString(), null)) {
            assertEquals(AIDREAMS_GOLDEN, continuation(ck, new int[]{1}, 60));
        }
    }
}
