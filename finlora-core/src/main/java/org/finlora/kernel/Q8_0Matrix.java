package org.finlora.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import org.finlora.tensor.Floats;
import org.finlora.tensor.WeightMatrix;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static org.finlora.kernel.Vectors.B16;
import static org.finlora.kernel.Vectors.B8;
import static org.finlora.kernel.Vectors.F;
import static org.finlora.kernel.Vectors.S16;

/**
 * ggml Q8_0: blocks of 32 weights along a row, each an f16 scale d then 32 int8 q; w = q·d.
 * Rows are consecutive blocks (cols must be a multiple of 32).
 */
public final class Q8_0Matrix extends Int8ActivationDecode {
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
        for (int j = 0; j < BLOCK; j++) out.set(ValueLayout.JAVA_BYTE, off + 2 + j, (byte) ActivationQ8.roundHalfAway(x[xOff + j] * id));
    }

    public MemorySegment data() {
        return data;
    }

    @Override
    public String format() {
        return "q8_0";
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
    void decodeRows(ActivationQ8 a, float[] y, int r0, int r1, boolean vector) {
        int r = r0;
        if (vector) {   // pair row i of the first half with row i of the second: two long sequential streams
            int half = (r1 - r0) / 2;
            for (; r < r0 + half; r++) dotPair(r, r + half, a, y);
            r += half;
        }
        for (; r < r1; r++) y[r] = dot(r, a, vector);
    }

    /**
     * y[r] and y[r2] together: the two rows share each block's activation vectors (and their bounds
     * checks and the loop's bookkeeping), one accumulator each.
     */
    private void dotPair(int r, int r2, ActivationQ8 a, float[] y) {
        long o0 = r * rowBytes, o1 = r2 * rowBytes;
        int nb = cols / BLOCK;
        short[] q = a.q;
        float[] sa = a.scale;
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        for (int b = 0; b < nb; b++) {
            long ob = (long) b * BLOCK_BYTES;   // offsets linear in b: C2 can hoist the segment bounds checks
            ShortVector qlo = ShortVector.fromArray(S16, q, b * BLOCK);
            ShortVector qhi = ShortVector.fromArray(S16, q, b * BLOCK + 16);
            float d = sa[b];
            acc0 = blockTimes(o0 + ob, qlo, qhi, d, acc0);
            acc1 = blockTimes(o1 + ob, qlo, qhi, d, acc1);
        }
        y[r] = Dot.hsum(acc0);
        y[r2] = Dot.hsum(acc1);
    }

    /** acc + (block at o · activations) · d_w · da, the block's int sums converted once. */
    private FloatVector blockTimes(long o, ShortVector qlo, ShortVector qhi, float da, FloatVector acc) {
        float s = Float.float16ToFloat(data.get(Floats.I16_LE, o)) * da;
        return ((FloatVector) blockInts(o, qlo, qhi).convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, s), acc);
    }

    /**
     * Row r · the int8 activations: sum over blocks of (sum_j qw_j · qa_j) · d_w · d_a. The scalar reference
     * takes each block's exact int sum (ggml_vec_dot_q8_0_q8_0); the vector path keeps the int sums in lanes.
     */
    @Override
    float dot(int r, ActivationQ8 a, boolean vector) {
        long o = r * rowBytes;
        int nb = cols / BLOCK;
        short[] q = a.q;
        float[] sa = a.scale;
        if (!vector) {
            float s = 0f;
            for (int b = 0; b < nb; b++, o += BLOCK_BYTES) {
                int sumi = 0;
                for (int j = 0; j < BLOCK; j++) sumi += data.get(ValueLayout.JAVA_BYTE, o + 2 + j) * q[b * BLOCK + j];
                s += sumi * (Float.float16ToFloat(data.get(Floats.I16_LE, o)) * sa[b]);
            }
            return s;
        }
        // One accumulator in block order, the same operations as dotPair (results do not depend on pairing).
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < nb; b++, o += BLOCK_BYTES) {
            acc = blockTimes(o, ShortVector.fromArray(S16, q, b * BLOCK), ShortVector.fromArray(S16, q, b * BLOCK + 16), sa[b], acc);
        }
        return Dot.hsum(acc);
    }

    /**
     * The 32 products qw · qa of the block at byte offset o, summed into 8 int lanes. Shorts hold one
     * product (|qw · qa| <= 128 · 127 = 16256, qa is never -128) and the sum of the two halves
     * (<= 32512 < 2^15); the 16 short lanes are then paired into ints by sign-extending each half.
     */
    private IntVector blockInts(long o, ShortVector qlo, ShortVector qhi) {
        ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(B16, data, o + 2, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2S, S16, 0);
        ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(B16, data, o + 18, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2S, S16, 0);
        IntVector v = w0.mul(qlo).add(w1.mul(qhi)).reinterpretAsInts();
        return v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16));
    }
}
