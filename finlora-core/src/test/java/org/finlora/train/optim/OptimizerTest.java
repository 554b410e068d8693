package org.finlora.train.optim;

import org.finlora.quant.DynamicMap;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class OptimizerTest {

    @Test
    void adamWTorchSemanticsThreeSteps() {
        float[] p = {1.0f, -2.0f, 0.5f};
        AdamW opt = new AdamW(List.of(p), 0.9, 0.999, 1e-8, 0.1);
        double[][] gs = {{0.1, -0.2, 0.3}, {-0.05, 0.4, 0.0}, {0.2, 0.1, -0.3}};
        double lr = 0.01;
        // step 1 by hand: m̂ = g, v̂ = g², so p = p0·(1 - lr·wd) - lr·g/(|g| + eps)
        opt.step(List.of(f(gs[0])), (float) lr);
        assertEquals(1.0 * (1 - 0.001) - 0.01 * 0.1 / (0.1 + 1e-8), p[0], 1e-7);
        assertEquals(-2.0 * (1 - 0.001) + 0.01, p[1], 1e-7);
        // steps 2-3 against the torch formulas in double
        double[] ref = {1.0, -2.0, 0.5}, m = new double[3], v = new double[3];
        for (int t = 1; t <= 3; t++) {
            for (int i = 0; i < 3; i++) {
                double g = gs[t - 1][i];
                ref[i] *= 1 - lr * 0.1;
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.999 * v[i] + 0.001 * g * g;
                double bc1 = 1 - Math.pow(0.9, t), bc2 = 1 - Math.pow(0.999, t);
                ref[i] -= lr / bc1 * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + 1e-8);
            }
            if (t > 1) opt.step(List.of(f(gs[t - 1])), (float) lr);
        }
        for (int i = 0; i < 3; i++) assertEquals(ref[i], p[i], 2e-6, "p[" + i + "]");
        assertEquals(3, opt.steps());
    }

    @Test
    void eightBitStateKeepsTheSignOfM() {
        // the maps themselves are tested in quant (against torch); here: bnb's sign fix for m
        float[] s = DynamicMap.signed();
        // nearest code, ties to the lower one; m keeps its sign through quantization
        assertEquals(255, DynamicMap.nearest(s, 0.9999f));
        assertEquals(127, DynamicMap.nearest(s, 1e-9f));
        assertEquals(126, AdamW8bit.quantizeSigned(-1e-9f, 1f));
        assertEquals(127, AdamW8bit.quantizeSigned(1e-9f, 1f));
        float mid = (s[200] + s[201]) * 0.5f;
        assertEquals(200, DynamicMap.nearest(s, mid));
    }

    @Test
    void adamW8bitBlockwiseAgainstAReferenceAndHandValues() {
        Random rng = new Random(3);
        int n = 4096 + 100;                     // quantized: 16 full blocks + a partial one
        float[] big = new float[n], small = {1.0f, -2.0f, 0.5f};
        for (int i = 0; i < n; i++) big[i] = (float) rng.nextGaussian();
        float[] big0 = big.clone();
        AdamW8bit opt = new AdamW8bit(List.of(big, small), 0.9f, 0.999f, 1e-8f, 0.1f);
        assertTrue(opt.isQuantized(0));
        assertFalse(opt.isQuantized(1));
        float lr = 0.01f;
        float[][] g = new float[3][n];
        for (int t = 0; t < 3; t++) for (int i = 0; i < n; i++) g[t][i] = (float) (rng.nextGaussian() * (1 + i % 7));
        g[1][5] = Float.NaN;
        // step 1 by hand: p = (p0 - lr·g/(|g| + eps)) · (1 - lr·wd)   (decay after the update, unlike torch)
        opt.step(List.of(g[0], new float[]{0.1f, -0.2f, 0.3f}), lr);
        assertEquals((1.0 - 0.01) * (1 - 0.001), small[0], 1e-6);
        assertEquals((-2.0 + 0.01) * (1 - 0.001), small[1], 1e-6);
        for (int i = 0; i < n; i += 97) assertEquals((big0[i] - 0.01 * Math.signum(g[0][i])) * 0.999, big[i], 1e-5);
        // dequantized state ≈ the exact state within the code book's resolution
        float[] m = opt.exp_avg(0), v = opt.exp_avg_sq(0);
        for (int b = 0; b * 256 < n; b++) {
            double maxM = 0, maxV = 0;
            for (int i = b * 256; i < Math.min(n, b * 256 + 256); i++) {
                maxM = Math.max(maxM, Math.abs(0.1 * g[0][i]));
                maxV = Math.max(maxV, 0.001 * g[0][i] * g[0][i]);
            }
            for (int i = b * 256; i < Math.min(n, b * 256 + 256); i++) {
                assertEquals(0.1 * g[0][i], m[i], 0.0071 * maxM, "m[" + i + "]");
                assertEquals(0.001 * g[0][i] * g[0][i], v[i], 0.0036 * maxV, "v[" + i + "]");
            }
        }
        // steps 2-3 against an independent reference: linear-scan nearest code
        float[] ref = big.clone(), mq = m.clone(), vq = v.clone();
        for (int t = 2; t <= 3; t++) {
            float c1 = 1f - (float) Math.pow(0.9f, t), c2 = (float) Math.sqrt(1f - (float) Math.pow(0.999f, t));
            float[] ms = new float[n], vs = new float[n];
            for (int i = 0; i < n; i++) {
                float gi = g[t - 1][i];
                if (Float.isNaN(gi)) continue;
                ms[i] = mq[i] * 0.9f + 0.1f * gi;
                vs[i] = vq[i] * 0.999f + 0.001f * gi * gi;
                ref[i] = ref[i] + (-lr * c2 / c1) * (ms[i] / ((float) Math.sqrt(vs[i]) + 1e-8f * c2));
                ref[i] = ref[i] * (1f - lr * 0.1f);
            }
            for (int b = 0; b * 256 < n; b++) {
                float am = 0, av = 0;
                int e = Math.min(n, b * 256 + 256);
                for (int i = b * 256; i < e; i++) {
                    am = Math.max(am, Math.abs(ms[i]));
                    av = Math.max(av, vs[i]);
                }
                for (int i = b * 256; i < e; i++) {
                    mq[i] = DynamicMap.signed()[scan(DynamicMap.signed(), ms[i] / am, true, ms[i])] * am;
                    vq[i] = DynamicMap.unsigned()[scan(DynamicMap.unsigned(), vs[i] / av, false, vs[i])] * av;
                }
            }
            opt.step(List.of(g[t - 1], new float[3]), lr);
        }
        for (int i = 0; i < n; i++) assertEquals(ref[i], big[i], 1e-6, "p[" + i + "]");
        float[] m3 = opt.exp_avg(0);
        for (int i = 0; i < n; i++) assertEquals(mq[i], m3[i], 1e-6f * Math.max(1f, Math.abs(mq[i])), "m[" + i + "]");
        assertEquals(big0[5] * 0.999f, ref[5], 0.02);   // element 5 skipped its update at step 2 (NaN gradient)
        assertTrue(opt.stateBytes() < 8L * n / 3, "8-bit state is about a quarter of f32 state");
    }

    private static int scan(float[] code, float x, boolean signed, float raw) {
        int best = 0;
        for (int c = 1; c < 256; c++) if (Math.abs(code[c] - x) < Math.abs(code[best] - x)) best = c;
        if (signed && (Float.floatToRawIntBits(code[best]) < 0) != (Float.floatToRawIntBits(raw) < 0)) best += raw > 0 ? 1 : -1;
        return best;
    }

    @Test
    void zeroOneAdamAcrossTheVarianceFreeze() {
        // var_freeze_step 5, var_update_scaler 2, local_step_scaler 2, clipper 4, one process
        float[] p = {1.0f};
        ZeroOneAdam opt = new ZeroOneAdam(List.of(p), 0.9, 0.999, 1e-8, 0.0, 5, 2, 2, 4);
        double[] g = {0, 0.5, 0.2, -0.1, 0.3, 0.4, -0.2, 0.1, 0.25, -0.3, 0.05, 0.15};   // g[k] for call k
        double lr = 0.1, eps = 1e-8;
        double rp = 1.0, m = 0, v = 0;
        // call 1 only initializes
        opt.step(List.of(new float[]{(float) g[1]}), (float) lr);
        assertEquals(1.0f, p[0]);
        // calls 2, 3 (var_interval 1), 4 (interval 2 after two var steps; 4 % 2 == 0): full m, v updates
        for (int k = 2; k <= 4; k++) {
            v = 0.999 * v + 0.001 * g[k] * g[k];
            m = 0.9 * m + 0.1 * g[k];
            rp -= lr * m / (Math.sqrt(v) + eps);
            opt.step(List.of(new float[]{(float) g[k]}), (float) lr);
            assertEquals(rp, p[0], 1e-5, "call " + k);
        }
        // call 5: 5 % 2 != 0, one process → m stays stale, p still moves
        rp -= lr * m / (Math.sqrt(v) + eps);
        opt.step(List.of(new float[]{(float) g[5]}), (float) lr);
        assertEquals(rp, p[0], 1e-5, "call 5 (stale m)");
        assertEquals(m, opt.exp_avg(0)[0], 1e-7);
        assertFalse(opt.varianceFrozen());
        // call 6: var step, then step 6 > 5 freezes v
        v = 0.999 * v + 0.001 * g[6] * g[6];
        m = 0.9 * m + 0.1 * g[6];
        rp -= lr * m / (Math.sqrt(v) + eps);
        opt.step(List.of(new float[]{(float) g[6]}), (float) lr);
        assertEquals(rp, p[0], 1e-5, "call 6");
        assertTrue(opt.varianceFrozen());
        double vFrozen = opt.exp_avg_sq(0)[0];
        assertEquals(v, vFrozen, 1e-9);
        // calls 7, 8: local-step interval 1 (sync each step; a no-op on one process), then it doubles
        for (int k = 7; k <= 8; k++) {
            m = 0.9 * m + 0.1 * g[k];
            rp -= lr * m / (Math.sqrt(v) + eps);
            opt.step(List.of(new float[]{(float) g[k]}), (float) lr);
            assertEquals(rp, p[0], 1e-5, "call " + k);
            assertEquals(m, opt.exp_avg(0)[0], 1e-6);
        }
        // call 9: no sync; call 10: sync resets m to the lr-weighted mean of m9 and m10
        double m9 = 0.9 * m + 0.1 * g[9];
        rp -= lr * m9 / (Math.sqrt(v) + eps);
        opt.step(List.of(new float[]{(float) g[9]}), (float) lr);
        assertEquals(rp, p[0], 1e-5, "call 9");
        assertEquals(m9, opt.exp_avg(0)[0], 1e-6);
        double m10 = 0.9 * m9 + 0.1 * g[10];
        rp -= lr * m10 / (Math.sqrt(v) + eps);
        opt.step(List.of(new float[]{(float) g[10]}), (float) lr);
        assertEquals(rp, p[0], 1e-5, "call 10");
        assertEquals((m9 + m10) / 2, opt.exp_avg(0)[0], 1e-6, "momentum after the local-step sync");
        double m11 = 0.9 * (m9 + m10) / 2 + 0.1 * g[11];
        rp -= lr * m11 / (Math.sqrt(v) + eps);
        opt.step(List.of(new float[]{(float) g[11]}), (float) lr);
        assertEquals(rp, p[0], 1e-5, "call 11");
        assertEquals(vFrozen, opt.exp_avg_sq(0)[0]);
    }

    @Test
    void zeroOneAdamWeightDecayIsL2InTheUpdate() {
        float[] p = {2.0f, -1.0f};
        ZeroOneAdam opt = ZeroOneAdam.finlora(List.of(p), 0.01);
        opt.step(List.of(new float[]{0.3f, 0.3f}), 0.1);        // initialization only
        assertArrayEquals(new float[]{2.0f, -1.0f}, p);
        opt.step(List.of(new float[]{0.3f, -0.6f}), 0.1);
        // m = 0.1 g, v = 0.001 g²: upd = 0.1 g / (√0.001 |g| + eps) + wd·p
        double u0 = 0.1 * 0.3 / (Math.sqrt(0.001) * 0.3 + 1e-8) + 0.01 * 2.0;
        double u1 = 0.1 * -0.6 / (Math.sqrt(0.001) * 0.6 + 1e-8) + 0.01 * -1.0;
        assertEquals(2.0 - 0.1 * u0, p[0], 1e-5);
        assertEquals(-1.0 - 0.1 * u1, p[1], 1e-5);
        assertEquals(2, opt.steps());
        assertEquals(3 * 4 * 2, opt.stateBytes());
    }

    @Test
    void schedulesAndClipping() {
        LrSchedule cos = new LrSchedule(LrSchedule.Kind.COSINE, 1.0, 10, 110);
        assertEquals(0.0, cos.multiplier(0));
        assertEquals(0.5, cos.multiplier(5), 1e-12);
        assertEquals(1.0, cos.multiplier(10), 1e-12);
        assertEquals(0.5, cos.multiplier(60), 1e-12);
        assertEquals(0.0, cos.multiplier(110), 1e-12);
        LrSchedule lin = new LrSchedule(LrSchedule.Kind.LINEAR, 2.0, 10, 110);
        assertEquals(1.0, lin.lr(60), 1e-6);
        assertEquals(0.0, lin.lr(200), 0);
        assertEquals(1.0, new LrSchedule(LrSchedule.Kind.CONSTANT_WITH_WARMUP, 1.0, 4, 10).multiplier(7));
        assertEquals(0.25, new LrSchedule(LrSchedule.Kind.CONSTANT_WITH_WARMUP, 1.0, 4, 10).multiplier(1));
        assertEquals(1.0, new LrSchedule(LrSchedule.Kind.CONSTANT, 1.0, 4, 10).multiplier(0));
        assertEquals(3, LrSchedule.warmupSteps(0, 0.03, 100));
        assertEquals(4, LrSchedule.warmupSteps(0, 0.03, 101));
        assertEquals(10, LrSchedule.warmupSteps(10, 0.03, 101));

        float[] a = {3f}, b = {4f};
        assertEquals(5.0, GradClip.clipByGlobalNorm(List.of(a, b), 1.0), 1e-9);
        assertEquals(3.0 / (5 + 1e-6), a[0], 1e-7);
        assertEquals(4.0 / (5 + 1e-6), b[0], 1e-7);
        float[] c = {0.3f}, d = {0.4f};
        GradClip.clipByGlobalNorm(List.of(c, d), 1.0);
        assertEquals(0.3f, c[0]);
        assertEquals(0.4f, d[0]);
    }

    private static float[] f(double[] x) {
        float[] o = new float[x.length];
        for (int i = 0; i < x.length; i++) o[i] = (float) x[i];
        return o;
    }
}
