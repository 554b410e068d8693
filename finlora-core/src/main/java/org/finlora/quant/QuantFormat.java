package org.finlora.quant;

import org.finlora.FinloraException;
import org.finlora.kernel.Bnb4bitMatrix;
import org.finlora.kernel.Int8BlockMatrix;
import org.finlora.kernel.Int8VectorwiseMatrix;
import org.finlora.kernel.RtnMatrix;
import org.finlora.kernel.Matrices;
import org.finlora.kernel.WeightFormats;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;
import org.finlora.tensor.WeightMatrix;

import java.lang.foreign.MemorySegment;
import java.util.Locale;

/**
 * A quantization format with its options, parsed from a --quant value:
 * {@code nf4 | fp4 | int8 | int8-block | rtn2 .. rtn8}, optionally followed by
 * {@code :key=value,key=value} with keys blocksize (nf4, fp4, int8-block), double-quant
 * (true/false; nf4, fp4), threshold (int8) and group-size (rtn). Defaults are QLoRA's: blocksize 64
 * with double quantization for nf4/fp4, threshold 6.0 for int8, blocksize 64 for int8-block,
 * group size 128 for rtn. Example: {@code nf4:blocksize=128,double-quant=false}.
 */
public final class QuantFormat {
    public enum Kind { NF4, FP4, INT8, INT8_BLOCK, RTN }

    public final Kind kind;
    /** Bits per weight code (4, 8, or k for rtn). */
    public final int bits;
    public final int blocksize;
    public final boolean doubleQuant;
    public final int groupSize;
    public final float threshold;

    private QuantFormat(Kind kind, int bits, int blocksize, boolean doubleQuant, int groupSize, float threshold) {
        this.kind = kind;
        this.bits = bits;
        this.blocksize = blocksize;
        this.doubleQuant = doubleQuant;
        this.groupSize = groupSize;
        this.threshold = threshold;
    }

    /** True if the base name (before any ':') is one of this package's formats. */
    public static boolean isKnown(String spec) {
        String base = spec.strip().toLowerCase(Locale.ROOT);
        int colon = base.indexOf(':');
        if (colon >= 0) base = base.substring(0, colon);
        return switch (base) {
            case "nf4", "fp4", "int8", "int8-block" -> true;
            default -> base.matches("rtn[2-8]");
        };
    }

    public static QuantFormat parse(String spec) {
        String s = spec.strip().toLowerCase(Locale.ROOT);
        int colon = s.indexOf(':');
        String base = colon >= 0 ? s.substring(0, colon) : s;
        QuantFormat f = switch (base) {
            case "nf4" -> new QuantFormat(Kind.NF4, 4, 64, true, 0, 0f);
            case "fp4" -> new QuantFormat(Kind.FP4, 4, 64, true, 0, 0f);
            case "int8" -> new QuantFormat(Kind.INT8, 8, 0, false, 0, LlmInt8.DEFAULT_THRESHOLD);
            case "int8-block" -> new QuantFormat(Kind.INT8_BLOCK, 8, Int8Blockwise.DEFAULT_BLOCKSIZE, false, 0, 0f);
            default -> {
                if (base.matches("rtn[2-8]")) {
                    yield new QuantFormat(Kind.RTN, base.charAt(3) - '0', 0, false, Rtn.DEFAULT_GROUP_SIZE, 0f);
                }
                throw new FinloraException("--quant: unknown format \"" + spec + "\" (expected nf4, fp4, int8, int8-block or rtn2..rtn8)");
            }
        };
        if (colon < 0) return f;
        for (String opt : s.substring(colon + 1).split(",")) {
            if (opt.isBlank()) continue;
            int eq = opt.indexOf('=');
            if (eq < 0) throw new FinloraException("--quant " + spec + ": option \"" + opt + "\" is not key=value");
            String key = opt.substring(0, eq).strip(), value = opt.substring(eq + 1).strip();
            f = f.with(spec, key, value);
        }
        return f;
    }

    private QuantFormat with(String spec, String key, String value) {
        switch (key) {
            case "blocksize" -> {
                if (kind != Kind.NF4 && kind != Kind.FP4 && kind != Kind.INT8_BLOCK) throw notFor(spec, key);
                int b = integer(spec, key, value);
                if (kind == Kind.INT8_BLOCK) Int8BlockMatrix.checkBlocksize(b, "--quant " + spec);
                else Bnb4bit.checkBlocksize(b, "--quant " + spec);
                return new QuantFormat(kind, bits, b, doubleQuant, groupSize, threshold);
            }
            case "double-quant" -> {
                if (kind != Kind.NF4 && kind != Kind.FP4) throw notFor(spec, key);
                boolean dq = switch (value) {
                    case "true", "on", "1", "yes" -> true;
                    case "false", "off", "0", "no" -> false;
                    default -> throw new FinloraException("--quant " + spec + ": double-quant must be true or false, got \"" + value + "\"");
                };
                return new QuantFormat(kind, bits, blocksize, dq, groupSize, threshold);
            }
            case "group-size" -> {
                if (kind != Kind.RTN) throw notFor(spec, key);
                int g = integer(spec, key, value);
                if (g < 1) throw new FinloraException("--quant " + spec + ": group-size must be positive, got " + g);
                return new QuantFormat(kind, bits, blocksize, doubleQuant, g, threshold);
            }
            case "threshold" -> {
                if (kind != Kind.INT8) throw notFor(spec, key);
                float th;
                try {
                    th = Float.parseFloat(value);
                } catch (NumberFormatException e) {
                    throw new FinloraException("--quant " + spec + ": threshold must be a number, got \"" + value + "\"");
                }
                if (!(th >= 0f) || Float.isInfinite(th)) throw new FinloraException("--quant " + spec + ": threshold must be finite and >= 0 (0 disables outliers)");
                return new QuantFormat(kind, bits, blocksize, doubleQuant, groupSize, th);
            }
            default -> throw new FinloraException("--quant " + spec + ": unknown option \"" + key + "\" (known: blocksize, double-quant, group-size, threshold)");
        }
    }

    private FinloraException notFor(String spec, String key) {
        return new FinloraException("--quant " + spec + ": option " + key + " does not apply to " + baseName());
    }

    private static int integer(String spec, String key, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new FinloraException("--quant " + spec + ": " + key + " must be an integer, got \"" + value + "\"");
        }
    }

    public String baseName() {
        return switch (kind) {
            case NF4 -> "nf4";
            case FP4 -> "fp4";
            case INT8 -> "int8";
            case INT8_BLOCK -> "int8-block";
            case RTN -> "rtn" + bits;
        };
    }

    /** The canonical spec with every option spelled out; parse(name()) gives an equal format. */
    public String name() {
        return switch (kind) {
            case NF4, FP4 -> baseName() + ":blocksize=" + blocksize + ",double-quant=" + doubleQuant;
            case INT8 -> baseName() + ":threshold=" + threshold;
            case INT8_BLOCK -> baseName() + ":blocksize=" + blocksize;
            case RTN -> baseName() + ":group-size=" + groupSize;
        };
    }

    @Override
    public String toString() {
        return name();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantFormat f && f.name().equals(name());
    }

    @Override
    public int hashCode() {
        return name().hashCode();
    }

    /**
     * Quantizes a weight [out, in] into this format's kernel matrix. F32, BF16 and F16 tensors are
     * read directly (exact bnb semantics); other stored formats the kernel package can read (e.g.
     * GGUF Q8_0/Q4_0) are first dequantized to f32, one tensor at a time.
     */
    public WeightMatrix quantize(Tensor t) {
        if (!t.dtype().isFloat() || t.dtype() == DType.F64) t = asF32(t);
        return quantizeFloat(t);
    }

    private static Tensor asF32(Tensor t) {
        if (t.shape().length != 2 || !Matrices.supports(t.dtype())) {
            throw new FinloraException(t.name() + ": dtype " + t.dtype() + " " + java.util.Arrays.toString(t.shape()) + " cannot be quantized");
        }
        WeightMatrix src = Matrices.of(t);
        float[] all = new float[Math.toIntExact((long) src.rows * src.cols)];
        for (int r = 0; r < src.rows; r++) src.dequantizeRow(r, all, r * src.cols);
        return new Tensor(t.name(), DType.F32, new long[]{src.rows, src.cols}, MemorySegment.ofArray(all));
    }

    /**
     * Registers the base names (nf4, fp4, int8, int8-block, rtn2..rtn8, with default options) in the
     * --quant registry; embeddings and lm_head stay in their stored dtype for all of them.
     */
    public static void registerDefaults() {
        for (String name : new String[]{"nf4", "fp4", "int8", "int8-block", "rtn2", "rtn3", "rtn4", "rtn5", "rtn6", "rtn7", "rtn8"}) {
            QuantFormat f = parse(name);
            WeightFormats.register(name, f::quantize, false);
        }
    }

    private WeightMatrix quantizeFloat(Tensor t) {
        return switch (kind) {
            case NF4 -> Bnb4bitMatrix.quantize(t, Bnb4bit.Type.NF4, blocksize, doubleQuant);
            case FP4 -> Bnb4bitMatrix.quantize(t, Bnb4bit.Type.FP4, blocksize, doubleQuant);
            case INT8 -> Int8VectorwiseMatrix.quantize(t, threshold);
            case INT8_BLOCK -> Int8BlockMatrix.quantize(t, blocksize);
            case RTN -> RtnMatrix.quantize(t, bits, groupSize);
        };
    }
}
