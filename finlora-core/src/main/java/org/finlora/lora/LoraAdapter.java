package org.finlora.lora;

import org.finlora.model.LlamaConfig;
import org.finlora.model.LlamaWeights;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * LoRA weights for every block and target projection: A [r, in] and B [out, r] as flat float[].
 * The same class holds gradients (zerosLike). Module index m follows LlamaWeights.LINEAR_NAMES.
 */
public final class LoraAdapter {
    public final LoraConfig config;
    public final int nLayers;
    private final float[][][] a, b;   // [layer][module] -> null when not targeted
    private final float[][][] magnitude; // DoRA m [out] per [layer][module]; null without DoRA
    private final int[] inDim, outDim; // per module

    private LoraAdapter(LoraConfig config, int nLayers, int[] inDim, int[] outDim) {
        this.config = config;
        this.nLayers = nLayers;
        this.inDim = inDim;
        this.outDim = outDim;
        a = new float[nLayers][7][];
        b = new float[nLayers][7][];
        magnitude = config.useDora() ? new float[nLayers][7][] : null;
        for (int l = 0; l < nLayers; l++) {
            for (int m = 0; m < 7; m++) {
                if (!config.targets(LlamaWeights.LINEAR_NAMES[m])) continue;
                a[l][m] = new float[config.rank() * inDim[m]];
                b[l][m] = new float[outDim[m] * config.rank()];
                if (magnitude != null) magnitude[l][m] = new float[outDim[m]];
            }
        }
    }

    /** in and out features of each projection of a Llama block, LINEAR_NAMES order. */
    public static int[][] projectionShapes(LlamaConfig c) {
        int d = c.dim(), q = c.qDim(), kv = c.kvDim(), h = c.hiddenDim();
        int[] in = {d, d, d, q, d, d, h};
        int[] out = {q, kv, kv, d, h, h, d};
        return new int[][]{in, out};
    }

    /** All-zero A and B (use init() for a trainable start). */
    public static LoraAdapter zeros(LoraConfig config, LlamaConfig model) {
        int[][] s = projectionShapes(model);
        return new LoraAdapter(config, model.nLayers(), s[0], s[1]);
    }

    /**
     * PEFT init: A ~ kaiming_uniform(a=√5) = U(-1/√in, 1/√in) (or N(0, 1/r) for "gaussian"), B = 0.
     * DoRA magnitudes stay 0 here: use init(config, weights, seed) or initDoraMagnitudes.
     * Draws from a SplittableRandom seeded with seed, layer by layer, module by module.
     */
    public static LoraAdapter init(LoraConfig config, LlamaConfig model, long seed) {
        LoraAdapter ad = zeros(config, model);
        SplittableRandom rng = new SplittableRandom(seed);
        for (int l = 0; l < ad.nLayers; l++) {
            for (int m = 0; m < 7; m++) {
                float[] A = ad.a[l][m];
                if (A == null) continue;
                if (config.init().equals("gaussian")) {
                    double std = 1.0 / config.rank();
                    for (int i = 0; i < A.length; i++) A[i] = (float) (gaussian(rng) * std);
                } else {
                    double bound = 1.0 / Math.sqrt(ad.inDim[m]);
                    for (int i = 0; i < A.length; i++) A[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
                }
            }
        }
        return ad;
    }

    /** init() plus, for DoRA, the magnitudes m = ‖W‖_row of the frozen base (B = 0). */
    public static LoraAdapter init(LoraConfig config, LlamaWeights weights, long seed) {
        LoraAdapter ad = init(config, weights.config, seed);
        if (config.useDora()) ad.initDoraMagnitudes(weights);
        return ad;
    }

    private static double gaussian(SplittableRandom rng) {
        double u1 = 1.0 - rng.nextDouble(), u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    /** Same shapes and config, all zeros: the gradient (or optimizer state) of this adapter. */
    public LoraAdapter zerosLike() {
        return new LoraAdapter(config, nLayers, inDim, outDim);
    }

    public static int moduleIndex(String module) {
        for (int m = 0; m < 7; m++) if (LlamaWeights.LINEAR_NAMES[m].equals(module)) return m;
        throw new IllegalArgumentException("unknown module " + module);
    }

    public float[] a(int layer, int module) {
        return a[layer][module];
    }

    public float[] b(int layer, int module) {
        return b[layer][module];
    }

    /** DoRA magnitude m [out] (null without DoRA or when not targeted). */
    public float[] magnitude(int layer, int module) {
        return magnitude == null ? null : magnitude[layer][module];
    }

    /**
     * DoRA init (PEFT): m = the row-wise L2 norm over `in` of W + s·B·A, with W dequantized row by
     * row. Call after A and B are set (B = 0 at a fresh init, so m = ‖W‖_row).
     */
    public void initDoraMagnitudes(LlamaWeights weights) {
        if (magnitude == null) throw new IllegalStateException("adapter was not configured with use_dora");
        for (int l = 0; l < nLayers; l++) {
            for (int m = 0; m < 7; m++) {
                if (magnitude[l][m] == null) continue;
                rowNorms(weights.layers[l].linear(LlamaWeights.LINEAR_NAMES[m]), a[l][m], b[l][m], config.rank(), config.scale(), magnitude[l][m]);
            }
        }
    }

    /** out[o] = ‖W[o,:] + s·Σ_j B[o,j]·A[j,:]‖₂ (f32 row, summed in double). */
    public static void rowNorms(org.finlora.tensor.WeightMatrix w, float[] A, float[] B, int rank, float scale, float[] out) {
        int in = w.cols;
        org.finlora.kernel.Parallel.forRange(w.rows, 16, (o0, o1) -> {
            float[] row = new float[in];
            for (int o = o0; o < o1; o++) {
                w.dequantizeRow(o, row, 0);
                for (int j = 0; j < rank; j++) {
                    float bj = scale * B[o * rank + j];
                    if (bj == 0f) continue;
                    for (int c = 0; c < in; c++) row[c] += bj * A[j * in + c];
                }
                double ss = 0;
                for (int c = 0; c < in; c++) ss += (double) row[c] * row[c];
                out[o] = (float) Math.sqrt(ss);
            }
        });
    }

    public float[] a(int layer, String module) {
        return a[layer][moduleIndex(module)];
    }

    public float[] b(int layer, String module) {
        return b[layer][moduleIndex(module)];
    }

    public int inFeatures(int module) {
        return inDim[module];
    }

    public int outFeatures(int module) {
        return outDim[module];
    }

    /** All trainable tensors in a fixed order: per layer, per target module, A then B (then the DoRA magnitude). */
    public List<float[]> tensors() {
        List<float[]> out = new ArrayList<>();
        for (int l = 0; l < nLayers; l++) {
            for (int m = 0; m < 7; m++) {
                if (a[l][m] == null) continue;
                out.add(a[l][m]);
                out.add(b[l][m]);
                if (magnitude != null) out.add(magnitude[l][m]);
            }
        }
        return out;
    }

    /** PEFT state-dict names of tensors(), same order. */
    public List<String> tensorNames() {
        List<String> out = new ArrayList<>();
        for (int l = 0; l < nLayers; l++) {
            for (int m = 0; m < 7; m++) {
                if (a[l][m] == null) continue;
                out.add(peftName(l, m, "lora_A"));
                out.add(peftName(l, m, "lora_B"));
                if (magnitude != null) out.add(magnitudeName(l, m));
            }
        }
        return out;
    }

    /** e.g. base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight */
    public static String peftName(int layer, int module, String which) {
        String mod = LlamaWeights.LINEAR_NAMES[module];
        String group = module < 4 ? "self_attn" : "mlp";
        return "base_model.model.model.layers." + layer + "." + group + "." + mod + "." + which + ".weight";
    }

    /** e.g. base_model.model.model.layers.3.self_attn.q_proj.lora_magnitude_vector (no ".weight"). */
    public static String magnitudeName(int layer, int module) {
        String mod = LlamaWeights.LINEAR_NAMES[module];
        String group = module < 4 ? "self_attn" : "mlp";
        return "base_model.model.model.layers." + layer + "." + group + "." + mod + ".lora_magnitude_vector";
    }

    public long parameterCount() {
        long n = 0;
        for (float[] t : tensors()) n += t.length;
        return n;
    }

    public void fill(float v) {
        for (float[] t : tensors()) java.util.Arrays.fill(t, v);
    }
}
