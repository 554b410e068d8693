package org.finlora.train.optim;

import org.finlora.FinloraException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/** Save after k steps, restore into a fresh optimizer, continue: identical to never stopping. */
class OptimizerStateTest {

    private static void resumeIsExact(Path dir, String name, Function<List<float[]>, Optimizer> make) {
        Random rng = new Random(name.hashCode());
        float[] big = new float[5000], small = new float[7];
        for (int i = 0; i < big.length; i++) big[i] = (float) rng.nextGaussian();
        for (int i = 0; i < small.length; i++) small[i] = (float) rng.nextGaussian();
        float[][][] grads = new float[6][2][];
        for (int s = 0; s < 6; s++) {
            grads[s][0] = new float[big.length];
            grads[s][1] = new float[small.length];
            for (int i = 0; i < big.length; i++) grads[s][0][i] = (float) rng.nextGaussian();
            for (int i = 0; i < small.length; i++) grads[s][1][i] = (float) rng.nextGaussian();
        }
        Optimizer a = make.apply(List.of(big, small));
        float[] bigCopy = null, smallCopy = null;
        Path file = dir.resolve(name + ".safetensors");
        for (int s = 0; s < 6; s++) {
            if (s == 4) {
                a.saveState(file);
                bigCopy = big.clone();
                smallCopy = small.clone();
            }
            a.step(List.of(grads[s][0], grads[s][1]), 0.01);
        }
        Optimizer b = make.apply(List.of(bigCopy, smallCopy));
        b.loadState(file);
        assertEquals(4, b.steps());
        for (int s = 4; s < 6; s++) b.step(List.of(grads[s][0], grads[s][1]), 0.01);
        assertArrayEquals(big, bigCopy, 0f, name);
        assertArrayEquals(small, smallCopy, 0f, name);
    }

    @Test
    void resumeAdamW(@TempDir Path dir) {
        resumeIsExact(dir, "adamw", p -> new AdamW(p, 0.9, 0.999, 1e-8, 0.01));
    }

    @Test
    void resumeAdamW8bit(@TempDir Path dir) {
        resumeIsExact(dir, "adamw8bit", p -> new AdamW8bit(p, 0.9f, 0.999f, 1e-8f, 0.01f));
    }

    @Test
    void resumeZeroOneAdamPastTheFreeze(@TempDir Path dir) {
        resumeIsExact(dir, "zoadam", p -> new ZeroOneAdam(p, 0.9, 0.999, 1e-8, 0.0, 2, 2, 2, 4));
    }

    @Test
    void refusesAnotherOptimizersState(@TempDir Path dir) {
        float[] p = new float[3];
        new AdamW(List.of(p), 0.9, 0.999, 1e-8, 0).saveState(dir.resolve("s.safetensors"));
        FinloraException e = assertThrows(FinloraException.class,
                () -> new AdamW8bit(List.of(p), 0.9f, 0.999f, 1e-8f, 0f).loadState(dir.resolve("s.safetensors")));
        assertTrue(e.getMessage().contains("'adamw'"), e.getMessage());
        assertThrows(FinloraException.class, () -> new AdamW(List.of(new float[4]), 0.9, 0.999, 1e-8, 0).loadState(dir.resolve("s.safetensors")));
    }
}
