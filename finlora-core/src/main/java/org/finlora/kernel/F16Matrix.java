package org.finlora.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import org.finlora.tensor.Floats;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static org.finlora.kernel.Vectors.F;
import static org.finlora.kernel.Vectors.L;
import static org.finlora.kernel.Vectors.S8;

/** Row-major IEEE half weights. */
public final class F16Matrix extends RowMatrix {
    private final MemorySegment data;

    public F16Matrix(int rows, int cols, MemorySegment data) {
        super(rows, cols);
        if (data.byteSize() != 2L * rows * cols) {
            throw new IllegalArgumentException("f16 [" + rows + ", " + cols + "] needs " + 2L * rows * cols + " bytes, got " + data.byteSize());
        }
        this.data = data;
    }

    @Override
    public String format() {
        return "f16";
    }

    @Override
    public MemorySegment storage() {
        return data;
    }

    @Override
    public long byteSize() {
        return data.byteSize();
    }

    /**
     * 8 halves at byte offset o, widened exactly: exponent+mantissa bits moved to f32 position and
     * scaled by 2^112 (rebiases normals, normalizes subnormals); inf/NaN get the all-ones exponent.
     */
    static FloatVector widen(MemorySegment seg, long o) {
        IntVector h = ((IntVector) ShortVector.fromMemorySegment(S8, seg, o, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.S2I, IntVector.SPECIES_256, 0)).and(0xFFFF);
        IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        IntVector em = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
        IntVector mag = em.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> special = h.and(0x7C00).compare(VectorOperators.EQ, 0x7C00);
        mag = mag.blend(em.or(0x7F800000), special);
        return mag.or(sign).reinterpretAsFloats();
    }

    @Override
    protected void dequantize(int r, int c0, int n, float[] out, int off, boolean vector) {
        long base = 2L * ((long) r * cols + c0);
        int i = 0;
        if (vector) {
            for (; i + L <= n; i += L) widen(data, base + 2L * i).intoArray(out, off + i);
        }
        for (; i < n; i++) out[off + i] = Float.float16ToFloat(data.get(Floats.I16_LE, base + 2L * i));
    }

    @Override
    protected float dot(int r, float[] x, int xOff, boolean vector) {
        long base = 2L * r * cols;
        int c = 0;
        float s = 0f;
        if (vector) {
            FloatVector a0 = FloatVector.zero(F);
            for (; c + L <= cols; c += L) a0 = widen(data, base + 2L * c).fma(FloatVector.fromArray(F, x, xOff + c), a0);
            s = Dot.hsum(a0);
        }
        for (; c < cols; c++) s += Float.float16ToFloat(data.get(Floats.I16_LE, base + 2L * c)) * x[xOff + c];
        return s;
    }
}
