package org.finlora.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/** Row-major bf16 weights: each value widens to f32 by a 16-bit left shift of its bits. */
public final class BF16Matrix extends RowMatrix {
    private final MemorySegment data;

    public BF16Matrix(int rows, int cols, MemorySegment data, Simd simd) {
        super(rows, cols, simd);
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

    @Override
    protected void decodeReference(int r, int c0, int n, float[] out, int off) {
        long base = 2L * ((long) r * cols + c0);
        for (int i = 0; i < n; i++) out[off + i] = Floats.bf16ToFloat(data.get(Floats.I16_LE, base + 2L * i));
    }

    @Override
    protected void decode(int r, int c0, int n, float[] out, int off) {
        VectorSpecies<Short> HS = simd.halfShorts();
        VectorSpecies<Integer> I = simd.ints();
        int L = I.length();
        long base = 2L * ((long) r * cols + c0);
        int i = 0;
        for (; i + L <= n; i += L) {
            ShortVector s = ShortVector.fromMemorySegment(HS, data, base + 2L * i, ByteOrder.LITTLE_ENDIAN);
            ((IntVector) s.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(out, off + i);
        }
        for (; i < n; i++) out[off + i] = Floats.bf16ToFloat(data.get(Floats.I16_LE, base + 2L * i));
    }

    @Override
    protected float rowDotReference(int r, float[] x) {
        long base = 2L * r * cols;
        float s = 0f;
        for (int c = 0; c < cols; c++) s += Floats.bf16ToFloat(data.get(Floats.I16_LE, base + 2L * c)) * x[c];
        return s;
    }

    @Override
    protected float rowDot(int r, float[] x) {
        VectorSpecies<Short> HS = simd.halfShorts();
        VectorSpecies<Integer> I = simd.ints();
        VectorSpecies<Float> F = simd.floats();
        int L = F.length();
        long base = 2L * r * cols;
        int c = 0;
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (; c + 2 * L <= cols; c += 2 * L) {
            ShortVector s0 = ShortVector.fromMemorySegment(HS, data, base + 2L * c, ByteOrder.LITTLE_ENDIAN);
            ShortVector s1 = ShortVector.fromMemorySegment(HS, data, base + 2L * (c + L), ByteOrder.LITTLE_ENDIAN);
            FloatVector w0 = ((IntVector) s0.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w1 = ((IntVector) s1.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            a0 = w0.fma(FloatVector.fromArray(F, x, c), a0);
            a1 = w1.fma(FloatVector.fromArray(F, x, c + L), a1);
        }
        for (; c + L <= cols; c += L) {
            ShortVector s0 = ShortVector.fromMemorySegment(HS, data, base + 2L * c, ByteOrder.LITTLE_ENDIAN);
            a0 = ((IntVector) s0.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, x, c), a0);
        }
        float s = simd.hsum(a0.add(a1));
        for (; c < cols; c++) s += Floats.bf16ToFloat(data.get(Floats.I16_LE, base + 2L * c)) * x[c];
        return s;
    }

    /** bf16: as stored when bf16, else every value rounded to bf16 (nearest even), the compute dtype QLoRA keeps unquantized weights in. */
    public static final WeightFormat FORMAT = new DTypeFormat("bf16", DType.BF16) {
        @Override
        public RowMatrix quantize(Tensor t, Simd simd) {
            return t.dtype() == DType.BF16 ? Matrices.of(t, simd) : new BF16Matrix(t.rows(), t.cols(), halves(t, Floats::floatToBf16), simd);
        }

        @Override
        MemorySegment bytes(RowMatrix m) {
            return ((BF16Matrix) m).data;
        }
    };
}
