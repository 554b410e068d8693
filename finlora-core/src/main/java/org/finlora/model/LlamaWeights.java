package org.finlora.model;

import org.finlora.FinloraException;
import org.finlora.io.Checkpoint;
import org.finlora.kernel.Matrices;
import org.finlora.kernel.Simd;
import org.finlora.kernel.StoredWeights;
import org.finlora.kernel.WeightFormat;
import org.finlora.kernel.WeightFormats;
import org.finlora.quant.BnbTensors;
import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;
import org.finlora.tensor.WeightMatrix;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The frozen weights of a Llama model, each linear layer already in its kernel format (f32, bf16,
 * Q4_0, NF4, ...). Shared by inference and training. Norm weights are small and kept as float[].
 */
public final class LlamaWeights {
    public static final String[] LINEAR_NAMES = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};

    /** One transformer block. */
    public record Layer(float[] attnNorm, WeightMatrix wq, WeightMatrix wk, WeightMatrix wv, WeightMatrix wo,
                        float[] ffnNorm, WeightMatrix gate, WeightMatrix up, WeightMatrix down) {

        /** The linear layer by its HF module name (q_proj ... down_proj). */
        public WeightMatrix linear(String name) {
            return switch (name) {
                case "q_proj" -> wq;
                case "k_proj" -> wk;
                case "v_proj" -> wv;
                case "o_proj" -> wo;
                case "gate_proj" -> gate;
                case "up_proj" -> up;
                case "down_proj" -> down;
                default -> throw new IllegalArgumentException("unknown linear layer " + name);
            };
        }
    }

    public final LlamaConfig config;
    /** [vocab, dim]; rows are looked up by token id. */
    public final WeightMatrix tokenEmbedding;
    public final Layer[] layers;
    public final float[] finalNorm;
    /** [vocab, dim]; the same object as tokenEmbedding when embeddings are tied. */
    public final WeightMatrix lmHead;
    /** The width every kernel of this model runs at (the one its matrices were built for). */
    public final Simd simd;

    public LlamaWeights(LlamaConfig config, WeightMatrix tokenEmbedding, Layer[] layers, float[] finalNorm, WeightMatrix lmHead, Simd simd) {
        this.simd = simd;
        this.config = config;
        this.tokenEmbedding = tokenEmbedding;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
    }

    /**
     * The --quant value as a format: null for "none" (or null/blank), which keeps every weight as stored
     * (also "f32" on an f32 checkpoint, whose weights are already f32).
     */
    public static WeightFormat format(String quant) {
        if (quant == null || quant.isBlank() || quant.strip().equalsIgnoreCase("none")) return null;
        return WeightFormats.parse(quant);
    }

    /**
     * Builds the weights of a checkpoint at a width: each block projection as stored ({@code quant} null)
     * or converted on load to {@code quant}; the token embedding and lm_head too when the format says so
     * ({@link WeightFormat#embeddings()}), else as stored. Weights bitsandbytes already quantized are
     * used as stored.
     */
    public static LlamaWeights load(Checkpoint ck, WeightFormat quant, Simd simd) {
        Function<Tensor, WeightMatrix> stored = t -> Matrices.of(t, simd);
        Function<Tensor, WeightMatrix> converted = quant == null ? stored : t -> quant.quantize(t, simd);
        return from(ck, converted, quant != null && quant.embeddings() ? converted : stored, simd);
    }

    /**
     * Builds the weights of a checkpoint. {@code linear} turns each block projection into its kernel
     * format (this is where --quant quantizes on load); {@code embedding} does the same for the token
     * embedding and lm_head. Weights stored by bitsandbytes are read as stored, at width {@code simd}.
     */
    public static LlamaWeights from(Checkpoint ck, Function<Tensor, WeightMatrix> linear, Function<Tensor, WeightMatrix> embedding, Simd simd) {
        LlamaConfig c = ck.config();
        Layer[] layers = new Layer[c.nLayers()];
        for (int l = 0; l < c.nLayers(); l++) {
            String p = "model.layers." + l + ".";
            layers[l] = new Layer(
                    norm(ck, p + "input_layernorm.weight", c.dim()),
                    lin(ck, p + "self_attn.q_proj.weight", c.qDim(), c.dim(), linear, simd),
                    lin(ck, p + "self_attn.k_proj.weight", c.kvDim(), c.dim(), linear, simd),
                    lin(ck, p + "self_attn.v_proj.weight", c.kvDim(), c.dim(), linear, simd),
                    lin(ck, p + "self_attn.o_proj.weight", c.dim(), c.qDim(), linear, simd),
                    norm(ck, p + "post_attention_layernorm.weight", c.dim()),
                    lin(ck, p + "mlp.gate_proj.weight", c.hiddenDim(), c.dim(), linear, simd),
                    lin(ck, p + "mlp.up_proj.weight", c.hiddenDim(), c.dim(), linear, simd),
                    lin(ck, p + "mlp.down_proj.weight", c.dim(), c.hiddenDim(), linear, simd));
        }
        WeightMatrix emb = lin(ck, "model.embed_tokens.weight", c.vocabSize(), c.dim(), embedding, simd);
        WeightMatrix head = c.tiedEmbeddings() ? emb : lin(ck, "lm_head.weight", c.vocabSize(), c.dim(), embedding, simd);
        return new LlamaWeights(c, emb, layers, norm(ck, "model.norm.weight", c.dim()), head, simd);
    }

    private static WeightMatrix lin(Checkpoint ck, String name, int rows, int cols, Function<Tensor, WeightMatrix> f, Simd simd) {
        Tensor t = ck.tensor(name);
        WeightMatrix stored = bnb(ck, name, t, simd);
        if (stored != null) {
            // already quantized by bitsandbytes: used as stored (the real shape comes from quant_state / the int8 tensor)
            if (stored.rows != rows || stored.cols != cols) {
                throw new FinloraException(ck.source() + ": tensor '" + name + "' holds a bitsandbytes weight of shape [" + stored.rows
                        + ", " + stored.cols + "], expected [" + rows + ", " + cols + "]");
            }
            return stored;
        }
        if (t.shape().length != 2 || t.shape()[0] != rows || t.shape()[1] != cols) {
            throw new FinloraException(ck.source() + ": tensor '" + name + "' has shape " + java.util.Arrays.toString(t.shape())
                    + ", expected [" + rows + ", " + cols + "]");
        }
        return f.apply(t);
    }

    /**
     * A bitsandbytes 4-bit (U8 codes + quant_state) or LLM.int8 (I8 CB + SCB) weight read from its
     * tensor group by the registered format that holds it, or null when {@code t} is a plain tensor.
     */
    private static WeightMatrix bnb(Checkpoint ck, String name, Tensor t, Simd simd) {
        boolean group = t.dtype() == DType.U8 && BnbTensors.is4bit(ck.tensors(), name)
                || t.dtype() == DType.I8 && BnbTensors.is8bit(ck.tensors(), name);
        return group ? WeightFormats.loadStored(new StoredWeights(ck.source(), ck.tensors(), ck.quantizationConfig()), name, simd) : null;
    }

    private static float[] norm(Checkpoint ck, String name, int dim) {
        Tensor t = ck.tensor(name);
        if (t.elementCount() != dim) {
            throw new FinloraException(ck.source() + ": tensor '" + name + "' has " + t.elementCount() + " elements, expected " + dim);
        }
        return Floats.toFloatArray(t);
    }

    /** Bytes of all weights in their kernel formats (lm_head counted once when tied). */
    public long byteSize() {
        long b = tokenEmbedding.byteSize() + (lmHead == tokenEmbedding ? 0 : lmHead.byteSize()) + 4L * finalNorm.length;
        for (Layer l : layers) {
            b += l.wq.byteSize() + l.wk.byteSize() + l.wv.byteSize() + l.wo.byteSize()
                    + l.gate.byteSize() + l.up.byteSize() + l.down.byteSize() + 4L * (l.attnNorm.length + l.ffnNorm.length);
        }
        return b;
    }

    /**
     * The memory one decode step streams, in the order it reads it: every block's linear layers, then
     * lm_head (the token embedding, when tied; an untied embedding is only looked up, one row a token).
     */
    public List<MemorySegment> decodeStorage() {
        List<MemorySegment> s = new ArrayList<>();
        for (Layer l : layers) {
            for (String name : LINEAR_NAMES) s.add(l.linear(name).storage());
        }
        s.add(lmHead.storage());
        return s;
    }
}
