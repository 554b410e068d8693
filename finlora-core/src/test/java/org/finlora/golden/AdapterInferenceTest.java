package org.finlora.golden;

import org.finlora.io.Checkpoint;
import org.finlora.io.HfFolderLoader;
import org.finlora.io.SafetensorsFile;
import org.finlora.lora.AdaptedWeights;
import org.finlora.lora.LoraAdapter;
import org.finlora.lora.PeftAdapterIO;
import org.finlora.model.LlamaModel;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Inference with a PEFT adapter on the shared base equals PyTorch's logits with the adapter applied. */
class AdapterInferenceTest {

    @Test
    void peftAdapterLogitsMatchPytorch() {
        SafetensorsFile ref = Fixtures.safetensors("tiny-llama3-lora-step.safetensors");
        int[] ids = Fixtures.ints(ref.tensors().get("input_ids"));
        int[] mask = Fixtures.ints(ref.tensors().get("attention_mask"));
        float[] want = Fixtures.floats(ref.tensors().get("logits_lora"));
        int T = 23, V = 300;
        try (Checkpoint ck = HfFolderLoader.load(Fixtures.fixture("tiny-llama3"))) {
            LlamaModel base = LlamaModel.load(ck, null);
            LoraAdapter adapter = PeftAdapterIO.load(Fixtures.fixture("tiny-llama3-lora"), ck.config());
            LlamaModel adapted = new LlamaModel(AdaptedWeights.with(base.weights, adapter));
            for (int row = 0; row < 2; row++) {
                int len = 0;
                while (len < T && mask[row * T + len] == 1) len++;
                int[] seq = Arrays.copyOfRange(ids, row * T, row * T + len);
                float[] got = adapted.forwardAll(seq);
                float[] exp = Arrays.copyOfRange(want, row * T * V, (row * T + len) * V);
                double d = Fixtures.maxAbsDiff(got, exp);
                assertTrue(d <= 2e-4, "row " + row + ": max |logit diff| " + d);
                // the adapter really changes the output (so the comparison above is not vacuous)
                double vsBase = Fixtures.maxAbsDiff(base.forwardAll(seq), exp);
                assertTrue(vsBase > 1e-2, "adapter had no visible effect: " + vsBase);
            }
        }
    }
}
