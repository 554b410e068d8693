package org.finlora.train;

import org.finlora.io.Checkpoint;
import org.finlora.io.HfFolderLoader;
import org.finlora.io.SafetensorsFile;
import org.finlora.kernel.Bnb4bitMatrix;
import org.finlora.kernel.Matrices;
import org.finlora.kernel.Simd;
import org.finlora.lora.LoraAdapter;
import org.finlora.lora.PeftAdapterIO;
import org.finlora.model.LlamaWeights;
import org.finlora.quant.Bnb4bit;
import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;
import org.finlora.tensor.WeightMatrix;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One LoRA training step of the tiny Llama 3 HF fixture against PyTorch (tools/ref_lora_step.py):
 * the loss and all 28 LoRA gradients, with the PEFT adapter folder read by PeftAdapterIO.
 */
class TorchLoraStepTest {

    private static Path fixture(String name) {
        try {
            var url = TorchLoraStepTest.class.getResource("/fixtures/" + name);
            if (url == null) throw new IllegalStateException("missing test fixture " + name + " (see tools/README.md)");
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int[] ints(Tensor t) {
        int[] out = new int[(int) t.elementCount()];
        for (int i = 0; i < out.length; i++) out[i] = (int) t.data().getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i);
        return out;
    }

    /** Runs the fixture batch through TrainableLlama and compares with the reference loss and gradients. */
    private static void compare(Function<Tensor, WeightMatrix> linear, String lossKey, String gradPrefix, boolean checkpointing) {
        try (Checkpoint ck = HfFolderLoader.load(fixture("tiny-llama3"));
             Arena arena = Arena.ofConfined()) {
            SafetensorsFile ref = SafetensorsFile.open(fixture(lossKey.equals("loss") ? "tiny-llama3-lora-step.safetensors"
                    : "tiny-llama3-qlora-step.safetensors"), arena);
            SafetensorsFile batch = SafetensorsFile.open(fixture("tiny-llama3-lora-step.safetensors"), arena);
            Map<String, Tensor> r = ref.tensors(), b = batch.tensors();
            LlamaWeights w = LlamaWeights.from(ck, linear, t -> Matrices.of(t, Simd.configured()), Simd.configured());
            LoraAdapter adapter = PeftAdapterIO.load(fixture("tiny-llama3-lora"), ck.config());
            assertEquals(2f, adapter.config.scale());
            long[] shape = b.get("input_ids").shape();
            int B = (int) shape[0], T = (int) shape[1];
            int[] ids = ints(b.get("input_ids")), labels = ints(b.get("labels")), mask = ints(b.get("attention_mask"));
            int[] lengths = new int[B];
            for (int i = 0; i < B; i++) for (int t = 0; t < T; t++) lengths[i] += mask[i * T + t];
            assertEquals(10, CrossEntropy.countTargets(labels, B, T));

            TrainableLlama model = new TrainableLlama(w, adapter, B, T, checkpointing, 0);
            model.zeroGrad();
            double loss = model.forwardBackward(ids, labels, lengths, B, T, 0);
            float wantLoss = Floats.toFloatArray(r.get(lossKey))[0];
            assertEquals(wantLoss, loss, 1e-5, "loss");

            List<String> names = adapter.tensorNames();
            List<float[]> grads = model.grads.tensors();
            assertEquals(28, names.size());
            double worst = 0;
            String worstName = null;
            for (int i = 0; i < names.size(); i++) {
                Tensor g = r.get(gradPrefix + names.get(i));
                assertNotNull(g, "reference gradient " + gradPrefix + names.get(i));
                assertEquals(DType.F32, g.dtype());
                float[] want = Floats.toFloatArray(g), got = grads.get(i);
                assertEquals(want.length, got.length, names.get(i));
                double norm = 0;
                for (float x : want) norm = Math.max(norm, Math.abs(x));
                for (int j = 0; j < want.length; j++) {
                    // 1e-4 relative to the tensor's largest entry (plus a tiny absolute floor)
                    double err = Math.abs(got[j] - want[j]) / (1e-4 * norm + 1e-7);
                    if (err > worst) {
                        worst = err;
                        worstName = names.get(i) + "[" + j + "] got " + got[j] + " want " + want[j];
                    }
                }
            }
            System.out.printf("%s: loss %.7f vs %.7f, worst gradient error %.3g x (1e-4 max-abs)%n", lossKey, loss, wantLoss, worst);
            assertTrue(worst <= 1, "worst gradient entry: " + worstName);
        }
    }

    @Test
    void loraStepMatchesPytorch() {
        compare(t -> Matrices.of(t, Simd.configured()), "loss", "", false);
    }

    @Test
    void loraStepWithActivationCheckpointingMatchesPytorch() {
        compare(t -> Matrices.of(t, Simd.configured()), "loss", "", true);
    }

    @Test
    void qloraStepOnNf4DoubleQuantMatchesPytorch() {
        compare(t -> Bnb4bitMatrix.quantize(t, Bnb4bit.Type.NF4, 64, true, Simd.configured()), "loss_f32dq", "f32dq.", false);
    }
}
