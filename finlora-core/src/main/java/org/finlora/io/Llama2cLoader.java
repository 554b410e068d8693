package org.finlora.io;

import org.finlora.FinloraException;
import org.finlora.model.LlamaConfig;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;
import org.finlora.tokenizer.Llama2cTokenizer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Karpathy's llama2.c legacy (v0) checkpoint: 7 int32 (dim, hidden_dim, n_layers, n_heads,
 * n_kv_heads, vocab_size — negative when the classifier is not shared — and seq_len), then f32
 * arrays in a fixed order. Weights are [out, in] with Meta's interleaved RoPE pairs.
 */
public final class Llama2cLoader {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int HEADER_BYTES = 28;

    private Llama2cLoader() {
    }

    public static Checkpoint load(Path bin, Path tokenizerBin) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment file = MappedFile.map(bin, arena);
            LlamaConfig cfg = readConfig(bin, file);
            Map<String, Tensor> tensors = readTensors(bin, file, cfg);
            Path tok = tokenizerBin != null ? tokenizerBin : bin.resolveSibling("tokenizer.bin");
            if (tokenizerBin != null && !InputFiles.exists(tok)) throw new FinloraException(tok + ": --tokenizer file not found");
            if (tokenizerBin == null && !InputFiles.exists(tok)) tok = bin.resolveSibling("tok512.bin");
            if (!InputFiles.exists(tok)) {
                throw new FinloraException(bin + ": no tokenizer.bin beside the checkpoint (pass --tokenizer FILE)");
            }
            var tokenizer = Llama2cTokenizer.load(tok, cfg.vocabSize());
            return new Checkpoint(bin.toString(), "llama2.c", cfg, tensors, tokenizer, arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    static LlamaConfig readConfig(Path bin, MemorySegment file) {
        if (file.byteSize() < HEADER_BYTES) {
            throw new FinloraException(bin + ": " + file.byteSize() + " bytes is too short for a llama2.c header (28 bytes)");
        }
        int[] h = new int[7];
        for (int i = 0; i < 7; i++) h[i] = file.get(I32, 4L * i);
        int dim = h[0], hidden = h[1], layers = h[2], heads = h[3], kvHeads = h[4], vocab = Math.abs(h[5]), seq = h[6];
        String[] names = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
        for (int i = 0; i < 7; i++) {
            long v = i == 5 ? Math.abs((long) h[5]) : h[i];
            if (v <= 0 || v > (1 << 24)) {
                throw new FinloraException(bin + ": header field " + names[i] + " = " + h[i] + " at offset " + (4 * i)
                        + " is not a valid size (is this a llama2.c checkpoint?)");
            }
        }
        if (seq < 2) throw new FinloraException(bin + ": header field seq_len = " + seq + " at offset 24 leaves no token to predict (at least 2)");
        if (dim % heads != 0 || heads % kvHeads != 0 || kvHeads > heads || (dim / heads) % 2 != 0) {
            throw new FinloraException(bin + ": dim " + dim + ", n_heads " + heads + ", n_kv_heads " + kvHeads
                    + " do not divide evenly (or the head size is odd)");
        }
        boolean shared = h[5] > 0;
        return new LlamaConfig(dim, hidden, layers, heads, kvHeads, dim / heads, vocab, seq, 1e-5f, 10000f,
                null, null, true, shared);
    }

    private static Map<String, Tensor> readTensors(Path bin, MemorySegment file, LlamaConfig c) {
        long dim = c.dim(), hid = c.hiddenDim(), L = c.nLayers(), kv = c.kvDim(), hs = c.headDim(), V = c.vocabSize();
        long[] sizes = {V * dim, L * dim, L * dim * dim, L * kv * dim, L * kv * dim, L * dim * dim, L * dim,
                L * hid * dim, L * dim * hid, L * hid * dim, dim, (long) c.maxSeqLen() * hs / 2, (long) c.maxSeqLen() * hs / 2,
                c.tiedEmbeddings() ? 0 : V * dim};
        long need = HEADER_BYTES;
        for (long s : sizes) need += 4 * s;
        if (file.byteSize() != need) {
            throw new FinloraException(bin + ": size " + file.byteSize() + " bytes does not match the header (expected "
                    + need + " bytes for dim " + dim + ", " + L + " layers, vocab " + V + ")");
        }
        Map<String, Tensor> t = new LinkedHashMap<>();
        long off = HEADER_BYTES;
        off = put(t, file, "model.embed_tokens.weight", off, V, dim);
        long attNorm = off; off += 4 * L * dim;
        long wq = off; off += 4 * L * dim * dim;
        long wk = off; off += 4 * L * kv * dim;
        long wv = off; off += 4 * L * kv * dim;
        long wo = off; off += 4 * L * dim * dim;
        long ffnNorm = off; off += 4 * L * dim;
        long w1 = off; off += 4 * L * hid * dim;
        long w2 = off; off += 4 * L * dim * hid;
        long w3 = off; off += 4 * L * hid * dim;
        for (int l = 0; l < L; l++) {
            String p = "model.layers." + l + ".";
            put(t, file, p + "input_layernorm.weight", attNorm + 4 * l * dim, dim);
            put(t, file, p + "self_attn.q_proj.weight", wq + 4 * l * dim * dim, dim, dim);
            put(t, file, p + "self_attn.k_proj.weight", wk + 4 * l * kv * dim, kv, dim);
            put(t, file, p + "self_attn.v_proj.weight", wv + 4 * l * kv * dim, kv, dim);
            put(t, file, p + "self_attn.o_proj.weight", wo + 4 * l * dim * dim, dim, dim);
            put(t, file, p + "post_attention_layernorm.weight", ffnNorm + 4 * l * dim, dim);
            put(t, file, p + "mlp.gate_proj.weight", w1 + 4 * l * hid * dim, hid, dim);
            put(t, file, p + "mlp.down_proj.weight", w2 + 4 * l * dim * hid, dim, hid);
            put(t, file, p + "mlp.up_proj.weight", w3 + 4 * l * hid * dim, hid, dim);
        }
        off = put(t, file, "model.norm.weight", off, dim);
        off += 4 * (long) c.maxSeqLen() * hs;   // legacy freq_cis_real + freq_cis_imag: recomputed instead
        if (!c.tiedEmbeddings()) put(t, file, "lm_head.weight", off, V, dim);
        return t;
    }

    private static long put(Map<String, Tensor> t, MemorySegment file, String name, long off, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        t.put(name, new Tensor(name, DType.F32, shape, file.asSlice(off, 4 * n)));
        return off + 4 * n;
    }
}
