package org.finlora.kernel;

import org.finlora.FinloraException;
import org.finlora.tensor.Tensor;

import java.util.Map;

/**
 * One weight format's traits, as ggml's type traits: its --quant name and options, how to quantize a
 * float weight into it, how to read it from a checkpoint's stored tensors, and how to write it back.
 * The kernels themselves (the decode of a strip, the decode dot, the input gradient) are the methods
 * of the {@link RowMatrix} it builds. Each format is one class (its matrix, with the traits nested)
 * and one line in {@link WeightFormats}; the width contract test runs every registered format.
 */
public interface WeightFormat {
    /** The --quant base name: "f32", "q4_0", "nf4", "rtn4", ... */
    String name();

    /** The --quant value with every option spelled out: {@code WeightFormats.parse(spec())} equals this format. */
    default String spec() {
        return name();
    }

    /** Options with their defaults for help texts, e.g. "blocksize=N (64), double-quant=BOOL (true)"; "" when none. */
    default String options() {
        return "";
    }

    /** This format with one option set (parsed from "name:key=value,..."); a one-line error naming the option otherwise. */
    default WeightFormat with(String key, String value) {
        throw new FinloraException("--quant " + name() + ": unknown option \"" + key + "\" (" + name()
                + (options().isEmpty() ? " takes no options)" : " takes " + options() + ")"));
    }

    /** Whether --quant with this format also converts the token embedding and lm_head (bitsandbytes leaves them alone). */
    default boolean embeddings() {
        return false;
    }

    /** Quantizes a 2-D weight (any dtype {@link Matrices} or {@link WeightFormats#floatTensor} reads) into this format. */
    RowMatrix quantize(Tensor t, Simd simd);

    /** The weight {@code name} read from its stored tensors when they hold this format (a dtype, or a bitsandbytes group), else null. */
    default RowMatrix load(StoredWeights src, String name, Simd simd) {
        return null;
    }

    /**
     * The tensors that store m (a matrix of this format) under {@code name} in this format's checkpoint
     * layout; {@code dtype} names the source's float dtype ("bfloat16", "float16", "float32") for layouts
     * that record it. A one-line error for formats without one.
     */
    default Map<String, Tensor> store(RowMatrix m, String name, String dtype) {
        throw new FinloraException("--quant " + spec() + ": " + name() + " has no checkpoint layout to write");
    }
}
