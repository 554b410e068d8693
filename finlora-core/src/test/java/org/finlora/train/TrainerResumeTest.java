package org.finlora.train;

import org.finlora.data.Example;
import org.finlora.io.Checkpoint;
import org.finlora.kernel.Simd;
import org.finlora.lora.LoraAdapter;
import org.finlora.lora.LoraConfig;
import org.finlora.model.LlamaWeights;
import org.finlora.model.SyntheticModels;
import org.finlora.train.optim.LrSchedule;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Train N steps straight vs N/2 + stop + resume + N/2: identical adapter weights, loss and eval curves. */
class TrainerResumeTest {
    static List<Example> examples(int n, int salt) {
        List<Example> out = new ArrayList<>();
        String[] labels = {"positive", "negative", "neutral"};
        for (int i = 0; i < n; i++) {
            out.add(new Example("Instruction: rate " + (i * 7 + salt) + " sales went " + (i % 2 == 0 ? "up" : "down") + "\nAnswer: ",
                    labels[(i + salt) % 3], null, "mem:" + (i + 1)));
        }
        return out;
    }

    record Run(List<float[]> tensors, Trainer.Result result) {
    }

    private static Run train(LlamaWeights w, Checkpoint ck, TrainerOptions o, Path ckDir, int stopAt, Path resume, long initSeed) {
        LoraAdapter ad = LoraAdapter.init(new LoraConfig(4, 8f, 0.1f, LoraConfig.ALL_TARGETS, false, false, "default", null), w.config, initSeed);
        TrainData data = TrainData.build(List.of(examples(9, 0), examples(4, 1)), ck.tokenizer(), 64, false, TrainData.LengthPolicy.TRUNCATE);
        TrainData eval = TrainData.build(List.of(examples(3, 2)), ck.tokenizer(), 64, false, TrainData.LengthPolicy.TRUNCATE);
        Trainer[] self = new Trainer[1];
        TrainerListener stopper = new TrainerListener() {
            @Override
            public void onStep(StepMetrics m) {
                if (m.step() == stopAt) self[0].requestStop();
            }
        };
        self[0] = new Trainer(w, ad, data, eval, o, false, ckDir, resume, stopper);
        return new Run(ad.tensors(), self[0].run());
    }

    @ParameterizedTest
    @ValueSource(strings = {"adamw", "zero-one-adam", "adamw8bit"})
    void resumedRunMatchesUninterrupted(String optimizer, @TempDir Path tmp) throws Exception {
        try (Checkpoint ck = SyntheticModels.create("tiny")) {
            LlamaWeights w = LlamaWeights.load(ck, null, Simd.configured());
            // 13 sequences, batch 2, accum 2: 7 micro-batches, 4 steps per epoch (the last one short), 2 epochs
            TrainerOptions o = new TrainerOptions(5e-3, 2, 2, 2, 1.0, 0.01, optimizer, LrSchedule.Kind.COSINE, 1, 0, 3, 0, 7, 0, true);
            // No warm-up run: every kernel sums its vector lanes in a fixed order, so a cold run (interpreted
            // and C1 code) and a warm one (C2) give the same bits
            Run straight = train(w, ck, o, null, -1, null, 11);
            assertEquals(8, straight.result().steps());
            assertFalse(straight.result().stoppedEarly());

            Path ckDir = tmp.resolve("checkpoints");
            Run first = train(w, ck, o, ckDir, 3, null, 11);
            assertTrue(first.result().stoppedEarly());
            assertEquals(3, first.result().steps());
            Path saved = first.result().lastCheckpoint();
            assertEquals(TrainCheckpoint.dirFor(ckDir, 3), saved);
            assertTrue(Files.isRegularFile(saved.resolve("adapter_model.safetensors")));
            try (var s = Files.list(ckDir)) {
                assertEquals(1, s.count(), "no temp directories left behind");
            }

            // a different init seed: everything must come from the checkpoint
            Run resumed = train(w, ck, o, ckDir, -1, TrainCheckpoint.resolve(tmp), 999);
            assertEquals(8, resumed.result().steps());
            for (int i = 0; i < straight.tensors().size(); i++) {
                assertArrayEquals(straight.tensors().get(i), resumed.tensors().get(i), "tensor " + i);
            }
            assertCurvesEqual(straight.result().trainCurve(), resumed.result().trainCurve());
            assertCurvesEqual(straight.result().evalCurve(), resumed.result().evalCurve());
            assertEquals(3, straight.result().evalCurve().size());   // steps 3, 6 and the last (8)
            // the training changed something: the loss moved
            assertNotEquals(straight.result().trainCurve().getFirst()[1], straight.result().trainCurve().getLast()[1]);
        }
    }

    static void assertCurvesEqual(List<double[]> a, List<double[]> b) {
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) assertArrayEquals(a.get(i), b.get(i), "point " + i);
    }
}
