package org.finlora.quant;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class Bnb4bitTest {
    // Fact sheet section 1 (bnb nf4 table), written out independently of the class under test.
    private static final String[] NF4_FACTS = {"-1.0", "-0.6961928009986877", "-0.5250730514526367", "-0.39491748809814453",
            "-0.28444138169288635", "-0.18477343022823334", "-0.09105003625154495", "0.0", "0.07958029955625534",
            "0.16093020141124725", "0.24611230194568634", "0.33791524171829224", "0.44070982933044434",
            "0.5626170039176941", "0.7229568362236023", "1.0"};
    private static final String[] NF4_THRESHOLD_FACTS = {"-0.8480964", "-0.6106329", "-0.45999527", "-0.33967942", "-0.2346074",
            "-0.13791174", "-0.045525018", "0.03979015", "0.12025525", "0.20352125", "0.29201376", "0.38931254",
            "0.50166345", "0.6427869", "0.86147845"};
    // Fact sheet section 2: normalized FP4 magnitudes by the low three bits.
    private static final double[] FP4_FACTS = {0, 0.005208333, 0.6666667, 1.0, 0.3333333, 0.5, 0.1666667, 0.25};
    private static final double[] FP4_THRESHOLD_FACTS = {0.00260417, 0.0859375, 0.20833333, 0.29166667, 0.4166667, 0.583333, 0.8333333};

    @Test
    void nf4TableAndThresholdsMatchFactSheet() {
        for (int i = 0; i < 16; i++) {
            assertEquals(Float.floatToIntBits(Float.parseFloat(NF4_FACTS[i])), Float.floatToIntBits(Bnb4bit.NF4_TABLE[i]), "nf4[" + i + "]");
        }
        for (int i = 0; i < 15; i++) {
            float t = Bnb4bit.NF4_THRESHOLDS[i];
            assertEquals(Float.parseFloat(NF4_THRESHOLD_FACTS[i]), t, 0f, "threshold " + i);
            // each threshold is the f32 midpoint of its two codes (to within an ulp)
            double mid = ((double) Bnb4bit.NF4_TABLE[i] + Bnb4bit.NF4_TABLE[i + 1]) / 2;
            assertEquals(mid, t, Math.ulp(t), "midpoint " + i);
        }
    }

    @Test
    void fp4TableMatchesFactSheet() {
        for (int i = 0; i < 8; i++) {
            assertEquals(FP4_FACTS[i], Bnb4bit.FP4_TABLE[i], 1e-7, "fp4[" + i + "]");
            assertEquals(-FP4_FACTS[i], Bnb4bit.FP4_TABLE[8 + i], 1e-7, "fp4[" + (8 + i) + "]");
        }
        assertEquals(Float.floatToIntBits(-0.0f), Float.floatToIntBits(Bnb4bit.FP4_TABLE[8]));
        for (int i = 0; i < 7; i++) assertEquals(FP4_THRESHOLD_FACTS[i], Bnb4bit.FP4_THRESHOLDS[i], 1e-7);
    }

    @Test
    void nf4TiesGoToTheLowerCode() {
        for (int i = 0; i < 15; i++) {
            float t = Bnb4bit.NF4_THRESHOLDS[i];
            assertEquals(i, Bnb4bit.encodeNf4(t), "exactly at threshold " + i);
            assertEquals(i + 1, Bnb4bit.encodeNf4(Math.nextUp(t)), "just above threshold " + i);
        }
        assertEquals(0, Bnb4bit.encodeNf4(-1f));
        assertEquals(15, Bnb4bit.encodeNf4(1f));
        assertEquals(7, Bnb4bit.encodeNf4(-0.0f));
        assertEquals(7, Bnb4bit.encodeNf4(0.0f));
        assertEquals(0, Bnb4bit.encodeNf4(Float.NaN));
    }

    @Test
    void fp4SignRuleAndTies() {
        assertEquals(0, Bnb4bit.encodeFp4(-0.0f), "-0.0 gets sign 0");
        assertEquals(0, Bnb4bit.encodeFp4(0.0f));
        assertEquals(8, Bnb4bit.encodeFp4(-1e-9f), "tiny negative keeps sign 8 with magnitude 000");
        assertEquals(0b0011, Bnb4bit.encodeFp4(1f));
        assertEquals(0b1011, Bnb4bit.encodeFp4(-1f));
        int[] above = {0b001, 0b110, 0b111, 0b100, 0b101, 0b010, 0b011};
        int[] at = {0b000, 0b001, 0b110, 0b111, 0b100, 0b101, 0b010};
        for (int i = 0; i < 7; i++) {
            float t = Bnb4bit.FP4_THRESHOLDS[i];
            assertEquals(at[i], Bnb4bit.encodeFp4(t), "tie at " + t);
            assertEquals(above[i], Bnb4bit.encodeFp4(Math.nextUp(t)));
            assertEquals(8 | at[i], Bnb4bit.encodeFp4(-t));
        }
        // every code maps back to itself
        for (int c = 0; c < 16; c++) {
            if (c == 8) continue;   // -0.0 encodes as +0
            assertEquals(c, Bnb4bit.encodeFp4(Bnb4bit.FP4_TABLE[c]), "fp4 code " + c);
            assertEquals(c, Bnb4bit.encodeNf4(Bnb4bit.NF4_TABLE[c]), "nf4 code " + c);
        }
    }

    /** The encoders count the thresholds below x: the same codes as a linear scan over them, on every edge. */
    @Test
    void encodersEqualTheLinearThresholdCount() {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(5);
        java.util.List<Float> xs = new java.util.ArrayList<>(java.util.List.of(0f, -0f, 1f, -1f, 1.5f, -1.5f, Float.NaN,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE, -Float.MIN_VALUE));
        for (float[] ts : new float[][]{Bnb4bit.NF4_THRESHOLDS, Bnb4bit.FP4_THRESHOLDS}) {
            for (float t : ts) {
                for (float v : new float[]{t, -t}) {
                    xs.add(v);
                    xs.add(Math.nextUp(v));
                    xs.add(Math.nextDown(v));
                }
            }
        }
        for (int i = 0; i < 200_000; i++) xs.add((float) (rnd.nextDouble() * 2.4 - 1.2));
        for (float x : xs) {
            int nf4 = 0;
            for (float t : Bnb4bit.NF4_THRESHOLDS) {
                if (x > t) nf4++;
                else break;
            }
            assertEquals(nf4, Bnb4bit.encodeNf4(x), "nf4 code of " + x);
            int level = 0;
            for (float t : Bnb4bit.FP4_THRESHOLDS) {
                if (Math.abs(x) > t) level++;
                else break;
            }
            int[] ascending = {0b000, 0b001, 0b110, 0b111, 0b100, 0b101, 0b010, 0b011};
            assertEquals((x < 0 ? 8 : 0) | ascending[level], Bnb4bit.encodeFp4(x), "fp4 code of " + x);
        }
    }

    @Test
    void handComputedBlocksWithPartialLastBlock() {
        // 32 + 8 elements, blocksize 32: block 0 absmax 2, block 1 (partial) absmax 0.5
        float[] x = new float[40];
        x[0] = 2f;               // xn 1 -> 15
        x[1] = -2f;              // -1 -> 0
        x[2] = 1f;               // 0.5 -> nf4: 0.5 in (0.44.., 0.5626) nearest: 0.50166345 threshold, 0.5 < it -> 12
        x[3] = -0.0f;            // -> 7
        x[4] = 0.03979015f * 2f; // xn exactly the threshold -> 7 (tie to lower)
        x[5] = Math.nextUp(0.03979015f) * 2f; // -> 8
        x[32] = -0.5f;           // block 1: -1 -> 0
        x[33] = 0.25f;           // 0.5 -> 12
        x[34] = 0.5f;            // 1 -> 15
        Bnb4bit.Result r = Bnb4bit.quantize(x, Bnb4bit.Type.NF4, 32);
        assertArrayEquals(new float[]{2f, 0.5f}, r.absmax());
        byte[] c = r.codes();
        assertEquals(15, c[0]);
        assertEquals(0, c[1]);
        assertEquals(12, c[2]);
        assertEquals(7, c[3]);
        assertEquals(7, c[4]);
        assertEquals(8, c[5]);
        assertEquals(7, c[6]);
        assertEquals(0, c[32]);
        assertEquals(12, c[33]);
        assertEquals(15, c[34]);
        assertEquals(7, c[39]);
        float[] d = Bnb4bit.dequantize(c, r.absmax(), Bnb4bit.Type.NF4, 32);
        assertEquals(Bnb4bit.NF4_TABLE[12] * 2f, d[2]);
        assertEquals(Bnb4bit.NF4_TABLE[12] * 0.5f, d[33]);
    }

    @Test
    void allZeroBlockFollowsCuda() {
        float[] x = new float[64];   // one all-zero block, one normal block
        for (int i = 32; i < 64; i++) x[i] = i - 48;
        Bnb4bit.Result nf = Bnb4bit.quantize(x, Bnb4bit.Type.NF4, 32);
        Bnb4bit.Result fp = Bnb4bit.quantize(x, Bnb4bit.Type.FP4, 32);
        assertEquals(0f, nf.absmax()[0]);
        for (int i = 0; i < 32; i++) {
            assertEquals(0, nf.codes()[i], "nf4 code of a zero block");
            assertEquals(0, fp.codes()[i], "fp4 code of a zero block");
        }
        float[] d = Bnb4bit.dequantize(nf.codes(), nf.absmax(), Bnb4bit.Type.NF4, 32);
        assertEquals(Float.floatToIntBits(-0.0f), Float.floatToIntBits(d[0]), "nf4 code 0 * 0 = -0.0");
        assertEquals(16f, nf.absmax()[1]);
    }

    @Test
    void packingIsHighNibbleFirstAndPadsOddWithSeven() {
        byte[] codes = {1, 2, 15, 0, 9};
        byte[] p = Bnb4bit.packBnb(codes);
        assertArrayEquals(new byte[]{0x12, (byte) 0xF0, (byte) 0x97}, p);
        assertArrayEquals(codes, Bnb4bit.unpackBnb(p, 5));
    }

    @Test
    void blocksizeValidation() {
        Bnb4bit.checkBlocksize(32, "w");
        Bnb4bit.checkBlocksize(4096, "w");
        var e = assertThrows(org.finlora.FinloraException.class, () -> Bnb4bit.checkBlocksize(48, "layers.0.q_proj.weight"));
        assertTrue(e.getMessage().contains("layers.0.q_proj.weight") && e.getMessage().contains("48"), e.getMessage());
        assertThrows(org.finlora.FinloraException.class, () -> Bnb4bit.checkBlocksize(8192, "w"));
        assertThrows(org.finlora.FinloraException.class, () -> Bnb4bit.Type.parse("nf3", "w"));
    }
}
