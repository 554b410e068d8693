package org.finlora.train.optim;

import org.finlora.kernel.Parallel;

import java.util.List;

/**
 * torch.optim.AdamW: p *= 1 - lr·wd (decoupled decay, before the update); m = lerp(m, g, 1-β1);
 * v = β2·v + (1-β2)·g²; p -= (lr/(1-β1^t)) · m / (√v/√(1-β2^t) + eps). Bias-correction scalars in
 * double, elementwise math in f32, as torch's single-tensor path.
 */
public final class AdamW implements Optimizer {
    private final List<float[]> params;
    private final float[][] m, v;
    // hyper-parameters are Python floats (double) in torch; they enter f32 kernels after the double math
    private final double beta1, beta2, eps, weightDecay;
    private long t;

    public AdamW(List<float[]> params, double beta1, double beta2, double eps, double weightDecay) {
        this.params = List.copyOf(params);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        m = new float[params.size()][];
        v = new float[params.size()][];
        for (int i = 0; i < params.size(); i++) {
            m[i] = new float[params.get(i).length];
            v[i] = new float[params.get(i).length];
        }
    }

    /** HF Trainer defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0. */
    public static AdamW hfDefaults(List<float[]> params) {
        return new AdamW(params, 0.9, 0.999, 1e-8, 0.0);
    }

    @Override
    public void step(List<float[]> grads, double lr) {
        Checks.sameShapes(params, grads);
        t++;
        double bc1 = 1 - Math.pow(beta1, t), bc2 = 1 - Math.pow(beta2, t);
        float stepSize = (float) (lr / bc1);
        float bc2Sqrt = (float) Math.sqrt(bc2);
        float decay = (float) (1 - lr * weightDecay);
        float b1 = (float) (1 - beta1), b2 = (float) beta2, oneMinusB2 = (float) (1 - beta2), epsF = (float) eps;
        for (int i = 0; i < params.size(); i++) {
            float[] p = params.get(i), g = grads.get(i), mi = m[i], vi = v[i];
            Parallel.forRange(p.length, 4096, (j0, j1) -> {
                for (int j = j0; j < j1; j++) {
                    if (weightDecay != 0) p[j] *= decay;
                    float gj = g[j];
                    mi[j] += b1 * (gj - mi[j]);
                    vi[j] = vi[j] * b2 + oneMinusB2 * gj * gj;
                    float denom = (float) Math.sqrt(vi[j]) / bc2Sqrt + epsF;
                    p[j] -= stepSize * (mi[j] / denom);
                }
            });
        }
    }

    @Override
    public long stateBytes() {
        long n = 0;
        for (float[] x : m) n += x.length;
        return 8 * n;
    }

    @Override
    public long steps() {
        return t;
    }

    @Override
    public void saveState(java.nio.file.Path file) {
        OptimizerState s = new OptimizerState();
        s.scalar("step", t);
        for (int i = 0; i < m.length; i++) {
            s.put("exp_avg." + i, m[i]);
            s.put("exp_avg_sq." + i, v[i]);
        }
        s.write(file, "adamw");
    }

    @Override
    public void loadState(java.nio.file.Path file) {
        OptimizerState s = OptimizerState.read(file, "adamw");
        if (s.tensorCount() != 2 * m.length) throw new org.finlora.FinloraException(file + ": optimizer state holds " + s.tensorCount() + " tensors, expected " + 2 * m.length);
        for (int i = 0; i < m.length; i++) {
            s.restore(file, "exp_avg." + i, m[i]);
            s.restore(file, "exp_avg_sq." + i, v[i]);
        }
        t = s.longScalar(file, "step");
    }

    public float[] exp_avg(int i) {
        return m[i];
    }

    public float[] exp_avg_sq(int i) {
        return v[i];
    }

    @Override
    public void writeState(java.io.DataOutputStream out) throws java.io.IOException {
        out.writeLong(t);
        OptimizerStates.write(out, m);
        OptimizerStates.write(out, v);
    }

    @Override
    public void readState(java.io.DataInputStream in) throws java.io.IOException {
        t = in.readLong();
        OptimizerStates.read(in, m);
        OptimizerStates.read(in, v);
    }
}
