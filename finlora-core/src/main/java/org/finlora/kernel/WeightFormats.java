package org.finlora.kernel;

import org.finlora.FinloraException;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;
import org.finlora.tensor.WeightMatrix;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The --quant registry: a format name maps to the function that turns a checkpoint tensor (any
 * stored float or block dtype) into a kernel matrix of that format, quantizing on load. Other
 * formats (nf4, fp4, int8, ...) plug in with {@link #register}.
 */
public final class WeightFormats {
    /** A registered format; {@code embeddings} says whether --quant also applies to token embeddings / lm_head. */
    public record Format(String name, Function<Tensor, WeightMatrix> fromTensor, boolean embeddings) {
    }

    private static final Map<String, Format> FORMATS = new LinkedHashMap<>();

    static {
        register("f32", t -> t.dtype() == DType.F32 ? Matrices.of(t) : F32Matrix.copyOf(Matrices.of(t)), true);
        register("q8_0", t -> t.dtype() == DType.Q8_0 ? Matrices.of(t) : Q8_0Matrix.quantize(Matrices.of(t)), true);
        register("q4_0", t -> t.dtype() == DType.Q4_0 ? Matrices.of(t) : Q4_0Matrix.quantize(Matrices.of(t)), true);
    }

    private WeightFormats() {
    }

    /** Adds (or replaces) a format. */
    public static synchronized void register(String name, Function<Tensor, WeightMatrix> fromTensor, boolean embeddings) {
        FORMATS.put(name, new Format(name, fromTensor, embeddings));
    }

    /** The format called {@code name}; a FinloraException listing the known names otherwise. */
    public static synchronized Format get(String name) {
        Format f = FORMATS.get(name);
        if (f != null) return f;
        // the bitsandbytes-style and RTN formats, with options: nf4, fp4:blocksize=128, int8:threshold=4, rtn4:group=64 ...
        org.finlora.quant.QuantFormat q;
        try {
            q = org.finlora.quant.QuantFormat.parse(name);
        } catch (FinloraException e) {
            if (name.contains(":") || name.matches("(nf4|fp4|int8|int8-block|rtn[2-8])")) throw e;   // a known base with a bad option
            throw new FinloraException("--quant " + name + ": unknown weight format (known: " + String.join(", ", names()) + ")");
        }
        return new Format(name, q::quantize, false);   // embeddings and lm_head stay in their stored dtype, as bitsandbytes does
    }

    /** Registered names plus the quant package's base formats, in a stable order. */
    public static synchronized Set<String> names() {
        var all = new java.util.LinkedHashSet<>(FORMATS.keySet());
        all.addAll(List.of("nf4", "fp4", "int8", "int8-block", "rtn2", "rtn3", "rtn4", "rtn5", "rtn6", "rtn7", "rtn8"));
        return all;
    }
}
