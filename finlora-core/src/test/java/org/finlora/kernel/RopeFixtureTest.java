package org.finlora.kernel;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** RoPE frequencies bit-exact against torch f32 (fixture from tools/rope_llama3_fixture.py). */
class RopeFixtureTest {
    @Test
    void inverseFrequenciesMatchTorchBits() throws Exception {
        List<String> lines;
        try (var in = new BufferedReader(new InputStreamReader(
                RopeFixtureTest.class.getResourceAsStream("/kernel/rope_llama3_inv_freq.txt"), StandardCharsets.UTF_8))) {
            lines = in.lines().filter(l -> !l.startsWith("#")).toList();
        }
        int[][] cfg = {{128, 8}, {64, 32}};
        for (int k = 0; k < cfg.length; k++) {
            float[] inv = Rope.inverseFrequencies(cfg[k][0], 500000f);
            float[] scaled = Rope.llama3Scaled(inv, cfg[k][1], 1f, 4f, 8192);
            String[] t0 = lines.get(2 * k).split(" "), t1 = lines.get(2 * k + 1).split(" ");
            assertEquals(inv.length, t0.length);
            for (int i = 0; i < inv.length; i++) {
                assertEquals(Integer.parseInt(t0[i]), Float.floatToRawIntBits(inv[i]), "default inv_freq d " + cfg[k][0] + " i " + i);
                assertEquals(Integer.parseInt(t1[i]), Float.floatToRawIntBits(scaled[i]), "llama3 inv_freq d " + cfg[k][0] + " i " + i);
            }
        }
    }
}
