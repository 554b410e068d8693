package org.finlora.train;

import org.finlora.kernel.Simd;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.finlora.train.GradCheck.*;
import static org.junit.jupiter.api.Assertions.*;

/** Finite-difference checks of each layer's backward on small odd shapes. */
class LayerGradientTest {

    @Test
    void rmsNorm() {
        Random rng = new Random(1);
        int N = 3, C = 7;
        float[] x = randn(rng, N * C, 1f), w = randn(rng, C, 1f), r = randn(rng, N * C, 1f);
        float[] out = new float[N * C], rstd = new float[N];
        java.util.function.DoubleSupplier loss = () -> {
            RmsNormLayer.forward(out, rstd, x, w, N, C, 1e-5f);
            return dot(out, r, N * C);
        };
        loss.getAsDouble();
        // forward against a direct double formula
        for (int n = 0; n < N; n++) {
            double ss = 0;
            for (int i = 0; i < C; i++) ss += (double) x[n * C + i] * x[n * C + i];
            double rs = 1 / Math.sqrt(ss / C + 1e-5);
            for (int i = 0; i < C; i++) assertEquals(x[n * C + i] * rs * w[i], out[n * C + i], 1e-5);
        }
        float[] dx = new float[N * C], dw = new float[C];
        RmsNormLayer.backward(dx, dw, r, x, rstd, w, N, C);
        check("rmsnorm dx", x, dx, N * C, loss, 1e-2f, 1e-2);
        check("rmsnorm dw", w, dw, C, loss, 1e-2f, 1e-2);
    }

    @Test
    void swiglu() {
        Random rng = new Random(2);
        int n = 13;
        float[] gate = randn(rng, n, 2f), up = randn(rng, n, 1f), r = randn(rng, n, 1f), out = new float[n];
        java.util.function.DoubleSupplier loss = () -> {
            SwiGLU.forward(Simd.configured(), out, gate, up, n);
            return dot(out, r, n);
        };
        loss.getAsDouble();
        for (int i = 0; i < n; i++) assertEquals(gate[i] / (1 + Math.exp(-gate[i])) * up[i], out[i], 1e-5);
        float[] dg = new float[n], du = new float[n];
        SwiGLU.backward(Simd.configured(), dg, du, r, gate, up, n);
        check("swiglu dgate", gate, dg, n, loss, 1e-2f, 1e-2);
        check("swiglu dup", up, du, n, loss, 1e-2f, 1e-2);
        // saturated gates, in vector lanes and in the scalar tail: silu(g) -> 0 and g, derivatives -> 0 and 1
        float[] big = {-1000f, -100f, 100f, 1000f, -90f, 90f, 0f, -0.5f, -1000f, 100f};
        float[] ones = new float[big.length], o = new float[big.length], dgb = new float[big.length], dub = new float[big.length];
        java.util.Arrays.fill(ones, 1f);
        SwiGLU.forward(Simd.configured(), o, big, ones, big.length);
        SwiGLU.backward(Simd.configured(), dgb, dub, ones, big, ones, big.length);
        for (int i = 0; i < big.length; i++) {
            double sig = 1 / (1 + Math.exp(-(double) big[i]));
            assertEquals(big[i] * sig, o[i], 1e-5 * (1 + Math.abs(big[i])), "silu(" + big[i] + ")");
            assertEquals(sig * (1 + big[i] * (1 - sig)), dgb[i], 1e-5, "silu'(" + big[i] + ")");
        }
    }

    @Test
    void ropeBothPairingsAndHfPermutation() {
        Random rng = new Random(3);
        int B = 2, T = 5, nH = 3, hd = 6, W = nH * hd;
        float[] inv = {1f, 0.3f, 0.05f};
        for (boolean interleaved : new boolean[]{true, false}) {
            RopeLayer rope = new RopeLayer(inv, hd, interleaved, 7);
            float[] x = randn(rng, B * T * W, 1f), r = randn(rng, B * T * W, 1f), y = new float[x.length];
            java.util.function.DoubleSupplier loss = () -> {
                System.arraycopy(x, 0, y, 0, x.length);
                rope.forward(y, B, T, nH);
                return dot(y, r, y.length);
            };
            float[] dx = r.clone();
            rope.backward(dx, B, T, nH);
            check("rope dx interleaved=" + interleaved, x, dx, x.length, loss, 1e-2f, 1e-2);
            // position 0 is the identity
            loss.getAsDouble();
            for (int i = 0; i < W; i++) assertEquals(x[i], y[i], 0f);
        }
        // HF converter: Meta row 2i+c of a head becomes HF row c*hd/2+i; the two pairings then agree.
        float[] x = randn(rng, B * T * W, 1f);
        float[] xhf = new float[x.length];
        for (int n = 0; n < B * T; n++)
            for (int h = 0; h < nH; h++)
                for (int i = 0; i < hd / 2; i++)
                    for (int c = 0; c < 2; c++) xhf[n * W + h * hd + c * hd / 2 + i] = x[n * W + h * hd + 2 * i + c];
        new RopeLayer(inv, hd, true, T).forward(x, B, T, nH);
        new RopeLayer(inv, hd, false, T).forward(xhf, B, T, nH);
        for (int n = 0; n < B * T; n++)
            for (int h = 0; h < nH; h++)
                for (int i = 0; i < hd / 2; i++)
                    for (int c = 0; c < 2; c++)
                        assertEquals(x[n * W + h * hd + 2 * i + c], xhf[n * W + h * hd + c * hd / 2 + i], 1e-6);
        // t=3, pair 1: angle 0.9
        float[] one = new float[T * hd];
        one[3 * hd + 2] = 1f;
        new RopeLayer(inv, hd, true, T).forward(one, 1, T, 1);
        assertEquals(Math.cos(0.9), one[3 * hd + 2], 1e-6);
        assertEquals(Math.sin(0.9), one[3 * hd + 3], 1e-6);
    }

    @Test
    void llama3InverseFrequencies() {
        var c = new org.finlora.model.LlamaConfig(4096, 14336, 32, 32, 8, 128, 128256, 131072, 1e-5f, 500000f,
                new org.finlora.model.LlamaConfig.RopeScaling(8f, 1f, 4f, 8192), null, false, false);
        float[] inv = RopeLayer.inverseFrequencies(c);
        int kept = 0, divided = 0, smoothed = 0;
        for (int i = 0; i < 64; i++) {
            float plain = 1f / (float) Math.pow(500000f, (float) (2 * i) / 128);
            if (inv[i] == plain) kept++;
            else if (inv[i] == plain / 8f) divided++;
            else {
                smoothed++;
                assertTrue(inv[i] < plain && inv[i] > plain / 8f, "smoothed value between");
                assertTrue(i >= 29 && i <= 34, "smoothed index " + i);
            }
        }
        assertEquals(29, kept);
        assertEquals(6, smoothed);
        assertEquals(29, divided);
        assertEquals(1f, inv[0]);
    }

    @Test
    void causalAttentionGqaWithPadding() {
        Random rng = new Random(4);
        int B = 2, T = 5, nH = 4, nKv = 2, hd = 3;
        int[] len = {5, 3};
        int qW = nH * hd, kvW = nKv * hd;
        float[] q = randn(rng, B * T * qW, 1f), k = randn(rng, B * T * kvW, 1f), v = randn(rng, B * T * kvW, 1f);
        float[] r = randn(rng, B * T * qW, 1f);
        float[] out = new float[B * T * qW], lse = new float[B * nH * T];
        java.util.function.DoubleSupplier loss = () -> {
            CausalAttention.forward(Simd.configured(), out, lse, q, k, v, B, T, nH, nKv, hd, len);
            return dot(out, r, out.length);
        };
        loss.getAsDouble();
        // forward against a double reference
        for (int b = 0; b < B; b++)
            for (int h = 0; h < nH; h++)
                for (int t = 0; t < T; t++) {
                    int qo = (b * T + t) * qW + h * hd;
                    if (t >= len[b]) {
                        for (int i = 0; i < hd; i++) assertEquals(0f, out[qo + i]);
                        continue;
                    }
                    double[] s = new double[t + 1];
                    double mx = -1e30, sum = 0;
                    for (int t2 = 0; t2 <= t; t2++) {
                        int ko = (b * T + t2) * kvW + (h / 2) * hd;
                        for (int i = 0; i < hd; i++) s[t2] += (double) q[qo + i] * k[ko + i] / Math.sqrt(hd);
                        mx = Math.max(mx, s[t2]);
                    }
                    for (int t2 = 0; t2 <= t; t2++) sum += Math.exp(s[t2] - mx);
                    for (int i = 0; i < hd; i++) {
                        double o = 0;
                        for (int t2 = 0; t2 <= t; t2++) o += Math.exp(s[t2] - mx) / sum * v[(b * T + t2) * kvW + (h / 2) * hd + i];
                        assertEquals(o, out[qo + i], 1e-5);
                    }
                }
        float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length];
        CausalAttention.backward(Simd.configured(), dq, dk, dv, r, out, lse, q, k, v, B, T, nH, nKv, hd, len);
        check("attention dq", q, dq, q.length, loss, 1e-2f, 1e-2);
        check("attention dk", k, dk, k.length, loss, 1e-2f, 1e-2);
        check("attention dv", v, dv, v.length, loss, 1e-2f, 1e-2);
        // keys past a row's length get no gradient
        for (int t = 3; t < 5; t++) for (int i = 0; i < kvW; i++) assertEquals(0f, dk[(T + t) * kvW + i]);
    }

    @Test
    void causalAttentionVectorPathsMatchADoubleReference() {
        // sizes past the 8-wide vector blocks (two-block and one-block score loops, column tails of hd = 20)
        Random rng = new Random(11);
        int B = 2, T = 37, nH = 4, nKv = 2, hd = 20, group = nH / nKv;
        int[] len = {37, 29};
        int qW = nH * hd, kvW = nKv * hd;
        float[] q = randn(rng, B * T * qW, 1f), k = randn(rng, B * T * kvW, 1f), v = randn(rng, B * T * kvW, 1f);
        float[] r = randn(rng, B * T * qW, 1f);
        float[] out = new float[B * T * qW], lse = new float[B * nH * T];
        CausalAttention.forward(Simd.configured(), out, lse, q, k, v, B, T, nH, nKv, hd, len);
        float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length];
        CausalAttention.backward(Simd.configured(), dq, dk, dv, r, out, lse, q, k, v, B, T, nH, nKv, hd, len);
        double[] rdq = new double[q.length], rdk = new double[k.length], rdv = new double[v.length];
        double scale = 1 / Math.sqrt(hd);
        for (int b = 0; b < B; b++)
            for (int h = 0; h < nH; h++) {
                int kh = h / group;
                for (int t = 0; t < len[b]; t++) {
                    int qo = (b * T + t) * qW + h * hd;
                    double[] p = new double[t + 1], dp = new double[t + 1];
                    double mx = -1e300, sum = 0;
                    for (int t2 = 0; t2 <= t; t2++) {
                        int ko = (b * T + t2) * kvW + kh * hd;
                        for (int i = 0; i < hd; i++) p[t2] += (double) q[qo + i] * k[ko + i] * scale;
                        mx = Math.max(mx, p[t2]);
                    }
                    for (int t2 = 0; t2 <= t; t2++) sum += p[t2] = Math.exp(p[t2] - mx);
                    double lseRef = mx + Math.log(sum), dsum = 0;
                    assertEquals(lseRef, lse[(b * nH + h) * T + t], 1e-4, "lse");
                    for (int t2 = 0; t2 <= t; t2++) p[t2] /= sum;
                    for (int i = 0; i < hd; i++) {
                        double o = 0;
                        for (int t2 = 0; t2 <= t; t2++) o += p[t2] * v[(b * T + t2) * kvW + kh * hd + i];
                        assertEquals(o, out[qo + i], 1e-5, "out b" + b + " h" + h + " t" + t);
                    }
                    for (int t2 = 0; t2 <= t; t2++) {
                        int ko = (b * T + t2) * kvW + kh * hd;
                        for (int i = 0; i < hd; i++) {
                            dp[t2] += (double) r[qo + i] * v[ko + i];
                            rdv[ko + i] += p[t2] * r[qo + i];
                        }
                        dsum += p[t2] * dp[t2];
                    }
                    for (int t2 = 0; t2 <= t; t2++) {
                        int ko = (b * T + t2) * kvW + kh * hd;
                        double ds = p[t2] * (dp[t2] - dsum) * scale;
                        for (int i = 0; i < hd; i++) {
                            rdq[qo + i] += ds * k[ko + i];
                            rdk[ko + i] += ds * q[qo + i];
                        }
                    }
                }
            }
        for (int i = 0; i < q.length; i++) assertEquals(rdq[i], dq[i], 1e-4 * (1 + Math.abs(rdq[i])), "dq " + i);
        for (int i = 0; i < k.length; i++) assertEquals(rdk[i], dk[i], 1e-4 * (1 + Math.abs(rdk[i])), "dk " + i);
        for (int i = 0; i < v.length; i++) assertEquals(rdv[i], dv[i], 1e-4 * (1 + Math.abs(rdv[i])), "dv " + i);
        // padded query rows: zero output and zero dq; keys past a row's length get no gradient
        for (int t = len[1]; t < T; t++) {
            for (int i = 0; i < qW; i++) {
                assertEquals(0f, out[(T + t) * qW + i]);
                assertEquals(0f, dq[(T + t) * qW + i]);
            }
            for (int i = 0; i < kvW; i++) assertEquals(0f, dk[(T + t) * kvW + i]);
        }
    }

    @Test
    void crossEntropyChunkedShiftIgnore() {
        Random rng = new Random(5);
        int B = 2, T = 4, C = 5, V = 11;
        DenseTestMatrix head = DenseTestMatrix.random(V, C, rng, 1f);
        float[] x = randn(rng, B * T * C, 1f);
        int[] labels = {3, -100, 7, 10, 0, 4, -100, -100};
        assertEquals(3, CrossEntropy.countTargets(labels, B, T));
        // reference: double logits, positions (b,t) predict labels[b,t+1]
        double ref = 0;
        for (int b = 0; b < B; b++)
            for (int t = 0; t + 1 < T; t++) {
                int lab = labels[b * T + t + 1];
                if (lab == -100) continue;
                double[] z = new double[V];
                double mx = -1e30, sum = 0;
                for (int v = 0; v < V; v++) {
                    for (int c = 0; c < C; c++) z[v] += (double) x[(b * T + t) * C + c] * head.w[v * C + c];
                    mx = Math.max(mx, z[v]);
                }
                for (int v = 0; v < V; v++) sum += Math.exp(z[v] - mx);
                ref += mx + Math.log(sum) - z[lab];
            }
        ref /= 3;
        CrossEntropy chunked = new CrossEntropy(C, V, 3), whole = new CrossEntropy(C, V, 64);
        float[] dx1 = new float[x.length], dx2 = new float[x.length];
        double l1 = chunked.forwardBackward(x, head, labels, B, T, 3, dx1);
        double l2 = whole.forwardBackward(x, head, labels, B, T, 3, dx2);
        assertEquals(ref, l1, 1e-5);
        assertEquals(ref, l2, 1e-5);
        assertArrayEquals(dx2, dx1, 1e-6f);
        // rows whose next label is ignored, and the last position, get no gradient
        for (int c = 0; c < C; c++) {
            assertEquals(0f, dx1[0 * C + c]);
            assertEquals(0f, dx1[3 * C + c]);
            assertEquals(0f, dx1[5 * C + c]);
        }
        check("cross-entropy dx", x, dx1, x.length, () -> chunked.forwardBackward(x, head, labels, B, T, 3, null), 1e-2f, 1e-2);
        assertThrows(org.finlora.FinloraException.class,
                () -> whole.forwardBackward(x, head, new int[]{0, 11, 0, 0, 0, 0, 0, 0}, B, T, 1, null));
    }

    @Test
    void loraLinearWithAndWithoutDropout() {
        Random rng = new Random(6);
        int N = 5, in = 7, out = 9, r = 3;
        for (float p : new float[]{0f, 0.3f}) {
            DenseTestMatrix W = DenseTestMatrix.random(out, in, rng, 0.5f);
            float[] A = randn(rng, r * in, 0.5f), Bm = randn(rng, out * r, 0.5f);
            float[] gA = new float[A.length], gB = new float[Bm.length];
            LoraLinear lin = new LoraLinear(W, A, Bm, gA, gB, r, 1.7f, p, Simd.configured());
            float[] x = randn(rng, N * in, 1f), dy = randn(rng, N * out, 1f);
            float[] y = new float[N * out], h = new float[N * r], xd = new float[N * in], g = new float[N * r];
            long seed = 42;
            java.util.function.DoubleSupplier loss = () -> {
                lin.forward(x, y, h, N, seed, true, xd);
                return dot(y, dy, y.length);
            };
            loss.getAsDouble();
            // forward against a direct formula with the same mask
            for (int n = 0; n < N; n++)
                for (int o = 0; o < out; o++) {
                    double ref = 0;
                    for (int c = 0; c < in; c++) ref += (double) x[n * in + c] * W.w[o * in + c];
                    for (int j = 0; j < r; j++) {
                        double hj = 0;
                        for (int c = 0; c < in; c++) {
                            int i = n * in + c;
                            double xdrop = LoraLinear.keep(seed, i, p) ? x[i] / (1 - p) : 0;
                            hj += xdrop * A[j * in + c];
                        }
                        ref += 1.7 * Bm[o * r + j] * hj;
                    }
                    assertEquals(ref, y[n * out + o], 1e-4);
                }
            float[] dx = new float[N * in];
            lin.backward(dy, x, h, dx, N, seed, true, g, xd);
            check("lora dx p=" + p, x, dx, dx.length, loss, 1e-2f, 1e-2);
            check("lora dA p=" + p, A, gA, A.length, loss, 1e-2f, 1e-2);
            check("lora dB p=" + p, Bm, gB, Bm.length, loss, 1e-2f, 1e-2);
        }
        // the mask keeps about 1-p of the elements, and depends on the seed
        int kept = 0, same = 0;
        for (int i = 0; i < 100000; i++) {
            boolean k1 = LoraLinear.keep(7, i, 0.25f);
            if (k1) kept++;
            if (k1 == LoraLinear.keep(8, i, 0.25f)) same++;
        }
        assertEquals(0.75, kept / 100000.0, 0.01);
        assertTrue(same < 70000, "masks of different seeds should differ");
    }
}
