package org.finlora.train;

import org.finlora.io.Checkpoint;
import org.finlora.kernel.BF16Matrix;
import org.finlora.kernel.Matrices;
import org.finlora.kernel.Simd;
import org.finlora.kernel.WeightFormat;
import org.finlora.model.LlamaWeights;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;
import org.finlora.tensor.WeightMatrix;

import java.util.function.Function;

/**
 * The frozen base of a LoRA run: projections in the --quant format (any registered weight format,
 * quantized on load), embeddings and lm_head as the format says. With bf16 and no --quant, f32
 * projections are stored as bf16 (the compute dtype QLoRA uses for non-quantized weights); LoRA
 * weights, gradients and activations stay f32.
 */
public final class BaseWeights {
    private BaseWeights() {
    }

    /** At this process's width ({@link Simd#configured()}). */
    public static LlamaWeights load(Checkpoint ck, String quant, boolean bf16) {
        return load(ck, quant, bf16, Simd.configured());
    }

    public static LlamaWeights load(Checkpoint ck, String quant, boolean bf16, Simd simd) {
        WeightFormat f = LlamaWeights.format(quant);
        if (f != null || !bf16) return LlamaWeights.load(ck, f, simd);
        Function<Tensor, WeightMatrix> stored = t -> Matrices.of(t, simd);
        Function<Tensor, WeightMatrix> asBf16 = t -> t.dtype() == DType.F32 ? BF16Matrix.FORMAT.quantize(t, simd) : Matrices.of(t, simd);
        return LlamaWeights.from(ck, asBf16, stored, simd);
    }
}
