package org.finlora.train;

import org.finlora.FinloraException;
import org.finlora.data.Example;
import org.finlora.io.Checkpoint;
import org.finlora.io.HfFolderLoader;
import org.finlora.kernel.Simd;
import org.finlora.lora.LoraAdapter;
import org.finlora.lora.LoraConfig;
import org.finlora.model.LlamaWeights;
import org.finlora.model.SyntheticModels;
import org.finlora.tokenizer.Tokenizer;
import org.finlora.train.optim.LrSchedule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TrainDataTest {
    @Test
    void sequenceIsBosContextTargetEosWithPromptMasked() {
        try (Checkpoint ck = HfFolderLoader.load(Path.of("src/test/resources/fixtures/tiny-llama3"))) {
            Tokenizer tok = ck.tokenizer();
            Example e = new Example("Answer: ", "positive");
            TrainData d = TrainData.build(List.of(List.of(e)), tok, 512, false, TrainData.LengthPolicy.TRUNCATE);
            int[] ctx = tok.encode("Answer: ", false), tgt = tok.encode("positive", false);
            TrainData.Sequence s = d.sequences.getFirst();
            assertEquals(298, TrainData.eosId(tok), "<|end_of_text|> as EOS (FinLoRA's legacy script appends it)");
            assertEquals(297, s.ids()[0], "BOS first");
            assertEquals(1 + ctx.length + tgt.length + 1, s.length());
            assertEquals(298, s.ids()[s.length() - 1]);
            for (int i = 0; i < s.length(); i++) {
                boolean prompt = i < 1 + ctx.length;
                assertEquals(prompt ? -100 : s.ids()[i], s.labels()[i], "position " + i);
            }
            TrainData all = TrainData.build(List.of(List.of(e)), tok, 512, true, TrainData.LengthPolicy.TRUNCATE);
            assertArrayEquals(all.sequences.getFirst().ids(), all.sequences.getFirst().labels());
        }
    }

    @Test
    void lengthPolicyAndRightPaddedBatches() {
        try (Checkpoint ck = SyntheticModels.create("tiny")) {
            Tokenizer tok = ck.tokenizer();
            List<Example> ex = List.of(new Example("ab", "c"), new Example("abcdefgh", "ij"), new Example("abcdefghijkl", "m"));
            int bos = tok.addsBosByDefault() ? 1 : 0;
            int[] len = new int[3];
            for (int i = 0; i < 3; i++) len[i] = bos + tok.encode(ex.get(i).context(), false).length + tok.encode(ex.get(i).target(), false).length + 1;
            int max = len[1] - 1;  // cuts the second (keeps target tokens), the third's prompt alone is too long
            assertTrue(bos + tok.encode("abcdefghijkl", false).length >= max);
            TrainData t = TrainData.build(List.of(ex), tok, max, false, TrainData.LengthPolicy.TRUNCATE);
            assertEquals(2, t.size());
            assertEquals(1, t.truncated);
            assertEquals(1, t.skipped);
            assertEquals(max, t.maxLength());
            TrainData s = TrainData.build(List.of(ex), tok, max, false, TrainData.LengthPolicy.SKIP);
            assertEquals(1, s.size());
            assertEquals(2, s.skipped);

            Batch b = t.batch(new int[]{0, 1}, 0, 2);
            assertEquals(max, b.T());
            assertArrayEquals(new int[]{len[0], max}, b.lengths());
            for (int i = len[0]; i < max; i++) {
                assertEquals(t.padId, b.tokens()[i]);
                assertEquals(-100, b.labels()[i]);
            }
            assertThrows(FinloraException.class, () -> TrainData.build(List.of(ex), tok, 1, false, TrainData.LengthPolicy.SKIP));
        }
    }

    @Test
    void epochShufflesAreSeededPermutations() {
        try (Checkpoint ck = SyntheticModels.create("tiny")) {
            List<Example> ex = new java.util.ArrayList<>();
            for (int i = 0; i < 50; i++) ex.add(new Example("x" + i, "y"));
            TrainData d = TrainData.build(List.of(ex.subList(0, 20), ex.subList(20, 50)), ck.tokenizer(), 64, false, TrainData.LengthPolicy.TRUNCATE);
            assertEquals(50, d.size());
            int[] a = d.epochOrder(42, 0, true), again = d.epochOrder(42, 0, true), next = d.epochOrder(42, 1, true);
            assertArrayEquals(a, again);
            assertFalse(java.util.Arrays.equals(a, next));
            int[] sorted = a.clone();
            java.util.Arrays.sort(sorted);
            for (int i = 0; i < 50; i++) assertEquals(i, sorted[i]);
            assertFalse(java.util.Arrays.equals(a, d.epochOrder(0, 0, false)));
        }
    }

    @Test
    void nonFiniteLossStopsWithACheckpoint(@TempDir Path tmp) {
        try (Checkpoint ck = SyntheticModels.create("tiny")) {
            LlamaWeights w = LlamaWeights.load(ck, null, Simd.configured());
            LoraAdapter ad = LoraAdapter.init(LoraConfig.of(4, 8f, 0f), w.config, 1);
            TrainData data = TrainData.build(List.of(TrainerResumeTest.examples(6, 0)), ck.tokenizer(), 64, false, TrainData.LengthPolicy.TRUNCATE);
            // an absurd learning rate overflows the weights after the first update
            TrainerOptions o = new TrainerOptions(1e36, 3, 2, 1, 0, 0, "adamw", LrSchedule.Kind.CONSTANT, 0, 0, 0, 0, 1, 0, true);
            Trainer t = new Trainer(w, ad, data, null, o, false, tmp, null, null);
            FinloraException e = assertThrows(FinloraException.class, t::run);
            assertTrue(e.getMessage().matches("(loss|gradient norm) is (NaN|Infinity|-Infinity) at step \\d+ .*last good state saved to .*"), e.getMessage());
            Path saved = TrainCheckpoint.resolve(tmp);
            assertTrue(Files.isRegularFile(saved.resolve("adapter_model.safetensors")));
            assertEquals(TrainCheckpoint.readState(saved).step() + 1, Integer.parseInt(e.getMessage().replaceAll(".* at step (\\d+) .*", "$1")));
        }
    }
}
