package org.finlora.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;
import org.finlora.tensor.WeightMatrix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/** Row-major little-endian f32 weights, read straight from their (usually memory-mapped) segment. */
public final class F32Matrix extends RowMatrix {
    private final MemorySegment data;

    public F32Matrix(int rows, int cols, MemorySegment data, Simd simd) {
        super(rows, cols, simd);
        if (data.byteSize() != 4L * rows * cols) {
            throw new IllegalArgumentException("f32 [" + rows + ", " + cols + "] needs " + 4L * rows * cols + " bytes, got " + data.byteSize());
        }
        this.data = data;
    }

    /** A f32 copy of any weight matrix (off-heap, freed with the returned object). */
    public static F32Matrix copyOf(WeightMatrix src, Simd simd) {
        MemorySegment seg = Arena.ofAuto().allocate(4L * src.rows * src.cols, 64);
        Parallel.forRange(src.rows, 16, (r0, r1) -> {
            float[] row = new float[src.cols];
            for (int r = r0; r < r1; r++) {
                src.dequantizeRow(r, row, 0);
                MemorySegment.copy(row, 0, seg, Floats.F32_LE, 4L * r * src.cols, src.cols);
            }
        });
        return new F32Matrix(src.rows, src.cols, seg, simd);
    }

    public MemorySegment data() {
        return data;
    }

    @Override
    public String format() {
        return "f32";
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
        MemorySegment.copy(data, Floats.F32_LE, 4L * ((long) r * cols + c0), out, off, n);
    }

    @Override
    protected float rowDotReference(int r, float[] x) {
        long base = 4L * r * cols;
        float s = 0f;
        for (int c = 0; c < cols; c++) s += data.get(Floats.F32_LE, base + 4L * c) * x[c];
        return s;
    }

    /** Four accumulators: a decode row streams from memory, and one chain would wait on each FMA's latency. */
    @Override
    protected float rowDot(int r, float[] x) {
        VectorSpecies<Float> F = simd.floats();
        int L = F.length();
        long base = 4L * r * cols;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int c = 0;
        for (; c + 4 * L <= cols; c += 4 * L) {
            long o = base + 4L * c;
            a0 = FloatVector.fromMemorySegment(F, data, o, ByteOrder.LITTLE_ENDIAN).fma(FloatVector.fromArray(F, x, c), a0);
            a1 = FloatVector.fromMemorySegment(F, data, o + 4 * L, ByteOrder.LITTLE_ENDIAN).fma(FloatVector.fromArray(F, x, c + L), a1);
            a2 = FloatVector.fromMemorySegment(F, data, o + 8 * L, ByteOrder.LITTLE_ENDIAN).fma(FloatVector.fromArray(F, x, c + 2 * L), a2);
            a3 = FloatVector.fromMemorySegment(F, data, o + 12 * L, ByteOrder.LITTLE_ENDIAN).fma(FloatVector.fromArray(F, x, c + 3 * L), a3);
        }
        for (; c + L <= cols; c += L) {
            a0 = FloatVector.fromMemorySegment(F, data, base + 4L * c, ByteOrder.LITTLE_ENDIAN).fma(FloatVector.fromArray(F, x, c), a0);
        }
        float s = simd.hsum(a0.add(a1).add(a2.add(a3)));
        for (; c < cols; c++) s += data.get(Floats.F32_LE, base + 4L * c) * x[c];
        return s;
    }

    /** f32: as stored when f32, else dequantized to f32 on load. */
    public static final WeightFormat FORMAT = new DTypeFormat("f32", DType.F32) {
        @Override
        public RowMatrix quantize(Tensor t, Simd simd) {
            RowMatrix m = Matrices.of(t, simd);
            return m instanceof F32Matrix ? m : copyOf(m, simd);
        }

        @Override
        MemorySegment bytes(RowMatrix m) {
            return ((F32Matrix) m).data;
        }
    };
}
