package org.finlora.train;

import org.finlora.FinloraException;
import org.finlora.lora.LoraAdapter;
import org.finlora.model.LlamaConfig;
import org.finlora.model.LlamaWeights;

/**
 * A Llama model for LoRA training: explicit forward that keeps what backward needs, and backward
 * into the LoRA gradients only (base weights, norms and embeddings are frozen). Works on a batch of
 * right-padded token ids [B, T] with per-row lengths; activation buffers are allocated once for
 * (maxB, maxT). With activation checkpointing only each block's input is kept, and the block
 * forward is recomputed (same dropout masks) during backward.
 */
public final class TrainableLlama {
    /**
     * What one block's forward leaves for its backward. The normed inputs and the SwiGLU output are
     * not kept: backward rebuilds them from residIn/residMid with the saved rstd, and from gate and
     * up (cheap elementwise work, bit-identical to the forward's values).
     */
    private static final class BlockActs {
        float[] residIn;                  // [N, C] block input (owned elsewhere in checkpoint mode)
        final float[] rstd1, q, k, v, lse, att, residMid, rstd2, gate, up;
        final float[][] h = new float[7][]; // LoRA x̃·Aᵀ per projection [N, r]
        final float[][] dora = new float[7][]; // DoRA W·x̃, B·A·x̃, row norms per projection

        BlockActs(LlamaConfig c, int N, int BH, int rank, boolean[] targeted, LoraLinear[] doraLayers) {
            rstd1 = new float[N];
            q = new float[N * c.qDim()];
            k = new float[N * c.kvDim()];
            v = new float[N * c.kvDim()];
            lse = new float[BH];
            att = new float[N * c.qDim()];
            residMid = new float[N * c.dim()];
            rstd2 = new float[N];
            gate = new float[N * c.hiddenDim()];
            up = new float[N * c.hiddenDim()];
            for (int m = 0; m < 7; m++) if (targeted[m]) h[m] = new float[N * rank];
            for (int m = 0; m < 7; m++) if (doraLayers[m] != null && doraLayers[m].isDora()) dora[m] = new float[doraLayers[m].doraSavedSize(N)];
        }

        long byteSize() {
            long n = rstd1.length + q.length + k.length + v.length + lse.length + att.length
                    + residMid.length + rstd2.length + gate.length + up.length;
            for (float[] x : h) if (x != null) n += x.length;
            for (float[] x : dora) if (x != null) n += x.length;
            return 4 * n;
        }
    }

    /**
     * Rows of logits per cross-entropy chunk: each chunk streams the whole lm_head through the panel
     * GEMM, so bigger chunks decode it fewer times ([256, 128256] f32 logits are 131 MB).
     */
    static final int CE_CHUNK_ROWS = 256;

    public final LlamaConfig config;
    public final LlamaWeights weights;
    public final LoraAdapter adapter;
    /** Gradients of the adapter's tensors (same layout); backward accumulates into them. */
    public final LoraAdapter grads;
    public final int maxB, maxT;
    public final boolean checkpointing;

    private final LoraLinear[][] linears;
    private final RopeLayer rope;
    private final CrossEntropy crossEntropy;
    private final BlockActs[] acts;           // one per block, or one shared in checkpoint mode
    private final float[][] blockInputs;      // [L + 1][N*C]: inputs of each block and the final residual
    private final float[] lnf, rstdf, dLnf;
    // backward scratch, shared by all blocks
    private final float[] dResid, dLn, dq, dk, dv, datt, dgate, dup, dact, xd, g, tmp, recomputeOut, dyg;
    /** The normed block input (ln1 or ln2) of the block being run, forward or backward. */
    private final float[] ln;

    private boolean training = true;
    private long seed;
    private long microStep;
    private long currentSeed;
    private boolean fixedMasks;
    // the batch of the last forward
    private int curB, curT;
    private int[] curLengths;
    private boolean haveGrad;

    /**
     * @param seed seeds the LoRA-dropout masks (one fresh mask per forward, reproduced in backward)
     */
    public TrainableLlama(LlamaWeights weights, LoraAdapter adapter, int maxB, int maxT, boolean checkpointing, long seed) {
        this.config = weights.config;
        this.weights = weights;
        this.adapter = adapter;
        this.grads = adapter.zerosLike();
        this.maxB = maxB;
        this.maxT = maxT;
        this.checkpointing = checkpointing;
        this.seed = seed;
        if (adapter.nLayers != config.nLayers()) {
            throw new FinloraException("adapter has " + adapter.nLayers + " layers, model has " + config.nLayers());
        }
        LlamaConfig c = config;
        int L = c.nLayers(), N = maxB * maxT, r = adapter.config.rank();
        float scale = adapter.config.scale(), p = adapter.config.dropout();
        boolean[] targeted = new boolean[7];
        linears = new LoraLinear[L][7];
        for (int l = 0; l < L; l++) {
            LlamaWeights.Layer wl = weights.layers[l];
            for (int m = 0; m < 7; m++) {
                var base = wl.linear(LlamaWeights.LINEAR_NAMES[m]);
                float[] A = adapter.a(l, m);
                targeted[m] |= A != null;
                if (A != null && (A.length != r * base.cols || adapter.b(l, m).length != base.rows * r)) {
                    throw new FinloraException("LoRA " + LoraAdapter.peftName(l, m, "lora_A") + " is [" + r + ", " + A.length / r
                            + "] but the base projection is [" + base.rows + ", " + base.cols + "]");
                }
                linears[l][m] = new LoraLinear(base, A, adapter.b(l, m), grads.a(l, m), grads.b(l, m),
                        adapter.magnitude(l, m), grads.magnitude(l, m), r, scale, p, weights.simd);
            }
        }
        rope = new RopeLayer(RopeLayer.inverseFrequencies(c), c.headDim(), c.ropeInterleaved(), maxT);
        crossEntropy = new CrossEntropy(c.dim(), c.vocabSize(), Math.max(1, Math.min(CE_CHUNK_ROWS, N)));
        int BH = maxB * c.nHeads() * maxT;
        acts = new BlockActs[checkpointing ? 1 : L];
        for (int i = 0; i < acts.length; i++) acts[i] = new BlockActs(c, N, BH, r, targeted, linears[0]);
        blockInputs = new float[L + 1][N * c.dim()];
        lnf = new float[N * c.dim()];
        rstdf = new float[N];
        dLnf = new float[N * c.dim()];
        dResid = new float[N * c.dim()];
        dLn = new float[N * c.dim()];
        dq = new float[N * c.qDim()];
        dk = new float[N * c.kvDim()];
        dv = new float[N * c.kvDim()];
        datt = new float[N * c.qDim()];
        dgate = new float[N * c.hiddenDim()];
        dup = new float[N * c.hiddenDim()];
        dact = new float[N * c.hiddenDim()];
        int maxIn = Math.max(Math.max(c.dim(), c.qDim()), c.hiddenDim());
        xd = new float[N * maxIn];
        g = new float[N * r];
        tmp = new float[N * c.dim()];
        ln = new float[N * c.dim()];
        recomputeOut = checkpointing ? new float[N * c.dim()] : null;
        dyg = adapter.config.useDora() ? new float[N * Math.max(Math.max(c.dim(), c.qDim()), c.hiddenDim())] : null;
    }

    /**
     * When true, every forward reuses the same dropout masks (for finite-difference checks);
     * normally each forward draws fresh masks.
     */
    public void setFixedDropoutMasks(boolean fixed) {
        this.fixedMasks = fixed;
    }

    /** Dropout on (training) or off (evaluation). */
    public void setTraining(boolean training) {
        this.training = training;
    }

    /** Bytes of the frozen base, the adapter and its gradients, activations and scratch (optimizer state 0 here). */
    public MemoryPlan memoryPlan() {
        long lora = 4 * adapter.parameterCount();
        long actsBytes = 0;
        for (BlockActs a : acts) actsBytes += a.byteSize();
        actsBytes += 4L * (blockInputs.length * (long) blockInputs[0].length + lnf.length + rstdf.length);
        long scratch = 4L * ((long) dLnf.length + dResid.length + dLn.length + dq.length + dk.length + dv.length + datt.length
                + dgate.length + dup.length + dact.length + xd.length + g.length + tmp.length + ln.length
                + (recomputeOut == null ? 0 : recomputeOut.length) + (dyg == null ? 0 : dyg.length)) + crossEntropy.byteSize();
        return new MemoryPlan(weights.byteSize(), lora, lora, 0, actsBytes, scratch);
    }

    public void zeroGrad() {
        grads.fill(0f);
    }

    /**
     * Forward over tokens [B, T] (row-major, right-padded; lengths[b] real tokens, null = all T).
     * Returns the loss sum(-log p)/denom over labels != -100 after the HF shift; denom <= 0 means
     * "the number of counted tokens in this batch". With withGrad, the loss gradient is kept for
     * backward().
     */
    public double forward(int[] tokens, int[] labels, int[] lengths, int B, int T, double denom, boolean withGrad) {
        if (B > maxB || T > maxT) throw new IllegalArgumentException("batch [" + B + ", " + T + "] exceeds the allocated [" + maxB + ", " + maxT + "]");
        if (tokens.length < B * T || labels.length < B * T) {
            throw new IllegalArgumentException("tokens/labels hold " + tokens.length + "/" + labels.length + " ids, batch [" + B + ", " + T + "] needs " + B * T);
        }
        if (lengths == null) {
            lengths = new int[B];
            java.util.Arrays.fill(lengths, T);
        }
        for (int b = 0; b < B; b++) {
            if (lengths[b] < 0 || lengths[b] > T) throw new IllegalArgumentException("length " + lengths[b] + " of row " + b + " is outside [0, " + T + "]");
        }
        LlamaConfig c = config;
        int N = B * T;
        curB = B;
        curT = T;
        curLengths = lengths.clone();
        currentSeed = mix(seed + (fixedMasks ? microStep : microStep++));
        if (denom <= 0) denom = Math.max(1, CrossEntropy.countTargets(labels, B, T));
        EmbeddingLayer.forward(blockInputs[0], tokens, weights.tokenEmbedding, N);
        for (int l = 0; l < c.nLayers(); l++) {
            BlockActs a = acts[checkpointing ? 0 : l];
            a.residIn = blockInputs[l];
            blockForward(l, a, blockInputs[l + 1]);
        }
        float[] last = blockInputs[c.nLayers()];
        RmsNormLayer.forward(lnf, rstdf, last, weights.finalNorm, N, c.dim(), c.rmsEps());
        if (withGrad) java.util.Arrays.fill(dLnf, 0, N * c.dim(), 0f);
        haveGrad = withGrad;
        return crossEntropy.forwardBackward(lnf, weights.lmHead, labels, B, T, denom, withGrad ? dLnf : null);
    }

    /** Backward of the last forward(withGrad = true): accumulates into grads. */
    public void backward() {
        if (!haveGrad) throw new IllegalStateException("backward() needs a forward(..., withGrad = true) first");
        haveGrad = false;
        LlamaConfig c = config;
        int N = curB * curT;
        java.util.Arrays.fill(dResid, 0, N * c.dim(), 0f);
        RmsNormLayer.backward(dResid, null, dLnf, blockInputs[c.nLayers()], rstdf, weights.finalNorm, N, c.dim());
        for (int l = c.nLayers() - 1; l >= 0; l--) {
            BlockActs a = acts[checkpointing ? 0 : l];
            if (checkpointing) {
                a.residIn = blockInputs[l];
                blockForward(l, a, recomputeOut);
            }
            blockBackward(l, a);
        }
    }

    /** forward(withGrad) + backward; returns the loss. */
    public double forwardBackward(int[] tokens, int[] labels, int[] lengths, int B, int T, double denom) {
        double loss = forward(tokens, labels, lengths, B, T, denom, true);
        backward();
        return loss;
    }

    private long moduleSeed(int layer, int module) {
        return mix(currentSeed ^ (0x5851F42D4C957F2DL * (layer * 8L + module + 1)));
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
        z = (z ^ (z >>> 33)) * 0xC4CEB9FE1A85EC53L;
        return z ^ (z >>> 33);
    }

    private void project(int l, int m, BlockActs a, float[] x, float[] y) {
        LoraLinear lin = linears[l][m];
        if (lin.isDora()) lin.forwardDora(x, y, a.h[m], a.dora[m], curB * curT, moduleSeed(l, m), training, xd);
        else lin.forward(x, y, a.h[m], curB * curT, moduleSeed(l, m), training, xd);
    }

    private void projectBack(int l, int m, BlockActs a, float[] dy, float[] x, float[] dx) {
        LoraLinear lin = linears[l][m];
        if (lin.isDora()) lin.backwardDora(dy, x, a.h[m], a.dora[m], dx, curB * curT, moduleSeed(l, m), training, g, xd, dyg);
        else lin.backward(dy, x, a.h[m], dx, curB * curT, moduleSeed(l, m), training, g, xd);
    }

    private void blockForward(int l, BlockActs a, float[] out) {
        LlamaConfig c = config;
        LlamaWeights.Layer w = weights.layers[l];
        int B = curB, T = curT, N = B * T, C = c.dim();
        float[] x = a.residIn;
        RmsNormLayer.forward(ln, a.rstd1, x, w.attnNorm(), N, C, c.rmsEps());
        project(l, 0, a, ln, a.q);
        project(l, 1, a, ln, a.k);
        project(l, 2, a, ln, a.v);
        rope.forward(a.q, B, T, c.nHeads());
        rope.forward(a.k, B, T, c.nKvHeads());
        CausalAttention.forward(weights.simd, a.att, a.lse, a.q, a.k, a.v, B, T, c.nHeads(), c.nKvHeads(), c.headDim(), curLengths);
        project(l, 3, a, a.att, tmp);
        for (int i = 0; i < N * C; i++) a.residMid[i] = x[i] + tmp[i];
        RmsNormLayer.forward(ln, a.rstd2, a.residMid, w.ffnNorm(), N, C, c.rmsEps());
        project(l, 4, a, ln, a.gate);
        project(l, 5, a, ln, a.up);
        float[] act = dgate;   // free in forward; backward rebuilds act there too
        SwiGLU.forward(weights.simd, act, a.gate, a.up, N * c.hiddenDim());
        project(l, 6, a, act, tmp);
        for (int i = 0; i < N * C; i++) out[i] = a.residMid[i] + tmp[i];
    }

    /** On entry dResid = dL/d(block output); on exit dL/d(block input). */
    private void blockBackward(int l, BlockActs a) {
        LlamaConfig c = config;
        LlamaWeights.Layer w = weights.layers[l];
        int B = curB, T = curT, N = B * T, C = c.dim(), H = c.hiddenDim();
        // MLP: out = residMid + down(silu(gate(ln2)) * up(ln2))
        java.util.Arrays.fill(dact, 0, N * H, 0f);
        float[] act = dgate;   // rebuilt here, dead once SwiGLU.backward overwrites dgate
        SwiGLU.forward(weights.simd, act, a.gate, a.up, N * H);
        projectBack(l, 6, a, dResid, act, dact);
        SwiGLU.backward(weights.simd, dgate, dup, dact, a.gate, a.up, N * H);
        java.util.Arrays.fill(dLn, 0, N * C, 0f);
        RmsNormLayer.apply(ln, a.residMid, a.rstd2, w.ffnNorm(), N, C);
        projectBack(l, 4, a, dgate, ln, dLn);
        projectBack(l, 5, a, dup, ln, dLn);
        RmsNormLayer.backward(dResid, null, dLn, a.residMid, a.rstd2, w.ffnNorm(), N, C);
        // attention: residMid = residIn + o(attn(rope(q(ln1)), rope(k(ln1)), v(ln1)))
        java.util.Arrays.fill(datt, 0, N * c.qDim(), 0f);
        projectBack(l, 3, a, dResid, a.att, datt);
        CausalAttention.backward(weights.simd, dq, dk, dv, datt, a.att, a.lse, a.q, a.k, a.v, B, T, c.nHeads(), c.nKvHeads(), c.headDim(), curLengths);
        rope.backward(dq, B, T, c.nHeads());
        rope.backward(dk, B, T, c.nKvHeads());
        java.util.Arrays.fill(dLn, 0, N * C, 0f);
        RmsNormLayer.apply(ln, a.residIn, a.rstd1, w.attnNorm(), N, C);
        projectBack(l, 0, a, dq, ln, dLn);
        projectBack(l, 1, a, dk, ln, dLn);
        projectBack(l, 2, a, dv, ln, dLn);
        RmsNormLayer.backward(dResid, null, dLn, a.residIn, a.rstd1, w.attnNorm(), N, C);
    }
}
