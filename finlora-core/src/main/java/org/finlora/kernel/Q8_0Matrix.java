package org.finlora.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.finlora.tensor.Floats;
import org.finlora.tensor.WeightMatrix;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static org.finlora.kernel.Vectors.B8;
import static org.finlora.kernel.Vectors.F;

/**
 * ggml Q8_0: blocks of 32 weights along a row, each an f16 scale d then 32 int8 q; w = q·d.
 * Rows are consecutive blocks (cols must be a multiple of 32).
 */
public final class Q8_0Matrix extends RowMatrix {
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 34;
    private final MemorySegment data;
    private final long rowBytes;

    public Q8_0Matrix(int rows, int cols, MemorySegment data) {
        super(rows, cols);
        if (cols % BLOCK != 0) throw new IllegalArgumentException("q8_0 needs cols divisible by 32, got " + cols);
        this.rowBytes = (long) cols / BLOCK * BLOCK_BYTES;
        if (data.byteSize() != rowBytes * rows) {
            throw new IllegalArgumentException("q8_0 [" + rows + ", " + cols + "] needs " + rowBytes * rows + " bytes, got " + data.byteSize());
        }
        this.data = data;
    }

    /** Quantizes every row of src (ggml's reference rounding), in parallel over rows. */
    public static Q8_0Matrix quantize(WeightMatrix src) {
        MemorySegment seg = GgmlRowQuantizer.quantizeRows(src, "q8_0", BLOCK_BYTES, Q8_0Matrix::quantizeBlock);
        return new Q8_0Matrix(src.rows, src.cols, seg);
    }

    /** ggml quantize_row_q8_0_ref on x[xOff, xOff + 32): d = absmax/127 stored as f16, q = roundf(x / d) using 1/d unrounded. */
    public static void quantizeBlock(float[] x, int xOff, MemorySegment out, long off) {
        float amax = 0f;
        for (int j = 0; j < BLOCK; j++) amax = Math.max(amax, Math.abs(x[xOff + j]));
        float d = amax / 127f;
        float id = d != 0f ? 1f / d : 0f;
        out.set(Floats.I16_LE, off, Float.floatToFloat16(d));
        for (int j = 0; j < BLOCK; j++) out.set(ValueLayout.JAVA_BYTE, off + 2 + j, (byte) roundHalfAway(x[xOff + j] * id));
    }

    /** C roundf: nearest integer, halves away from zero (exact: float to double is exact). */
    static int roundHalfAway(float v) {
        double a = Math.abs((double) v);
        double f = Math.floor(a);
        if (a - f >= 0.5) f += 1;
        return (int) (v < 0 ? -f : f);
    }

    public MemorySegment data() {
        return data;
    }

    @Override
    public String format() {
        return "q8_0";
    }

    @Override
    public long byteSize() {
        return data.byteSize();
    }

    @Override
    protected int blockAlign() {
        return BLOCK;
    }

    @Override
    protected void dequantize(int r, int c0, int n, float[] out, int off, boolean vector) {
        long o = r * rowBytes + (long) c0 / BLOCK * BLOCK_BYTES;
        for (int b = 0; b < n; b += BLOCK, o += BLOCK_BYTES) {
            float d = Float.float16ToFloat(data.get(Floats.I16_LE, o));
            if (vector) {
                FloatVector dv = FloatVector.broadcast(F, d);
                for (int j = 0; j < BLOCK; j += 8) {
                    ((FloatVector) ByteVector.fromMemorySegment(B8, data, o + 2 + j, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2F, F, 0)).mul(dv).intoArray(out, off + b + j);
                }
            } else {
                for (int j = 0; j < BLOCK; j++) out[off + b + j] = data.get(ValueLayout.JAVA_BYTE, o + 2 + j) * d;
            }
        }
    }

    @Override
    protected float dot(int r, float[] x, int xOff, boolean vector) {
        long o = r * rowBytes;
        int nb = cols / BLOCK;
        if (!vector) {
            float s = 0f;
            for (int b = 0; b < nb; b++, o += BLOCK_BYTES) {
                float d = Float.float16ToFloat(data.get(Floats.I16_LE, o));
                float bs = 0f;
                for (int j = 0; j < BLOCK; j++) bs += data.get(ValueLayout.JAVA_BYTE, o + 2 + j) * x[xOff + b * BLOCK + j];
                s += bs * d;
            }
            return s;
        }
        // Two blocks per iteration into two accumulators (independent FMA chains).
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        int b = 0;
        for (; b + 2 <= nb; b += 2, o += 2 * BLOCK_BYTES) {
            int xo = xOff + b * BLOCK;
            acc0 = blockDot(o, x, xo).fma(FloatVector.broadcast(F, Float.float16ToFloat(data.get(Floats.I16_LE, o))), acc0);
            acc1 = blockDot(o + BLOCK_BYTES, x, xo + BLOCK)
                    .fma(FloatVector.broadcast(F, Float.float16ToFloat(data.get(Floats.I16_LE, o + BLOCK_BYTES))), acc1);
        }
        if (b < nb) {
            acc0 = blockDot(o, x, xOff + b * BLOCK).fma(FloatVector.broadcast(F, Float.float16ToFloat(data.get(Floats.I16_LE, o))), acc0);
        }
        return Dot.hsum(acc0.add(acc1));
    }

    /** Lane-wise partial sums of q · x over the block at byte offset o (scale not applied). */
    private FloatVector blockDot(long o, float[] x, int xo) {
        FloatVector q0 = (FloatVector) ByteVector.fromMemorySegment(B8, data, o + 2, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2F, F, 0);
        FloatVector q1 = (FloatVector) ByteVector.fromMemorySegment(B8, data, o + 10, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2F, F, 0);
        FloatVector q2 = (FloatVector) ByteVector.fromMemorySegment(B8, data, o + 18, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2F, F, 0);
        FloatVector q3 = (FloatVector) ByteVector.fromMemorySegment(B8, data, o + 26, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2F, F, 0);
        FloatVector s01 = q1.fma(FloatVector.fromArray(F, x, xo + 8), q0.mul(FloatVector.fromArray(F, x, xo)));
        FloatVector s23 = q3.fma(FloatVector.fromArray(F, x, xo + 24), q2.mul(FloatVector.fromArray(F, x, xo + 16)));
        return s01.add(s23);
    }
}
