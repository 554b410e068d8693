package org.finlora.kernel;

import org.finlora.FinloraException;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;
import org.finlora.tensor.WeightMatrix;

import java.util.LinkedHashMap;
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
        if (f == null) throw new FinloraException("--quant " + name + ": unknown weight format (known: " + String.join(", ", FORMATS.keySet()) + ")");
        return f;
    }

    public static synchronized Set<String> names() {
        return Set.copyOf(FORMATS.keySet());
    }
}
