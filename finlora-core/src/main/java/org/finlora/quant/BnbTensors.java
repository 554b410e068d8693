package org.finlora.quant;

import com.fasterxml.jackson.databind.JsonNode;
import org.finlora.FinloraException;
import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigDecimal;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * bitsandbytes' serialized weights in a HF state dict (a Map of tensors; file I/O is elsewhere).
 *
 * <p>4-bit (Linear4bit, QuantState.as_dict(packed=True)), under {@code <module>.weight}:
 * {@code weight} U8 [(n+1)/2, 1] packed codes (first element in the high nibble);
 * {@code weight.absmax} F32 [blocks], or U8 [blocks] when double-quantized, then also
 * {@code weight.nested_absmax} F32, {@code weight.nested_quant_map} F32[256];
 * {@code weight.quant_map} F32[16]; {@code weight.quant_state.bitsandbytes__<nf4|fp4>} U8 holding
 * UTF-8 JSON {quant_type, blocksize, dtype, shape[, nested_blocksize, nested_dtype, nested_offset]}.
 *
 * <p>8-bit (Linear8bitLt): {@code <module>.weight} I8 [out, in] (CB), {@code <module>.SCB} F32 [out],
 * and {@code <module>.weight_format} U8 scalar (0 = row-major) when present.
 */
public final class BnbTensors {
    /**
     * A 4-bit weight as bnb stores it: codes one per element in bnb's flat row-major order (0..15), and
     * either the f32 absmax per block (nested == null) or the double-quantized statistics.
     */
    public record FourBit(String name, Bnb4bit.Type type, int rows, int cols, int blocksize, byte[] codes, float[] absmax,
                          DoubleQuant.Nested nested) {
    }

    /** An LLM.int8 weight as bnb stores it: CB int8 [rows, cols] row-major and SCB f32 [rows]. */
    public record EightBit(String name, int rows, int cols, byte[] cb, float[] scb) {
    }

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private BnbTensors() {
    }

    /** The quant_state tensor of a 4-bit weight, or null when {@code weightName} is not bnb 4-bit. */
    public static Tensor quantState(Map<String, Tensor> tensors, String weightName) {
        for (Bnb4bit.Type t : Bnb4bit.Type.values()) {
            Tensor s = tensors.get(weightName + ".quant_state.bitsandbytes__" + t.id);
            if (s != null) return s;
        }
        return null;
    }

    public static boolean is4bit(Map<String, Tensor> tensors, String weightName) {
        return quantState(tensors, weightName) != null;
    }

    public static boolean is8bit(Map<String, Tensor> tensors, String weightName) {
        return tensors.containsKey(modulePrefix(weightName) + "SCB");
    }

    private static String modulePrefix(String weightName) {
        return weightName.endsWith("weight") ? weightName.substring(0, weightName.length() - "weight".length()) : weightName + ".";
    }

    private static Tensor need(Map<String, Tensor> tensors, String name, DType dtype, String why) {
        Tensor t = tensors.get(name);
        if (t == null) throw new FinloraException(name + ": missing (" + why + ")");
        if (t.dtype() != dtype) throw new FinloraException(name + ": dtype " + t.dtype() + ", expected " + dtype);
        return t;
    }

    private static byte[] bytes(Tensor t, long expected) {
        if (t.elementCount() != expected) {
            throw new FinloraException(t.name() + ": has " + t.elementCount() + " elements, expected " + expected);
        }
        if (t.data().byteSize() < expected) throw new FinloraException(t.name() + ": holds " + t.data().byteSize() + " bytes, expected " + expected);
        return t.data().asSlice(0, expected).toArray(ValueLayout.JAVA_BYTE);
    }

    private static float[] floats(Tensor t, long expected) {
        if (t.elementCount() != expected) {
            throw new FinloraException(t.name() + ": has " + t.elementCount() + " elements, expected " + expected);
        }
        return Floats.toFloatArray(t);
    }

    /** Reads one bnb 4-bit weight group, validating every part against the others. */
    public static FourBit read4bit(Map<String, Tensor> tensors, String weightName) {
        Tensor qs = quantState(tensors, weightName);
        if (qs == null) throw new FinloraException(weightName + ": no quant_state.bitsandbytes__nf4 or __fp4 tensor");
        String stateName = qs.name() != null ? qs.name() : weightName + ".quant_state";
        if (qs.dtype() != DType.U8) throw new FinloraException(stateName + ": dtype " + qs.dtype() + ", expected U8 (UTF-8 JSON)");
        if (qs.elementCount() > 1 << 20) throw new FinloraException(stateName + ": " + qs.elementCount() + " bytes is too long for a quant_state");
        JsonNode st;
        try {
            st = org.finlora.io.Json.parse(stateName, bytes(qs, qs.elementCount()), 1 << 20);
        } catch (FinloraException e) {
            throw new FinloraException(stateName + ": not valid JSON (" + e.getMessage() + ")");
        }
        if (!st.isObject()) throw new FinloraException(stateName + ": quant_state is not a JSON object");
        String suffix = stateName.substring(stateName.lastIndexOf("__") + 2);
        Bnb4bit.Type type = Bnb4bit.Type.parse(text(st, "quant_type", stateName), stateName);
        if (!type.id.equals(suffix)) throw new FinloraException(stateName + ": quant_type " + type.id + " does not match the key suffix " + suffix);
        int blocksize = integer(st, "blocksize", stateName);
        Bnb4bit.checkBlocksize(blocksize, stateName);
        JsonNode shape = st.get("shape");
        if (shape == null || !shape.isArray() || shape.size() != 2 || !shape.get(0).canConvertToInt() || !shape.get(1).canConvertToInt()
                || shape.get(0).asInt() <= 0 || shape.get(1).asInt() <= 0) {
            throw new FinloraException(stateName + ": shape must be [out, in] with positive sizes, got " + shape);
        }
        if (!shape.get(0).isIntegralNumber() || !shape.get(1).isIntegralNumber()) {
            throw new FinloraException(stateName + ": shape must be [out, in] with positive integer sizes, got " + shape);
        }
        int rows = shape.get(0).asInt(), cols = shape.get(1).asInt();
        long n = (long) rows * cols;
        int nb = Bnb4bit.blockCount(n, blocksize);
        Tensor w = need(tensors, weightName, DType.U8, "packed 4-bit codes");
        byte[] packed = bytes(w, (n + 1) / 2);
        Tensor qmap = tensors.get(weightName + ".quant_map");
        if (qmap != null) {
            float[] m = floats(qmap, 16);
            float[] table = type.table();
            for (int i = 0; i < 16; i++) {
                if (Float.compare(m[i], table[i]) != 0 && !(m[i] == 0f && table[i] == 0f)) {
                    throw new FinloraException(qmap.name() + ": entry " + i + " is " + m[i] + ", bnb's " + type.id + " table has " + table[i]);
                }
            }
        }
        boolean nested = st.has("nested_blocksize") || st.has("nested_offset");
        if (!nested) {
            float[] absmax = floats(need(tensors, weightName + ".absmax", DType.F32, "block absmax"), nb);
            return new FourBit(weightName, type, rows, cols, blocksize, Bnb4bit.unpackBnb(packed, Math.toIntExact(n)), absmax, null);
        }
        int nbs = integer(st, "nested_blocksize", stateName);
        if (nbs <= 0 || nbs > 1 << 16) throw new FinloraException(stateName + ": nested_blocksize " + nbs + " out of range");
        JsonNode off = st.get("nested_offset");
        if (off == null || !off.isNumber() || !Float.isFinite((float) off.asDouble())) throw new FinloraException(stateName + ": nested_offset missing or not a number");
        byte[] qa = bytes(need(tensors, weightName + ".absmax", DType.U8, "double-quantized absmax"), nb);
        float[] absmax2 = floats(need(tensors, weightName + ".nested_absmax", DType.F32, "nested absmax"), (nb + nbs - 1) / nbs);
        float[] map = floats(need(tensors, weightName + ".nested_quant_map", DType.F32, "nested quant map"), 256);
        return new FourBit(weightName, type, rows, cols, blocksize, Bnb4bit.unpackBnb(packed, Math.toIntExact(n)), null,
                new DoubleQuant.Nested(qa, absmax2, (float) off.asDouble(), map, nbs));
    }

    private static String text(JsonNode st, String key, String where) {
        JsonNode v = st.get(key);
        if (v == null || !v.isTextual()) throw new FinloraException(where + ": " + key + " missing or not a string");
        return v.asText();
    }

    private static int integer(JsonNode st, String key, String where) {
        JsonNode v = st.get(key);
        if (v == null || !v.canConvertToInt() || !v.isIntegralNumber()) throw new FinloraException(where + ": " + key + " missing or not an integer");
        return v.asInt();
    }

    /** Reads a Linear8bitLt weight (CB int8 + SCB). */
    public static EightBit read8bit(Map<String, Tensor> tensors, String weightName) {
        Tensor w = need(tensors, weightName, DType.I8, "int8 CB");
        if (w.shape().length != 2) throw new FinloraException(weightName + ": expected a 2-D int8 weight, got " + java.util.Arrays.toString(w.shape()));
        Tensor fmt = tensors.get(modulePrefix(weightName) + "weight_format");
        if (fmt != null && fmt.elementCount() == 1 && fmt.data().get(ValueLayout.JAVA_BYTE, 0) != 0) {
            throw new FinloraException(fmt.name() + ": weight_format " + fmt.data().get(ValueLayout.JAVA_BYTE, 0) + " is not 0 (row-major)");
        }
        int rows = w.rows(), cols = w.cols();
        float[] scb = floats(need(tensors, modulePrefix(weightName) + "SCB", DType.F32, "row scales"), rows);
        return new EightBit(weightName, rows, cols, bytes(w, (long) rows * cols), scb);
    }

    private static Tensor u8(String name, byte[] b, long... shape) {
        return new Tensor(name, DType.U8, shape, MemorySegment.ofArray(b));
    }

    private static Tensor f32(String name, float[] v) {
        MemorySegment s = MemorySegment.ofArray(new byte[4 * v.length]);
        for (int i = 0; i < v.length; i++) s.set(F32, 4L * i, v[i]);
        return new Tensor(name, DType.F32, new long[]{v.length}, s);
    }

    /**
     * The bnb state-dict tensors of a 4-bit weight, in bnb's key order. {@code dtype} is the name of
     * the weight's compute/load dtype written into the quant_state ("bfloat16", "float16", "float32").
     */
    public static Map<String, Tensor> write4bit(String weightName, FourBit m, String dtype) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        byte[] packed = Bnb4bit.packBnb(m.codes());
        out.put(weightName, u8(weightName, packed, packed.length, 1));
        StringBuilder js = new StringBuilder();
        js.append("{\"quant_type\": \"").append(m.type().id).append("\", \"blocksize\": ").append(m.blocksize())
                .append(", \"dtype\": \"").append(dtype).append("\", \"shape\": [").append(m.rows()).append(", ").append(m.cols()).append("]");
        DoubleQuant.Nested n = m.nested();
        if (n != null) {
            out.put(weightName + ".absmax", u8(weightName + ".absmax", n.codes().clone(), n.codes().length));
            out.put(weightName + ".quant_map", f32(weightName + ".quant_map", m.type().table()));
            out.put(weightName + ".nested_absmax", f32(weightName + ".nested_absmax", n.absmax2()));
            out.put(weightName + ".nested_quant_map", f32(weightName + ".nested_quant_map", n.map()));
            js.append(", \"nested_blocksize\": ").append(n.blocksize()).append(", \"nested_dtype\": \"float32\", \"nested_offset\": ")
                    .append(pythonRepr(n.offset()));
        } else {
            out.put(weightName + ".absmax", f32(weightName + ".absmax", m.absmax()));
            out.put(weightName + ".quant_map", f32(weightName + ".quant_map", m.type().table()));
        }
        js.append("}");
        String key = weightName + ".quant_state.bitsandbytes__" + m.type().id;
        byte[] b = js.toString().getBytes(StandardCharsets.UTF_8);
        out.put(key, u8(key, b, b.length));
        return out;
    }

    /** Python's repr of the float64 value of an f32 (what json.dumps writes for tensor.item()). */
    static String pythonRepr(float f) {
        double d = f;
        if (d == 0) return Float.floatToIntBits(f) < 0 ? "-0.0" : "0.0";
        double a = Math.abs(d);
        if (a >= 1e-4 && a < 1e16) {
            String s = new BigDecimal(Double.toString(d)).toPlainString();
            return s.contains(".") ? s : s + ".0";
        }
        String s = Double.toString(d).replace("E", "e");     // 1.2345e-5 style
        int e = s.indexOf('e');
        String mant = s.substring(0, e), exp = s.substring(e + 1);
        if (mant.endsWith(".0")) mant = mant.substring(0, mant.length() - 2);
        boolean neg = exp.startsWith("-");
        String digits = neg ? exp.substring(1) : exp;
        if (digits.length() < 2) digits = "0" + digits;
        return mant + "e" + (neg ? "-" : "+") + digits;
    }

    /** The Linear8bitLt state-dict tensors (weight, SCB, weight_format). */
    public static Map<String, Tensor> write8bit(String weightName, EightBit m) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put(weightName, new Tensor(weightName, DType.I8, new long[]{m.rows(), m.cols()}, MemorySegment.ofArray(m.cb().clone())));
        String p = modulePrefix(weightName);
        out.put(p + "SCB", f32(p + "SCB", m.scb()));
        out.put(p + "weight_format", u8(p + "weight_format", new byte[]{0}));
        return out;
    }
}
