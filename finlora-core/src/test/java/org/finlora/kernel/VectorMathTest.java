package org.finlora.kernel;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** VectorMath.exp against Math.exp (double, then rounded to float), and vector lanes against the scalar version. */
class VectorMathTest {
    /** Error in units of the last place of the correctly rounded result (subnormal results: of Float.MIN_VALUE). */
    static double ulps(float got, double exact) {
        float ref = (float) exact;
        if (Float.isInfinite(ref) || ref == 0f) return got == ref ? 0 : Double.POSITIVE_INFINITY;
        return Math.abs(got - exact) / Math.ulp(ref);
    }

    static float[] values() {
        SplittableRandom rnd = new SplittableRandom(3);
        float[] edge = {0f, -0f, 1f, -1f, 0.5f, -0.5f, 0.34657359f, -0.34657359f, 1e-30f, -1e-30f, Float.MIN_VALUE, -Float.MIN_VALUE,
                88.0f, 88.72283f, 88.7228317f, 88.72284f, 88.8f, 89f, 100f, 1e30f, Float.MAX_VALUE,
                -87.33654f, -87.34f, -90f, -100f, -103.27893f, -103.97208f, -103.98f, -104f, -105f, -150f, -1e30f, -Float.MAX_VALUE,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, Float.intBitsToFloat(0x7fc00123)};
        int grid = 20000, random = 20000;
        float[] v = new float[edge.length + grid + random];
        System.arraycopy(edge, 0, v, 0, edge.length);
        for (int i = 0; i < grid; i++) v[edge.length + i] = -110f + 200f * i / grid;   // covers underflow, subnormal, normal, overflow
        for (int i = 0; i < random; i++) {
            float x = (float) (rnd.nextDouble() * 30 - 15);
            if (i % 3 == 0) x = Float.intBitsToFloat(rnd.nextInt()) ;   // any bit pattern
            v[edge.length + grid + i] = x;
        }
        return v;
    }

    @Test
    void scalarExpIsWithinOneUlpOverTheFloatRange() {
        double worst = 0, worstSub = 0;
        float at = 0;
        for (float x : values()) {
            float got = VectorMath.exp(x);
            if (Float.isNaN(x)) {
                assertTrue(Float.isNaN(got), "NaN in, NaN out");
                continue;
            }
            double exact = Math.exp(x);
            float ref = (float) exact;
            if (ref != 0f && Math.abs(ref) < Float.MIN_NORMAL) {
                // subnormal result: one rounding of a value with a few normal ulps of error
                double e = Math.abs(got - exact) / Float.MIN_VALUE;
                worstSub = Math.max(worstSub, e);
                assertTrue(e <= 1.0, "exp(" + x + ") = " + got + ", expected " + ref);
                continue;
            }
            double u = ulps(got, exact);
            if (u > worst) {
                worst = u;
                at = x;
            }
            assertTrue(u <= 1.0, "exp(" + x + ") = " + got + " (" + Float.floatToIntBits(got) + "), expected " + ref + ": " + u + " ulps");
        }
        assertTrue(worst < 1.0, "worst " + worst + " ulps at " + at);
    }

    @Test
    void edgeCases() {
        assertEquals(1f, VectorMath.exp(0f));
        assertEquals(1f, VectorMath.exp(-0f));
        assertEquals(0f, VectorMath.exp(Float.NEGATIVE_INFINITY));
        assertEquals(0f, VectorMath.exp(-1e30f));
        assertEquals(0f, VectorMath.exp(-104f), "e^-104 = 6.8e-46 is below half the smallest subnormal");
        assertEquals(Float.POSITIVE_INFINITY, VectorMath.exp(Float.POSITIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, VectorMath.exp(88.7229f), "just past ln(Float.MAX_VALUE)");
        assertEquals(Float.POSITIVE_INFINITY, VectorMath.exp(1e30f));
        assertTrue(VectorMath.exp(88.7228f) < Float.POSITIVE_INFINITY && VectorMath.exp(88.7228f) > 3.4e38f);
        assertEquals(Float.MIN_VALUE, VectorMath.exp(-103.5f), "e^-103.5 = 1.1e-45 rounds to the smallest subnormal");
        assertTrue(Float.isNaN(VectorMath.exp(Float.NaN)));
        assertEquals((float) Math.E, VectorMath.exp(1f), Math.ulp((float) Math.E));
    }

    @Test
    void vectorLanesMatchTheScalarBitForBit() {
        var F = TestWeights.width().floats();
        float[] v = values();
        int n = v.length - v.length % F.length();
        float[] out = new float[n];
        for (int i = 0; i < n; i += F.length()) VectorMath.exp(FloatVector.fromArray(F, v, i)).intoArray(out, i);
        for (int i = 0; i < n; i++) {
            float s = VectorMath.exp(v[i]);
            if (Float.isNaN(s)) assertTrue(Float.isNaN(out[i]), "lane " + i + " of NaN input");
            else assertEquals(Float.floatToIntBits(s), Float.floatToIntBits(out[i]), "exp(" + v[i] + ")");
        }
    }
}
