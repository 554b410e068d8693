package org.finlora.kernel;

import org.finlora.FinloraException;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The registry of weight formats: every --quant name, each format's traits ({@link WeightFormat}),
 * and reading a checkpoint weight in whichever format it is stored. One line per format below.
 */
public final class WeightFormats {
    private static final Map<String, WeightFormat> FORMATS = new LinkedHashMap<>();

    static {
        register(F32Matrix.FORMAT);
        register(BF16Matrix.FORMAT);
        register(F16Matrix.FORMAT);
        register(Q8_0Matrix.FORMAT);
        register(Q4_0Matrix.FORMAT);
        register(Bnb4bitMatrix.NF4);
        register(Bnb4bitMatrix.FP4);
        register(Int8VectorwiseMatrix.FORMAT);
        register(Int8BlockMatrix.FORMAT);
        for (int bits = 2; bits <= 8; bits++) register(RtnMatrix.format(bits));
    }

    private WeightFormats() {
    }

    private static synchronized void register(WeightFormat f) {
        FORMATS.put(f.name(), f);
    }

    /** Every registered format with its default options, in registration order. */
    public static synchronized List<WeightFormat> all() {
        return List.copyOf(FORMATS.values());
    }

    /** The --quant base names. */
    public static synchronized List<String> names() {
        return Collections.unmodifiableList(new ArrayList<>(FORMATS.keySet()));
    }

    /**
     * The format of a --quant value: a base name, optionally followed by {@code :key=value,key=value}
     * (e.g. {@code nf4:blocksize=128,double-quant=false}). "none" is not a format (callers keep the stored dtypes).
     */
    public static WeightFormat parse(String spec) {
        String s = spec.strip().toLowerCase(Locale.ROOT);
        int colon = s.indexOf(':');
        String base = colon >= 0 ? s.substring(0, colon) : s;
        WeightFormat f;
        synchronized (WeightFormats.class) {
            f = FORMATS.get(base);
        }
        if (f == null) {
            throw new FinloraException("--quant " + spec + ": unknown weight format (known: " + String.join(", ", names()) + ")");
        }
        if (colon < 0) return f;
        for (String opt : s.substring(colon + 1).split(",")) {
            if (opt.isBlank()) continue;
            int eq = opt.indexOf('=');
            if (eq < 0) throw new FinloraException("--quant " + spec + ": option \"" + opt.strip() + "\" is not key=value");
            f = f.with(opt.substring(0, eq).strip(), opt.substring(eq + 1).strip());
        }
        return f;
    }

    /** The weight {@code name} in whichever registered format its stored tensors hold; a one-line error when none reads it. */
    public static RowMatrix loadStored(StoredWeights src, String name, Simd simd) {
        for (WeightFormat f : all()) {
            RowMatrix m = f.load(src, name, simd);
            if (m != null) return m;
        }
        Tensor t = src.tensor(name);
        if (t == null) throw new FinloraException(src.source() + ": no tensor '" + name + "'");
        return Matrices.of(t, simd);   // its one-line error names the dtype
    }

    /**
     * t itself when it holds floats (F32, BF16, F16: read exactly as torch's .float()), else its values
     * dequantized to an f32 tensor (GGUF Q8_0/Q4_0, ...), for formats that quantize from floats.
     */
    public static Tensor floatTensor(Tensor t) {
        if (t.dtype() == DType.F32 || t.dtype() == DType.BF16 || t.dtype() == DType.F16) return t;
        if (t.shape().length != 2 || !Matrices.supports(t.dtype())) {
            throw new FinloraException(t.name() + ": dtype " + t.dtype() + " " + java.util.Arrays.toString(t.shape()) + " cannot be quantized");
        }
        // a Q4_0 matrix would repack its tiles first: its ggml rows are decoded straight from the file's bytes
        Matrices.check(t);
        RowMatrix src = t.dtype() == DType.Q4_0 ? null : Matrices.of(t, Simd.SCALAR);
        int rows = t.rows(), cols = t.cols();
        float[] all = new float[Math.toIntExact((long) rows * cols)];
        Parallel.forRange(rows, Parallel.minChunk(16, cols), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                if (src != null) src.dequantizeRow(r, all, r * cols);
                else Q4_0Matrix.dequantizeGgmlRow(t.data(), r, cols, all, r * cols);
            }
        });
        return new Tensor(t.name(), DType.F32, new long[]{rows, cols}, MemorySegment.ofArray(all));
    }

    /** An integer option value; a one-line error naming the option otherwise. */
    static int intOption(String format, String key, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new FinloraException("--quant " + format + ": " + key + " must be an integer, got \"" + value + "\"");
        }
    }

    /** A boolean option value (true/false, on/off, 1/0, yes/no). */
    static boolean boolOption(String format, String key, String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "true", "on", "1", "yes" -> true;
            case "false", "off", "0", "no" -> false;
            default -> throw new FinloraException("--quant " + format + ": " + key + " must be true or false, got \"" + value + "\"");
        };
    }
}
