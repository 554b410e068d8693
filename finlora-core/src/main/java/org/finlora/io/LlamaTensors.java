package org.finlora.io;

import org.finlora.FinloraException;
import org.finlora.model.LlamaConfig;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;

import java.util.Arrays;
import java.util.Map;

/** Checks that a checkpoint has every Llama tensor under its HF name, with the shape the config implies. */
final class LlamaTensors {
    private LlamaTensors() {
    }

    static void check(String source, LlamaConfig c, Map<String, Tensor> t) {
        long dim = c.dim(), q = c.qDim(), kv = c.kvDim(), hid = c.hiddenDim(), vocab = c.vocabSize();
        expect(source, t, "model.embed_tokens.weight", vocab, dim);
        expect(source, t, "model.norm.weight", dim);
        if (!c.tiedEmbeddings()) expect(source, t, "lm_head.weight", vocab, dim);
        for (int l = 0; l < c.nLayers(); l++) {
            String p = "model.layers." + l + ".";
            expect(source, t, p + "input_layernorm.weight", dim);
            expect(source, t, p + "post_attention_layernorm.weight", dim);
            expect(source, t, p + "self_attn.q_proj.weight", q, dim);
            expect(source, t, p + "self_attn.k_proj.weight", kv, dim);
            expect(source, t, p + "self_attn.v_proj.weight", kv, dim);
            expect(source, t, p + "self_attn.o_proj.weight", dim, q);
            expect(source, t, p + "mlp.gate_proj.weight", hid, dim);
            expect(source, t, p + "mlp.up_proj.weight", hid, dim);
            expect(source, t, p + "mlp.down_proj.weight", dim, hid);
        }
    }

    private static void expect(String source, Map<String, Tensor> tensors, String name, long... shape) {
        Tensor t = tensors.get(name);
        if (t == null) throw new FinloraException(source + ": missing tensor '" + name + "'");
        // Packed quantized storage (bitsandbytes U8/I8 with side tensors) has its own shapes; checked by its loader.
        if (t.dtype() == DType.U8 || t.dtype() == DType.I8) return;
        if (!Arrays.equals(t.shape(), shape)) {
            throw new FinloraException(source + ": tensor '" + name + "' has shape " + Arrays.toString(t.shape())
                    + " but the config implies " + Arrays.toString(shape));
        }
    }
}
