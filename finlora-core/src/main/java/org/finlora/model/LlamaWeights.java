package org.finlora.model;

import org.finlora.FinloraException;
import com.fasterxml.jackson.databind.JsonNode;
import org.finlora.io.Checkpoint;
import org.finlora.quant.BnbTensors;
import org.finlora.quant.LlmInt8;
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

    public LlamaWeights(LlamaConfig config, WeightMatrix tokenEmbedding, Layer[] layers, float[] finalNorm, WeightMatrix lmHead) {
        this.config = config;
        this.tokenEmbedding = tokenEmbedding;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
    }

    /**
     * Builds the weights of a checkpoint. {@code linear} turns each block projection into its kernel
     * format (this is where --quant quantizes on load); {@code embedding} does the same for the token
     * embedding and lm_head (which stay in their stored dtype unless asked otherwise).
     */
    public static LlamaWeights from(Checkpoint ck, Function<Tensor, WeightMatrix> linear, Function<Tensor, WeightMatrix> embedding) {
        LlamaConfig c = ck.config();
        Layer[] layers = new Layer[c.nLayers()];
        for (int l = 0; l < c.nLayers(); l++) {
            String p = "model.layers." + l + ".";
            layers[l] = new Layer(
                    norm(ck, p + "input_layernorm.weight", c.dim()),
                    lin(ck, p + "self_attn.q_proj.weight", c.qDim(), c.dim(), linear),
                    lin(ck, p + "self_attn.k_proj.weight", c.kvDim(), c.dim(), linear),
                    lin(ck, p + "self_attn.v_proj.weight", c.kvDim(), c.dim(), linear),
                    lin(ck, p + "self_attn.o_proj.weight", c.dim(), c.qDim(), linear),
                    norm(ck, p + "post_attention_layernorm.weight", c.dim()),
                    lin(ck, p + "mlp.gate_proj.weight", c.hiddenDim(), c.dim(), linear),
                    lin(ck, p + "mlp.up_proj.weight", c.hiddenDim(), c.dim(), linear),
                    lin(ck, p + "mlp.down_proj.weight", c.dim(), c.hiddenDim(), linear));
        }
        WeightMatrix emb = lin(ck, "model.embed_tokens.weight", c.vocabSize(), c.dim(), embedding);
        WeightMatrix head = c.tiedEmbeddings() ? emb : lin(ck, "lm_head.weight", c.vocabSize(), c.dim(), embedding);
        return new LlamaWeights(c, emb, layers, norm(ck, "model.norm.weight", c.dim()), head);
    }

    private static WeightMatrix lin(Checkpoint ck, String name, int rows, int cols, Function<Tensor, WeightMatrix> f) {
        Tensor t = ck.tensor(name);
        WeightMatrix stored = bnb(ck, name, t);
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
     * tensor group, or null when {@code t} is a plain tensor. The int8 outlier threshold is the
     * folder's quantization_config.llm_int8_threshold (bnb's 6.0 when absent).
     */
    private static WeightMatrix bnb(Checkpoint ck, String name, Tensor t) {
        if (t.dtype() == DType.U8 && BnbTensors.is4bit(ck.tensors(), name)) return BnbTensors.read4bit(ck.tensors(), name);
        if (t.dtype() == DType.I8 && BnbTensors.is8bit(ck.tensors(), name)) {
            float threshold = LlmInt8.DEFAULT_THRESHOLD;
            JsonNode q = ck.quantizationConfig();
            if (q != null && q.has("llm_int8_threshold")) {
                JsonNode v = q.get("llm_int8_threshold");
                if (!v.isNumber() || !(v.asDouble() >= 0) || Double.isInfinite(v.asDouble())) {
                    throw new FinloraException(ck.source() + "/config.json: quantization_config.llm_int8_threshold must be a number >= 0, got " + v);
                }
                threshold = (float) v.asDouble();
            }
            return BnbTensors.read8bit(ck.tensors(), name, threshold);
        }
        return null;
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
