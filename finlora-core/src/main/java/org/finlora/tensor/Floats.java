package org.finlora.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Scalar conversions of small float tensors (norm weights, fixtures) to float[]. Not for hot paths. */
public final class Floats {
    public static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Floats() {
    }

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Round-to-nearest-even f32 to bf16, as torch does (NaN stays NaN). */
    public static short floatToBf16(float f) {
        int x = Float.floatToRawIntBits(f);
        if ((x & 0x7FFFFFFF) > 0x7F800000) return (short) ((x >>> 16) | 0x40);
        int rounding = 0x7FFF + ((x >>> 16) & 1);
        return (short) ((x + rounding) >>> 16);
    }

    public static float[] toFloatArray(Tensor t) {
        long n = t.elementCount();
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException(t + " is too large for a float[]");
        float[] out = new float[(int) n];
        MemorySegment s = t.data();
        switch (t.dtype()) {
            case F32 -> MemorySegment.copy(s, F32_LE, 0, out, 0, out.length);
            case BF16 -> {
                for (int i = 0; i < out.length; i++) out[i] = bf16ToFloat(s.get(I16_LE, 2L * i));
            }
            case F16 -> {
                for (int i = 0; i < out.length; i++) out[i] = Float.float16ToFloat(s.get(I16_LE, 2L * i));
            }
            default -> throw new org.finlora.FinloraException(t.name() + ": dtype " + t.dtype()
                    + " where a float tensor (F32, F16, BF16) was expected");
        }
        return out;
    }
}
