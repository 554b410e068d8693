package org.finlora.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import org.finlora.tensor.Floats;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static org.finlora.kernel.Vectors.F;
import static org.finlora.kernel.Vectors.L;
import static org.finlora.kernel.Vectors.S8;

/** Row-major bf16 weights: each value widens to f32 by a 16-bit left shift of its bits. */
public final class BF16Matrix extends RowMatrix {
    private final MemorySegment data;

    public BF16Matrix(int rows, int cols, MemorySegment data) {
        super(rows, cols);
        if (data.byteSize() != 2L * rows * cols) {
            throw new IllegalArgumentException("bf16 [" + rows + ", " + cols + "] needs " + 2L * rows * cols + " bytes, got " + data.byteSize());
        }
        this.data = data;
    }

    @Override
    public String format() {
        return "bf16";
    }

    @Override
    public MemorySegment storage() {
        return data;
    }

    @Override
    public long byteSize() {
        return data.byteSize();
    }

    /** 8 bf16 at byte offset o, widened to floats. */
    private FloatVector load(long o) {
        ShortVector s = ShortVector.fromMemorySegment(S8, data, o, ByteOrder.LITTLE_ENDIAN);
        return ((IntVector) s.convertShape(VectorOperators.S2I, IntVector.SPECIES_256, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    @Override
    protected void dequantize(int r, int c0, int n, float[] out, int off, boolean vector) {
        long base = 2L * ((long) r * cols + c0);
        int i = 0;
        if (vector) {
            for (; i + L <= n; i += L) load(base + 2L * i).intoArray(out, off + i);
        }
        for (; i < n; i++) out[off + i] = Floats.bf16ToFloat(data.get(Floats.I16_LE, base + 2L * i));
    }

    @Override
    protected float dot(int r, float[] x, int xOff, boolean vector) {
        long base = 2L * r * cols;
        int c = 0;
        float s = 0f;
        if (vector) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0;
            for (; c + 2 * L <= cols; c += 2 * L) {
                a0 = load(base + 2L * c).fma(FloatVector.fromArray(F, x, xOff + c), a0);
                a1 = load(base + 2L * (c + L)).fma(FloatVector.fromArray(F, x, xOff + c + L), a1);
            }
            for (; c + L <= cols; c += L) a0 = load(base + 2L * c).fma(FloatVector.fromArray(F, x, xOff + c), a0);
            s = Dot.hsum(a0.add(a1));
        }
        for (; c < cols; c++) s += Floats.bf16ToFloat(data.get(Floats.I16_LE, base + 2L * c)) * x[xOff + c];
        return s;
    }
}
