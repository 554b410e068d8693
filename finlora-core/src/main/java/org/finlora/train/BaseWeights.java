package org.finlora.train;

import org.finlora.io.Checkpoint;
import org.finlora.kernel.BF16Matrix;
import org.finlora.kernel.Matrices;
import org.finlora.kernel.WeightFormats;
import org.finlora.model.LlamaWeights;
import org.finlora.quant.QuantFormat;
import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;
import org.finlora.tensor.WeightMatrix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.Function;

/**
 * The frozen base of a LoRA run: projections in the --quant format (a {@link WeightFormats} name, or
 * one of {@link QuantFormat}'s nf4/fp4/int8/... quantized on load), embeddings and lm_head in their
 * stored dtype. With bf16, unquantized f32 projections are stored as bf16 (the compute dtype QLoRA
 * uses for non-quantized weights); LoRA weights, gradients and activations stay f32.
 */
public final class BaseWeights {
    private BaseWeights() {
    }

    public static LlamaWeights load(Checkpoint ck, String quant, boolean bf16) {
        Function<Tensor, WeightMatrix> stored = Matrices::of;
        if (quant == null || quant.isBlank() || quant.equals("none")) {
            return LlamaWeights.from(ck, bf16 ? BaseWeights::asBf16 : stored, stored);
        }
        if (WeightFormats.names().contains(quant)) {
            WeightFormats.Format f = WeightFormats.get(quant);
            return LlamaWeights.from(ck, f.fromTensor(), f.embeddings() ? f.fromTensor() : stored);
        }
        QuantFormat q = QuantFormat.parse(quant);
        return LlamaWeights.from(ck, q::quantize, stored);
    }

    /** An f32 matrix rounded to bf16 (round to nearest even); other dtypes as stored. */
    static WeightMatrix asBf16(Tensor t) {
        if (t.dtype() != DType.F32) return Matrices.of(t);
        int rows = t.rows(), cols = t.cols();
        long n = (long) rows * cols;
        MemorySegment out = Arena.ofAuto().allocate(2 * n, 2);
        for (long i = 0; i < n; i++) {
            float f = t.data().get(Floats.F32_LE, 4 * i);
            out.set(Floats.I16_LE, 2 * i, Floats.floatToBf16(f));
        }
        return new BF16Matrix(rows, cols, out);
    }
}
