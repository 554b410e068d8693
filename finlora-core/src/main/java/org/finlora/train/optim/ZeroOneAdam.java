package org.finlora.train.optim;

import java.util.List;

/**
 * DeepSpeed 0/1 Adam (zoadam.py) on a single process (world size 1, so no compressed allreduce):
 * <ul>
 * <li>the first step() only initializes the state (step becomes 1; no update);</li>
 * <li>no bias correction, eps outside the square root; weight decay is L2 added to the update:
 *     upd = m/(√v+eps) + wd·p, p -= lr·upd;</li>
 * <li>before the variance freezes, v and m are updated from the gradient only on steps where
 *     step % var_interval == 0 (var_interval doubles after var_update_scaler such steps); on the other
 *     steps m is refreshed only through the 1-bit allreduce, so on one process it stays stale while
 *     p still moves;</li>
 * <li>once step > var_freeze_step, v is frozen, m = β1·m + (1-β1)·g every step, lrs += lr,
 *     u -= lr·upd, and every local_step_interval steps: p -= u; u *= √v+eps; m = -u/lrs;
 *     p += u/(√v+eps); u = 0; lrs = 0. local_step_interval doubles every local_step_scaler steps,
 *     capped at local_step_clipper.</li>
 * </ul>
 */
public final class ZeroOneAdam implements Optimizer {
    private final List<float[]> params;
    private final float[][] m, v, u;
    private final double beta1, beta2, eps, weightDecay;
    private final int varFreezeStep, varUpdateScaler, localStepScaler, localStepClipper;
    private boolean initialized, frozen;
    private long step;
    private long varInterval = 1, varCounter, localStepInterval = 1, localStepCounter;
    private double lrs;

    public ZeroOneAdam(List<float[]> params, double beta1, double beta2, double eps, double weightDecay,
                       int varFreezeStep, int varUpdateScaler, int localStepScaler, int localStepClipper) {
        this.params = List.copyOf(params);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.varFreezeStep = varFreezeStep;
        this.varUpdateScaler = varUpdateScaler;
        this.localStepScaler = localStepScaler;
        this.localStepClipper = localStepClipper;
        int k = params.size();
        m = new float[k][];
        v = new float[k][];
        u = new float[k][];
        for (int i = 0; i < k; i++) {
            int n = params.get(i).length;
            m[i] = new float[n];
            v[i] = new float[n];
            u[i] = new float[n];
        }
    }

    /** FinLoRA's legacy DeepSpeed config: var_freeze_step 1000, var_update_scaler 16, local_step_scaler 1000, clipper 16. */
    public static ZeroOneAdam finlora(List<float[]> params, double weightDecay) {
        return new ZeroOneAdam(params, 0.9, 0.999, 1e-8, weightDecay, 1000, 16, 1000, 16);
    }

    @Override
    public void step(List<float[]> grads, double lr) {
        Checks.sameShapes(params, grads);
        step++;
        if (!initialized) {
            initialized = true;
            return;
        }
        boolean varStep = !frozen && step % varInterval == 0;
        boolean sync = frozen && step % localStepInterval == 0;
        if (frozen) lrs += lr;
        float lrsF = (float) lrs;
        // torch: mul_(β) casts β to f32; the (1-β) and -lr factors are computed in double first
        float b1 = (float) beta1, b2 = (float) beta2, c1 = (float) (1 - beta1), c2 = (float) (1 - beta2);
        float epsF = (float) eps, wdF = (float) weightDecay, negLr = (float) -lr;
        for (int i = 0; i < params.size(); i++) {
            float[] p = params.get(i), g = grads.get(i), mi = m[i], vi = v[i], ui = u[i];
            for (int j = 0; j < p.length; j++) {
                if (varStep) {
                    vi[j] = vi[j] * b2 + c2 * g[j] * g[j];
                    mi[j] = mi[j] * b1 + c1 * g[j];
                } else if (frozen) {
                    mi[j] = mi[j] * b1 + c1 * g[j];
                }
                float upd = mi[j] / ((float) Math.sqrt(vi[j]) + epsF);
                if (weightDecay > 0) upd += wdF * p[j];
                p[j] += negLr * upd;
                if (frozen) ui[j] += negLr * upd;
                if (sync) {
                    float denom = (float) Math.sqrt(vi[j]) + epsF;
                    p[j] += -ui[j];
                    ui[j] *= denom;
                    mi[j] = -(ui[j] / lrsF);
                    p[j] += ui[j] / denom;
                    ui[j] = 0f;
                }
            }
        }
        if (sync) lrs = 0;
        if (!frozen) {
            if (step % varInterval == 0) {
                varCounter++;
                if (varCounter == varUpdateScaler) {
                    varCounter = 0;
                    varInterval *= 2;
                }
            }
        } else {
            localStepCounter++;
            if (localStepCounter == localStepScaler) {
                localStepCounter = 0;
                localStepInterval = Math.min(localStepClipper, localStepInterval * 2);
            }
        }
        if (step > varFreezeStep) frozen = true;
    }

    @Override
    public void saveState(java.nio.file.Path file) {
        OptimizerState s = new OptimizerState();
        s.scalar("step", step);
        s.scalar("initialized", initialized ? 1 : 0);
        s.scalar("frozen", frozen ? 1 : 0);
        s.scalar("var_interval", varInterval);
        s.scalar("var_counter", varCounter);
        s.scalar("local_step_interval", localStepInterval);
        s.scalar("local_step_counter", localStepCounter);
        s.scalar("lrs", lrs);
        for (int i = 0; i < m.length; i++) {
            s.put("exp_avg." + i, m[i]);
            s.put("exp_avg_sq." + i, v[i]);
            s.put("momentum_accumulator." + i, u[i]);
        }
        s.write(file, "zero_one_adam");
    }

    @Override
    public void loadState(java.nio.file.Path file) {
        OptimizerState s = OptimizerState.read(file, "zero_one_adam");
        for (int i = 0; i < m.length; i++) {
            s.restore(file, "exp_avg." + i, m[i]);
            s.restore(file, "exp_avg_sq." + i, v[i]);
            s.restore(file, "momentum_accumulator." + i, u[i]);
        }
        step = s.longScalar(file, "step");
        initialized = s.longScalar(file, "initialized") != 0;
        frozen = s.longScalar(file, "frozen") != 0;
        varInterval = s.longScalar(file, "var_interval");
        varCounter = s.longScalar(file, "var_counter");
        localStepInterval = s.longScalar(file, "local_step_interval");
        localStepCounter = s.longScalar(file, "local_step_counter");
        lrs = s.doubleScalar(file, "lrs");
    }

    public boolean varianceFrozen() {
        return frozen;
    }

    public float[] exp_avg(int i) {
        return m[i];
    }

    public float[] exp_avg_sq(int i) {
        return v[i];
    }

    @Override
    public long stateBytes() {
        long n = 0;
        for (float[] x : m) n += x.length;
        return 12 * n;
    }

    @Override
    public long steps() {
        return step;
    }

    @Override
    public void writeState(java.io.DataOutputStream out) throws java.io.IOException {
        out.writeBoolean(initialized);
        out.writeBoolean(frozen);
        out.writeLong(step);
        out.writeLong(varInterval);
        out.writeLong(varCounter);
        out.writeLong(localStepInterval);
        out.writeLong(localStepCounter);
        out.writeDouble(lrs);
        OptimizerStates.write(out, m);
        OptimizerStates.write(out, v);
        OptimizerStates.write(out, u);
    }

    @Override
    public void readState(java.io.DataInputStream in) throws java.io.IOException {
        initialized = in.readBoolean();
        frozen = in.readBoolean();
        step = in.readLong();
        varInterval = in.readLong();
        varCounter = in.readLong();
        localStepInterval = in.readLong();
        localStepCounter = in.readLong();
        lrs = in.readDouble();
        OptimizerStates.read(in, m);
        OptimizerStates.read(in, v);
        OptimizerStates.read(in, u);
    }
}
