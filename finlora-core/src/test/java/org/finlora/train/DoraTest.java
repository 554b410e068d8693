package org.finlora.train;

import org.finlora.kernel.Simd;
import org.finlora.lora.LoraAdapter;
import org.finlora.lora.LoraConfig;
import org.finlora.lora.PeftAdapterIO;
import org.finlora.model.LlamaConfig;
import org.finlora.model.LlamaWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.finlora.train.GradCheck.*;
import static org.junit.jupiter.api.Assertions.*;

/** DoRA (PEFT semantics, row norm detached) against a double-precision reference forward. */
class DoraTest {

    /** Reference: y = W·x + (g-1)·W·x̃ + g·s·B·A·x̃ with g = m / nFixed, in double; returns Σ y ⊙ r. */
    private static double referenceLoss(float[] W, float[] A, float[] B, float[] m, double[] nFixed, float[] x, float[] r,
                                        int N, int in, int out, int rank, double s, long seed, float p) {
        double loss = 0;
        for (int n = 0; n < N; n++) {
            double[] xd = new double[in];
            for (int c = 0; c < in; c++) {
                int i = n * in + c;
                xd[c] = p == 0f ? x[i] : LoraLinear.keep(seed, i, p) ? x[i] / (1.0 - p) : 0;
            }
            double[] h = new double[rank];
            for (int j = 0; j < rank; j++) for (int c = 0; c < in; c++) h[j] += A[j * in + c] * xd[c];
            for (int o = 0; o < out; o++) {
                double wx = 0, wxd = 0, lo = 0;
                for (int c = 0; c < in; c++) {
                    wx += W[o * in + c] * (double) x[n * in + c];
                    wxd += W[o * in + c] * xd[c];
                }
                for (int j = 0; j < rank; j++) lo += B[o * rank + j] * h[j];
                double g = m[o] / nFixed[o];
                loss += r[n * out + o] * (wx + (g - 1) * wxd + g * s * lo);
            }
        }
        return loss;
    }

    private static double[] rowNorms(float[] W, float[] A, float[] B, int in, int out, int rank, double s) {
        double[] n = new double[out];
        for (int o = 0; o < out; o++) {
            double ss = 0;
            for (int c = 0; c < in; c++) {
                double v = W[o * in + c];
                for (int j = 0; j < rank; j++) v += s * B[o * rank + j] * A[j * in + c];
                ss += v * v;
            }
            n[o] = Math.sqrt(ss);
        }
        return n;
    }

    @Test
    void doraLinearForwardAndGradients() {
        Random rng = new Random(8);
        int N = 4, in = 7, out = 5, r = 2;
        float s = 1.5f;
        for (float p : new float[]{0f, 0.25f}) {
            DenseTestMatrix W = DenseTestMatrix.random(out, in, rng, 0.5f);
            float[] A = randn(rng, r * in, 0.5f), B = randn(rng, out * r, 0.5f), m = randn(rng, out, 1f);
            float[] gA = new float[A.length], gB = new float[B.length], gm = new float[out];
            LoraLinear lin = new LoraLinear(W, A, B, gA, gB, m, gm, r, s, p, Simd.configured());
            float[] x = randn(rng, N * in, 1f), dy = randn(rng, N * out, 1f);
            float[] y = new float[N * out], h = new float[N * r], saved = new float[lin.doraSavedSize(N)];
            float[] xd = new float[N * in], g = new float[N * r], dyg = new float[N * out];
            long seed = 5;
            lin.forwardDora(x, y, h, saved, N, seed, true, xd);
            double[] n0 = rowNorms(W.w, A, B, in, out, r, s);
            for (int o = 0; o < out; o++) assertEquals(n0[o], saved[2 * N * out + o], 1e-5);
            assertEquals(referenceLoss(W.w, A, B, m, n0, x, dy, N, in, out, r, s, seed, p), dot(y, dy, y.length), 1e-4);
            float[] dx = new float[N * in];
            lin.backwardDora(dy, x, h, saved, dx, N, seed, true, g, xd, dyg);
            // n is detached: finite differences of the reference with n held at its current value
            java.util.function.DoubleSupplier loss = () -> referenceLoss(W.w, A, B, m, n0, x, dy, N, in, out, r, s, seed, p);
            check("dora dx p=" + p, x, dx, dx.length, loss, 1e-2f, 1e-3);
            check("dora dA p=" + p, A, gA, A.length, loss, 1e-2f, 1e-3);
            check("dora dB p=" + p, B, gB, B.length, loss, 1e-2f, 1e-3);
            check("dora dm p=" + p, m, gm, m.length, loss, 1e-2f, 1e-3);
        }
    }

    @Test
    void doraModelGradientsPeftRoundTripAndInit(@TempDir Path dir) {
        LlamaConfig c = TinyLlama.config(false);
        LlamaWeights w = TinyLlama.weights(c, 17);
        LoraConfig lc = new LoraConfig(2, 4f, 0f, List.of("q_proj", "o_proj", "up_proj"), false, true, "default", null);
        LoraAdapter ad = LoraAdapter.init(lc, w, 6);
        // init: m = ‖W‖_row, so a fresh DoRA adapter leaves the model unchanged
        float[] mq = ad.magnitude(0, 0);
        DenseTestMatrix wq = (DenseTestMatrix) w.layers[0].wq();
        double n0 = 0;
        for (int i = 0; i < c.dim(); i++) n0 += wq.w[i] * wq.w[i];
        assertEquals(Math.sqrt(n0), mq[0], 1e-5);
        int[] tokens = TrainableLlamaTest.TOKENS, labels = TrainableLlamaTest.LABELS, lengths = TrainableLlamaTest.LENGTHS;
        TrainableLlama dora = new TrainableLlama(w, ad, 2, 6, false, 0);
        TrainableLlama plain = new TrainableLlama(w, LoraAdapter.zeros(new LoraConfig(2, 4f, 0f, List.of("q_proj"), false, false, "default", null), c), 2, 6, false, 0);
        assertEquals(plain.forward(tokens, labels, lengths, 2, 6, 0, false), dora.forward(tokens, labels, lengths, 2, 6, 0, false), 1e-5);
        // make B nonzero and m off its init, then check dm by finite differences (n does not depend on m)
        Random rng = new Random(2);
        for (float[] t : ad.tensors()) for (int i = 0; i < t.length; i++) t[i] += (float) rng.nextGaussian() * 0.1f;
        dora.zeroGrad();
        dora.forwardBackward(tokens, labels, lengths, 2, 6, 0);
        for (int l = 0; l < 2; l++)
            for (int m : new int[]{0, 3, 5}) {
                float[] mag = ad.magnitude(l, m);
                check("model dm " + l + "/" + m, mag, dora.grads.magnitude(l, m), mag.length,
                        () -> dora.forward(tokens, labels, lengths, 2, 6, 0, false), 1e-2f, 3e-2);
            }
        // checkpointing recomputes the same DoRA activations
        TrainableLlama ckpt = new TrainableLlama(w, ad, 2, 6, true, 0);
        ckpt.zeroGrad();
        ckpt.forwardBackward(tokens, labels, lengths, 2, 6, 0);
        List<float[]> g1 = dora.grads.tensors(), g2 = ckpt.grads.tensors();
        assertEquals(2 * 3 * 3, g1.size());
        for (int i = 0; i < g1.size(); i++) assertArrayEquals(g1.get(i), g2.get(i), 1e-6f);
        // PEFT round trip with lora_magnitude_vector
        PeftAdapterIO.save(ad, dir);
        LoraAdapter back = PeftAdapterIO.load(dir, c);
        assertTrue(back.config.useDora());
        List<float[]> t1 = ad.tensors(), t2 = back.tensors();
        for (int i = 0; i < t1.size(); i++) assertArrayEquals(t1.get(i), t2.get(i), 0f);
        assertEquals("base_model.model.model.layers.1.mlp.up_proj.lora_magnitude_vector", back.tensorNames().get(17));
    }
}
