package org.finlora.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/** Row-major IEEE half weights. */
public final class F16Matrix extends RowMatrix {
    private final MemorySegment data;

    public F16Matrix(int rows, int cols, MemorySegment data, Simd simd) {
        super(rows, cols, simd);
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

    @Override
    protected void decodeReference(int r, int c0, int n, float[] out, int off) {
        long base = 2L * ((long) r * cols + c0);
        for (int i = 0; i < n; i++) out[off + i] = Float.float16ToFloat(data.get(Floats.I16_LE, base + 2L * i));
    }

    /**
     * A float vector's worth of halves at byte offset o, widened exactly: exponent+mantissa bits moved to
     * f32 position and scaled by 2^112 (rebiases normals, normalizes subnormals); inf/NaN get the all-ones
     * exponent. Written out where it is used (a helper taking and returning vectors, compiled on its own,
     * boxes them).
     */
    @Override
    protected void decode(int r, int c0, int n, float[] out, int off) {
        VectorSpecies<Short> HS = simd.halfShorts();
        VectorSpecies<Integer> I = simd.ints();
        int L = I.length();
        long base = 2L * ((long) r * cols + c0);
        int i = 0;
        for (; i + L <= n; i += L) {
            IntVector h = ((IntVector) ShortVector.fromMemorySegment(HS, data, base + 2L * i, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).and(0xFFFF);
            IntVector em = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
            IntVector mag = em.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
            VectorMask<Integer> special = h.and(0x7C00).compare(VectorOperators.EQ, 0x7C00);
            mag.blend(em.or(0x7F800000), special).or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().intoArray(out, off + i);
        }
        for (; i < n; i++) out[off + i] = Float.float16ToFloat(data.get(Floats.I16_LE, base + 2L * i));
    }

    @Override
    protected float rowDotReference(int r, float[] x) {
        long base = 2L * r * cols;
        float s = 0f;
        for (int c = 0; c < cols; c++) s += Float.float16ToFloat(data.get(Floats.I16_LE, base + 2L * c)) * x[c];
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
        FloatVector a0 = FloatVector.zero(F);
        for (; c + L <= cols; c += L) {
            IntVector h = ((IntVector) ShortVector.fromMemorySegment(HS, data, base + 2L * c, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).and(0xFFFF);
            IntVector em = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
            IntVector mag = em.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
            VectorMask<Integer> special = h.and(0x7C00).compare(VectorOperators.EQ, 0x7C00);
            FloatVector w = mag.blend(em.or(0x7F800000), special).or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
            a0 = w.fma(FloatVector.fromArray(F, x, c), a0);
        }
        float s = simd.hsum(a0);
        for (; c < cols; c++) s += Float.float16ToFloat(data.get(Floats.I16_LE, base + 2L * c)) * x[c];
        return s;
    }

    /** f16: as stored when f16, else every value rounded to IEEE half (nearest even). */
    public static final WeightFormat FORMAT = new DTypeFormat("f16", DType.F16) {
        @Override
        public RowMatrix quantize(Tensor t, Simd simd) {
            return t.dtype() == DType.F16 ? Matrices.of(t, simd) : new F16Matrix(t.rows(), t.cols(), halves(t, Float::floatToFloat16), simd);
        }

        @Override
        MemorySegment bytes(RowMatrix m) {
            return ((F16Matrix) m).data;
        }
    };
}
