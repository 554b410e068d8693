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
import static org.finlora.kernel.Vectors.I8;
import static org.finlora.kernel.Vectors.S16;

/**
 * ggml Q4_0: blocks of 32 weights, each an f16 scale d then 16 bytes; byte j holds element j in its
 * low nibble and element j + 16 in its high nibble; w = (q - 8)·d. cols must be a multiple of 32.
 */
public final class Q4_0Matrix extends Int8ActivationDecode {
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 18;
    private final MemorySegment data;
    private final long rowBytes;

    public Q4_0Matrix(int rows, int cols, MemorySegment data) {
        super(rows, cols);
        if (cols % BLOCK != 0) throw new IllegalArgumentException("q4_0 needs cols divisible by 32, got " + cols);
        this.rowBytes = (long) cols / BLOCK * BLOCK_BYTES;
        if (data.byteSize() != rowBytes * rows) {
            throw new IllegalArgumentException("q4_0 [" + rows + ", " + cols + "] needs " + rowBytes * rows + " bytes, got " + data.byteSize());
        }
        this.data = data;
    }

    /** Quantizes every row of src (ggml's reference rounding), in parallel over rows. */
    public static Q4_0Matrix quantize(WeightMatrix src) {
        MemorySegment seg = GgmlRowQuantizer.quantizeRows(src, "q4_0", BLOCK_BYTES, Q4_0Matrix::quantizeBlock);
        return new Q4_0Matrix(src.rows, src.cols, seg);
    }

    /**
     * ggml quantize_row_q4_0_ref on x[xOff, xOff + 32): max = the signed value of largest |x| (first
     * one on ties), d = max / -8 (stored as f16), q = min(15, (int) (x · (1/d) + 8.5)) with the unrounded d.
     */
    public static void quantizeBlock(float[] x, int xOff, MemorySegment out, long off) {
        float amax = 0f, max = 0f;
        for (int j = 0; j < BLOCK; j++) {
            float v = x[xOff + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8f;
        float id = d != 0f ? 1f / d : 0f;
        out.set(Floats.I16_LE, off, Float.floatToFloat16(d));
        for (int j = 0; j < BLOCK / 2; j++) {
            int q0 = Math.min(15, (int) (x[xOff + j] * id + 8.5f));
            int q1 = Math.min(15, (int) (x[xOff + j + 16] * id + 8.5f));
            out.set(ValueLayout.JAVA_BYTE, off + 2 + j, (byte) (q0 | (q1 << 4)));
        }
    }

    public MemorySegment data() {
        return data;
    }

    @Override
    public String format() {
        return "q4_0";
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
            int ob = off + b;
            if (vector) {   // zero-extended nibbles in int lanes (bit-identical to the scalar (q - 8)·d)
                FloatVector dv = FloatVector.broadcast(F, d);
                IntVector p0 = (IntVector) ByteVector.fromMemorySegment(B8, data, o + 2, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
                IntVector p1 = (IntVector) ByteVector.fromMemorySegment(B8, data, o + 10, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
                ((FloatVector) p0.and(0x0F).sub(8).convert(VectorOperators.I2F, 0)).mul(dv).intoArray(out, ob);
                ((FloatVector) p1.and(0x0F).sub(8).convert(VectorOperators.I2F, 0)).mul(dv).intoArray(out, ob + 8);
                ((FloatVector) p0.lanewise(VectorOperators.LSHR, 4).sub(8).convert(VectorOperators.I2F, 0)).mul(dv).intoArray(out, ob + 16);
                ((FloatVector) p1.lanewise(VectorOperators.LSHR, 4).sub(8).convert(VectorOperators.I2F, 0)).mul(dv).intoArray(out, ob + 24);
            } else {
                for (int j = 0; j < BLOCK / 2; j++) {
                    int p = data.get(ValueLayout.JAVA_BYTE, o + 2 + j) & 0xFF;
                    out[ob + j] = ((p & 0x0F) - 8) * d;
                    out[ob + j + 16] = ((p >>> 4) - 8) * d;
                }
            }
        }
    }

    /**
     * y[r] and y[r2] together: the two rows share each block's activation vectors (and their bounds
     * checks and the loop's bookkeeping), one accumulator each. (Four rows exceed C2's inlining node
     * budget and fall back to boxed vectors.)
     */
    @Override
    void dotPair(int r, int r2, ActivationQ8 a, float[] y) {
        long o0 = r * rowBytes, o1 = r2 * rowBytes;
        int nb = cols / BLOCK;
        short[] q = a.q, off8 = a.q4Offset;
        float[] sa = a.scale;
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        for (int b = 0; b < nb; b++) {
            long ob = (long) b * BLOCK_BYTES;   // offsets linear in b: C2 can hoist the segment bounds checks
            ShortVector qlo = ShortVector.fromArray(S16, q, b * BLOCK);
            ShortVector qhi = ShortVector.fromArray(S16, q, b * BLOCK + 16);
            ShortVector off = ShortVector.fromArray(S16, off8, b * 16);
            float d = sa[b];
            acc0 = blockTimes(o0 + ob, qlo, qhi, off, d, acc0);
            acc1 = blockTimes(o1 + ob, qlo, qhi, off, d, acc1);
        }
        y[r] = Dot.hsum(acc0);
        y[r2] = Dot.hsum(acc1);
    }

    /** acc + (block at o · activations) · d_w · da, the block's int sums converted once. */
    private FloatVector blockTimes(long o, ShortVector qlo, ShortVector qhi, ShortVector off, float da, FloatVector acc) {
        float s = Float.float16ToFloat(data.get(Floats.I16_LE, o)) * da;
        return ((FloatVector) blockInts(o, qlo, qhi, off).convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, s), acc);
    }

    /**
     * Row r · the int8 activations: sum over blocks of (sum_j (q_j - 8) · qa_j) · d_w · d_a. The scalar
     * reference takes each block's exact int sum; the vector path keeps the int sums in lanes.
     */
    @Override
    float dot(int r, ActivationQ8 a, boolean vector) {
        long o = r * rowBytes;
        int nb = cols / BLOCK;
        short[] q = a.q, off8 = a.q4Offset;
        float[] sa = a.scale;
        if (!vector) {
            float s = 0f;
            for (int b = 0; b < nb; b++, o += BLOCK_BYTES) {
                int sumi = 0;
                for (int j = 0; j < BLOCK / 2; j++) {
                    int p = data.get(ValueLayout.JAVA_BYTE, o + 2 + j) & 0xFF;
                    sumi += ((p & 0x0F) - 8) * q[b * BLOCK + j] + ((p >>> 4) - 8) * q[b * BLOCK + j + 16];
                }
                s += sumi * (Float.float16ToFloat(data.get(Floats.I16_LE, o)) * sa[b]);
            }
            return s;
        }
        // One accumulator in block order, the same operations as dotPair (results do not depend on pairing).
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < nb; b++, o += BLOCK_BYTES) {
            acc = blockTimes(o, ShortVector.fromArray(S16, q, b * BLOCK), ShortVector.fromArray(S16, q, b * BLOCK + 16),
                    ShortVector.fromArray(S16, off8, b * 16), sa[b], acc);
        }
        return Dot.hsum(acc);
    }

    /**
     * Block b (bytes at o) times the int8 activations, summed into 8 int lanes. Short lane j holds
     * lo_j · qa_j + hi_j · qa_(j+16) - 8 · (qa_j + qa_(j+16)) = (lo_j - 8) · qa_j + (hi_j - 8) · qa_(j+16),
     * |.| <= 2 · 8 · 127 = 2032 (short arithmetic wraps, the final value is exact). Lane pairs are summed
     * into ints as (v + (v << 16)) >> 16 (arithmetic): exact while the pair sum fits 16 bits (<= 4064).
     */
    private IntVector blockInts(long o, ShortVector qlo, ShortVector qhi, ShortVector off) {
        ShortVector p = (ShortVector) ByteVector.fromMemorySegment(B16, data, o + 2, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0);
        ShortVector lo = p.and((short) 0x0F), hi = p.lanewise(VectorOperators.LSHR, 4);
        IntVector v = lo.mul(qlo).add(hi.mul(qhi)).sub(off).reinterpretAsInts();
        return v.add(v.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
    }
}
