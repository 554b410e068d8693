package org.finlora.quant;

import org.finlora.FinloraException;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/** Reads a range of a float tensor (F32, BF16, F16) as f32, exactly as torch's .float() converts. */
public final class TensorFloats {
    private TensorFloats() {
    }

    public static void checkFloat2d(Tensor t) {
        if (t.shape().length != 2) {
            throw new FinloraException(t.name() + ": expected a 2-D weight [out, in], got shape " + java.util.Arrays.toString(t.shape()));
        }
        switch (t.dtype()) {
            case F32, BF16, F16 -> {
            }
            default -> throw new FinloraException(t.name() + ": dtype " + t.dtype() + " cannot be quantized (expected F32, BF16 or F16)");
        }
        long need = t.elementCount() * (t.dtype() == org.finlora.tensor.DType.F32 ? 4 : 2);
        if (t.data().byteSize() < need) {
            throw new FinloraException(t.name() + ": holds " + t.data().byteSize() + " bytes, shape needs " + need);
        }
    }

    /** dst[0, len) = t.flat[start, start + len) as f32. */
    public static void read(Tensor t, long start, float[] dst, int len) {
        MemorySegment s = t.data();
        switch (t.dtype()) {
            case F32 -> MemorySegment.copy(s, Floats.F32_LE, 4 * start, dst, 0, len);
            case BF16 -> {
                for (int i = 0; i < len; i++) dst[i] = Floats.bf16ToFloat(s.get(Floats.I16_LE, 2 * (start + i)));
            }
            case F16 -> {
                for (int i = 0; i < len; i++) dst[i] = Float.float16ToFloat(s.get(Floats.I16_LE, 2 * (start + i)));
            }
            default -> throw new FinloraException(t.name() + ": dtype " + t.dtype() + " is not a float type");
        }
    }
}
