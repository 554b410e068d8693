package org.finlora.quant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.InputStream;

import static org.junit.jupiter.api.Assertions.*;

class DynamicMapTest {

    @Test
    void signedMapKeyValues() {
        float[] d = DynamicMap.signed();
        assertEquals(256, d.length);
        assertEquals(-0.99296875f, d[0]);
        assertEquals(0f, d[127]);
        assertEquals(1f, d[255]);
        assertEquals(0.99296875f, d[254]);
        assertEquals(5.5e-7f, d[128], 1e-13f);   // smallest magnitude: 1e-6 * (0.1 + 1) / 2
        assertEquals(-5.5e-7f, d[126], 1e-13f);
        for (int i = 1; i < 256; i++) assertTrue(d[i - 1] < d[i], "strictly sorted at " + i);
    }

    @Test
    void unsignedMapKeyValues() {
        float[] u = DynamicMap.unsigned();
        assertEquals(0f, u[0]);
        assertEquals(3.25e-7f, u[1], 1e-13f);
        assertEquals(1f, u[255]);
        for (int i = 1; i < 256; i++) assertTrue(u[i - 1] < u[i], "strictly sorted at " + i);
    }

    @Test
    void linspaceScalarRule() {
        float[] l = DynamicMap.linspace(0.1f, 1f, 3);
        assertArrayEquals(new float[]{0.1f, 0.55f, 1f}, l);
        float step = (1f - 0.1f) / 8f;
        float[] l9 = DynamicMap.linspace(0.1f, 1f, 9);
        assertEquals(0.1f + step * 3f, l9[3]);
        assertEquals(1f - step * 4f, l9[4]);
        assertEquals(1f, l9[8]);
    }

    /**
     * Against torch 1.13's float32 ops (tools/make_dynamic_map_fixture.py). torch's vectorized CPU
     * linspace rounds some entries differently (FMA, per-lane arange), so we require every entry
     * within 2 ulp and the key entries exact; the count of exact entries is asserted so a change shows.
     */
    @Test
    void closeToTorchFixture() throws Exception {
        JsonNode root;
        try (InputStream in = getClass().getResourceAsStream("/fixtures/quant/dynamic_maps.json")) {
            assertNotNull(in, "fixture missing");
            root = new ObjectMapper().readTree(in);
        }
        for (String kind : new String[]{"signed", "unsigned"}) {
            float[] mine = kind.equals("signed") ? DynamicMap.signed() : DynamicMap.unsigned();
            JsonNode bits = root.get(kind);
            int exact = 0, maxUlps = 0;
            for (int i = 0; i < 256; i++) {
                float ref = Float.intBitsToFloat((int) bits.get(i).asLong());
                int ulps = Math.abs(Float.floatToIntBits(ref) - Float.floatToIntBits(mine[i]));
                if (ulps == 0) exact++;
                maxUlps = Math.max(maxUlps, ulps);
                assertTrue(ulps <= 2, kind + "[" + i + "]: " + mine[i] + " vs torch " + ref);
            }
            System.out.println("dynamic map " + kind + ": " + exact + "/256 bit-exact vs torch 1.13, max " + maxUlps + " ulp");
            assertEquals(ref(root, kind, 0), mine[0]);
            assertEquals(ref(root, kind, 255), mine[255]);
            assertTrue(exact >= 200, kind + ": only " + exact + " of 256 entries bit-exact");
        }
    }

    private static float ref(JsonNode root, String kind, int i) {
        return Float.intBitsToFloat((int) root.get(kind).get(i).asLong());
    }

    @Test
    void nearestTiesGoToLowerIndex() {
        float[] code = {-1f, 0f, 0.5f, 1f};
        assertEquals(1, DynamicMap.nearest(code, 0.25f), "exact midpoint -> lower index");
        assertEquals(2, DynamicMap.nearest(code, Math.nextUp(0.25f)));
        assertEquals(0, DynamicMap.nearest(code, -0.5f));
        assertEquals(0, DynamicMap.nearest(code, -2f));
        assertEquals(3, DynamicMap.nearest(code, 0.75f + 1e-6f));
        assertEquals(2, DynamicMap.nearest(code, 0.75f));
        assertEquals(0, DynamicMap.nearest(code, Float.NaN));
        float[] d = DynamicMap.signed();
        for (int i = 0; i < 256; i++) assertEquals(i, DynamicMap.nearest(d, d[i]));
    }

    @Test
    void blockwiseRoundTrip() {
        float[] x = new float[300];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i * 0.37) * (i < 256 ? 3f : 0.01f);
        float[] map = DynamicMap.signed();
        DynamicMap.Blockwise b = DynamicMap.quantizeBlockwise(x, map, 256);
        assertEquals(2, b.absmax().length);
        float[] d = DynamicMap.dequantizeBlockwise(b, map);
        for (int i = 0; i < x.length; i++) {
            float absmax = b.absmax()[i / 256];
            // the nearest code is at most half the largest gap (about 0.0146 near 1) away
            assertEquals(x[i], d[i], absmax * 0.0075f, "element " + i);
            assertEquals(map[b.codes()[i] & 0xFF] * absmax, d[i]);
        }
    }
}
