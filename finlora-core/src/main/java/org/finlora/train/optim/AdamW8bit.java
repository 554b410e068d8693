package org.finlora.train.optim;

import org.finlora.kernel.Parallel;
import org.finlora.quant.DynamicMap;

import java.util.List;

/**
 * bitsandbytes AdamW with 8-bit blockwise state (optim_bits=8): m is stored with the signed
 * dynamic map and v with the unsigned one, each with one f32 absmax per block of 256 elements.
 * Tensors with fewer than 4096 elements keep f32 state (min_8bit_size). Per element, in f32:
 * dequantize; m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²; p += -lr·c2/c1 · m/(√v + c2·eps) with
 * c1 = 1-β1^t, c2 = √(1-β2^t); then p *= 1 - lr·wd (decay after the update). A NaN/Inf gradient
 * zeroes m and v and leaves p alone. Requantize with the new block absmax; m's code is moved one
 * step when rounding flipped its sign.
 */
public final class AdamW8bit implements Optimizer {
    public static final int BLOCK = 256;
    public static final int MIN_8BIT_SIZE = 4096;

    private static final float[] SIGNED = DynamicMap.signed(), UNSIGNED = DynamicMap.unsigned();

    private final List<float[]> params;
    private final float beta1, beta2, eps, weightDecay;
    // per tensor: either f32 state or 8-bit codes + block absmax
    private final float[][] m32, v32;
    private final byte[][] mq, vq;
    private final float[][] mAbsmax, vAbsmax;
    private long t;

    public AdamW8bit(List<float[]> params, float beta1, float beta2, float eps, float weightDecay) {
        this.params = List.copyOf(params);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        int k = params.size();
        m32 = new float[k][];
        v32 = new float[k][];
        mq = new byte[k][];
        vq = new byte[k][];
        mAbsmax = new float[k][];
        vAbsmax = new float[k][];
        for (int i = 0; i < k; i++) {
            int n = params.get(i).length;
            if (n < MIN_8BIT_SIZE) {
                m32[i] = new float[n];
                v32[i] = new float[n];
            } else {
                int blocks = (n + BLOCK - 1) / BLOCK;
                mq[i] = new byte[n];      // code 0 with absmax 0 dequantizes to 0, as bnb's zero init
                vq[i] = new byte[n];
                mAbsmax[i] = new float[blocks];
                vAbsmax[i] = new float[blocks];
            }
        }
    }

    public boolean isQuantized(int tensor) {
        return mq[tensor] != null;
    }

    @Override
    public void step(List<float[]> grads, double lrD) {
        float lr = (float) lrD;   // bnb passes lr to its kernel as a float
        Checks.sameShapes(params, grads);
        t++;
        float c1 = 1f - (float) Math.pow(beta1, t);
        float c2 = (float) Math.sqrt(1f - (float) Math.pow(beta2, t));
        float stepSize = -lr * c2 / c1;
        float epsC2 = eps * c2;
        float decay = 1f - lr * weightDecay;
        for (int i = 0; i < params.size(); i++) {
            float[] p = params.get(i), g = grads.get(i);
            if (m32[i] != null) {
                float[] m = m32[i], v = v32[i];
                for (int j = 0; j < p.length; j++) {
                    float gj = g[j];
                    if (!Float.isFinite(gj)) {
                        m[j] = 0f;
                        v[j] = 0f;
                        continue;
                    }
                    m[j] = m[j] * beta1 + (1f - beta1) * gj;
                    v[j] = v[j] * beta2 + (1f - beta2) * gj * gj;
                    p[j] = p[j] + stepSize * (m[j] / ((float) Math.sqrt(v[j]) + epsC2));
                    if (weightDecay > 0f) p[j] = p[j] * decay;
                }
                continue;
            }
            byte[] mc = mq[i], vc = vq[i];
            float[] ma = mAbsmax[i], va = vAbsmax[i];
            int blocks = ma.length;
            Parallel.forRange(blocks, 4, (b0, b1) -> {
                float[] ms = new float[BLOCK], vs = new float[BLOCK];
                boolean[] finite = new boolean[BLOCK];
                for (int b = b0; b < b1; b++) {
                    int s = b * BLOCK, e = Math.min(p.length, s + BLOCK);
                    float newMaxM = 0f, newMaxV = 0f;
                    for (int j = s; j < e; j++) {
                        float mj = SIGNED[mc[j] & 0xFF] * ma[b];
                        float vj = UNSIGNED[vc[j] & 0xFF] * va[b];
                        float gj = g[j];
                        boolean ok = Float.isFinite(gj);
                        if (ok) {
                            mj = mj * beta1 + (1f - beta1) * gj;
                            vj = vj * beta2 + (1f - beta2) * gj * gj;
                        } else {
                            mj = 0f;
                            vj = 0f;
                        }
                        ms[j - s] = mj;
                        vs[j - s] = vj;
                        finite[j - s] = ok;
                        newMaxM = Math.max(newMaxM, Math.abs(mj));
                        newMaxV = Math.max(newMaxV, Math.abs(vj));
                    }
                    for (int j = s; j < e; j++) {
                        if (!finite[j - s]) continue;
                        p[j] = p[j] + stepSize * (ms[j - s] / ((float) Math.sqrt(vs[j - s]) + epsC2));
                        if (weightDecay > 0f) p[j] = p[j] * decay;
                    }
                    ma[b] = newMaxM;
                    va[b] = newMaxV;
                    for (int j = s; j < e; j++) {
                        mc[j] = (byte) quantizeSigned(ms[j - s], newMaxM);
                        vc[j] = (byte) quantizeUnsigned(vs[j - s], newMaxV);
                    }
                }
            });
        }
    }

    static int quantizeSigned(float x, float absmax) {
        if (absmax == 0f) return 127;   // the code of 0.0 (the state is 0 for any code then)
        int c = DynamicMap.nearest(SIGNED, x / absmax);
        // keep m's sign through quantization, as bnb's kernel does
        float q = SIGNED[c];
        boolean qNeg = Float.floatToRawIntBits(q) < 0, xNeg = Float.floatToRawIntBits(x) < 0;
        if (qNeg != xNeg) c += x > 0f ? 1 : -1;
        return Math.max(0, Math.min(255, c));
    }

    static int quantizeUnsigned(float x, float absmax) {
        if (absmax == 0f) return 0;
        return DynamicMap.nearest(UNSIGNED, x / absmax);
    }

    @Override
    public void saveState(java.nio.file.Path file) {
        OptimizerState s = new OptimizerState();
        s.scalar("step", t);
        for (int i = 0; i < params.size(); i++) {
            if (m32[i] != null) {
                s.put("state1." + i, m32[i]);
                s.put("state2." + i, v32[i]);
            } else {
                s.put("state1." + i, mq[i]);
                s.put("state2." + i, vq[i]);
                s.put("absmax1." + i, mAbsmax[i]);
                s.put("absmax2." + i, vAbsmax[i]);
            }
        }
        s.write(file, "adamw_8bit");
    }

    @Override
    public void loadState(java.nio.file.Path file) {
        OptimizerState s = OptimizerState.read(file, "adamw_8bit");
        for (int i = 0; i < params.size(); i++) {
            if (m32[i] != null) {
                s.restore(file, "state1." + i, m32[i]);
                s.restore(file, "state2." + i, v32[i]);
            } else {
                s.restore(file, "state1." + i, mq[i]);
                s.restore(file, "state2." + i, vq[i]);
                s.restore(file, "absmax1." + i, mAbsmax[i]);
                s.restore(file, "absmax2." + i, vAbsmax[i]);
            }
        }
        t = s.longScalar(file, "step");
    }

    /** Dequantized first moment of tensor i (for tests and checkpoints). */
    public float[] exp_avg(int i) {
        if (m32[i] != null) return m32[i].clone();
        float[] out = new float[mq[i].length];
        for (int j = 0; j < out.length; j++) out[j] = SIGNED[mq[i][j] & 0xFF] * mAbsmax[i][j / BLOCK];
        return out;
    }

    /** Dequantized second moment of tensor i. */
    public float[] exp_avg_sq(int i) {
        if (v32[i] != null) return v32[i].clone();
        float[] out = new float[vq[i].length];
        for (int j = 0; j < out.length; j++) out[j] = UNSIGNED[vq[i][j] & 0xFF] * vAbsmax[i][j / BLOCK];
        return out;
    }

    @Override
    public long stateBytes() {
        long b = 0;
        for (int i = 0; i < params.size(); i++) {
            if (m32[i] != null) b += 8L * m32[i].length;
            else b += 2L * mq[i].length + 8L * mAbsmax[i].length;
        }
        return b;
    }

    @Override
    public long steps() {
        return t;
    }

    @Override
    public void writeState(java.io.DataOutputStream out) throws java.io.IOException {
        out.writeLong(t);
        for (int i = 0; i < params.size(); i++) {
            if (m32[i] != null) {
                OptimizerStates.write(out, m32[i]);
                OptimizerStates.write(out, v32[i]);
            } else {
                OptimizerStates.write(out, mq[i]);
                OptimizerStates.write(out, vq[i]);
                OptimizerStates.write(out, mAbsmax[i]);
                OptimizerStates.write(out, vAbsmax[i]);
            }
        }
    }

    @Override
    public void readState(java.io.DataInputStream in) throws java.io.IOException {
        t = in.readLong();
        for (int i = 0; i < params.size(); i++) {
            if (m32[i] != null) {
                OptimizerStates.read(in, m32[i]);
                OptimizerStates.read(in, v32[i]);
            } else {
                OptimizerStates.read(in, mq[i]);
                OptimizerStates.read(in, vq[i]);
                OptimizerStates.read(in, mAbsmax[i]);
                OptimizerStates.read(in, vAbsmax[i]);
            }
        }
    }
}
