package org.finlora.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;
import org.finlora.tensor.WeightMatrix;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;


/**
 * ggml Q8_0: blocks of 32 weights along a row, each an f16 scale d then 32 int8 q; w = q·d.
 * Rows are consecutive blocks (cols must be a multiple of 32).
 */
public final class Q8_0Matrix extends Int8ActivationDecode {
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 34;
    private final MemorySegment data;
    private final long rowBytes;

    public Q8_0Matrix(int rows, int cols, MemorySegment data, Simd simd) {
        super(rows, cols, simd);
        if (cols % BLOCK != 0) throw new IllegalArgumentException("q8_0 needs cols divisible by 32, got " + cols);
        this.rowBytes = (long) cols / BLOCK * BLOCK_BYTES;
        if (data.byteSize() != rowBytes * rows) {
            throw new IllegalArgumentException("q8_0 [" + rows + ", " + cols + "] needs " + rowBytes * rows + " bytes, got " + data.byteSize());
        }
        this.data = data;
    }

    /** Quantizes every row of src (ggml's reference rounding), in parallel over rows. */
    public static Q8_0Matrix quantize(WeightMatrix src, Simd simd) {
        MemorySegment seg = GgmlRowQuantizer.quantizeRows(src, "q8_0", BLOCK_BYTES, Q8_0Matrix::quantizeBlock);
        return new Q8_0Matrix(src.rows, src.cols, seg, simd);
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
    protected void decodeReference(int r, int c0, int n, float[] out, int off) {
        long o = r * rowBytes + (long) c0 / BLOCK * BLOCK_BYTES;
        for (int b = 0; b < n; b += BLOCK, o += BLOCK_BYTES) {
            float d = Float.float16ToFloat(data.get(Floats.I16_LE, o));
            for (int j = 0; j < BLOCK; j++) out[off + b + j] = data.get(ValueLayout.JAVA_BYTE, o + 2 + j) * d;
        }
    }

    /** Each byte load widens to one float vector (two at 128 bits, where no byte species is narrower than 8 lanes). */
    @Override
    protected void decode(int r, int c0, int n, float[] out, int off) {
        VectorSpecies<Byte> FB = simd.floatBytes();
        VectorSpecies<Float> F = simd.floats();
        int L = F.length(), parts = simd.floatPartsPerByteLoad();
        long o = r * rowBytes + (long) c0 / BLOCK * BLOCK_BYTES;
        for (int b = 0; b < n; b += BLOCK, o += BLOCK_BYTES) {
            FloatVector dv = FloatVector.broadcast(F, Float.float16ToFloat(data.get(Floats.I16_LE, o)));
            for (int j = 0; j < BLOCK; j += FB.length()) {
                ByteVector bv = ByteVector.fromMemorySegment(FB, data, o + 2 + j, ByteOrder.LITTLE_ENDIAN);
                for (int p = 0; p < parts; p++) {
                    ((FloatVector) bv.convertShape(VectorOperators.B2F, F, p)).mul(dv).intoArray(out, off + b + j + p * L);
                }
            }
        }
    }

    @Override
    void decodeRows(ActivationQ8 a, float[] y, int r0, int r1) {
        // pair row i of the first half with row i of the second: two long sequential streams
        int half = (r1 - r0) / 2, r = r0;
        for (; r < r0 + half; r++) dotPair(r, r + half, a, y);
        for (r += half; r < r1; r++) y[r] = dot(r, a);
    }

    /**
     * y[r] and y[r2] together: the two rows share each block's activation vectors (and their bounds
     * checks and the loop's bookkeeping), one accumulator each. The same operations as {@link #dot}.
     */
    private void dotPair(int r, int r2, ActivationQ8 a, float[] y) {
        VectorSpecies<Short> S = simd.shorts();
        VectorSpecies<Byte> HB = simd.halfBytes();
        VectorSpecies<Integer> I = simd.ints();
        VectorSpecies<Float> F = simd.floats();
        int SL = S.length();
        long o0 = r * rowBytes, o1 = r2 * rowBytes;
        int nb = cols / BLOCK;
        short[] q = a.q;
        float[] sa = a.scale;
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        for (int b = 0; b < nb; b++) {
            long ob = (long) b * BLOCK_BYTES;   // offsets linear in b: C2 can hoist the segment bounds checks
            IntVector i0 = IntVector.zero(I), i1 = i0;
            // the 32 products in shorts, at most two added per lane before they are paired into ints (see blockInts)
            for (int j = 0; j < BLOCK; j += 2 * SL) {
                ShortVector qa = ShortVector.fromArray(S, q, b * BLOCK + j);
                ShortVector p0 = ((ShortVector) ByteVector.fromMemorySegment(HB, data, o0 + ob + 2 + j, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2S, S, 0)).mul(qa);
                ShortVector p1 = ((ShortVector) ByteVector.fromMemorySegment(HB, data, o1 + ob + 2 + j, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2S, S, 0)).mul(qa);
                if (j + SL < BLOCK) {
                    ShortVector qb = ShortVector.fromArray(S, q, b * BLOCK + j + SL);
                    p0 = p0.add(((ShortVector) ByteVector.fromMemorySegment(HB, data, o0 + ob + 2 + j + SL, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2S, S, 0)).mul(qb));
                    p1 = p1.add(((ShortVector) ByteVector.fromMemorySegment(HB, data, o1 + ob + 2 + j + SL, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2S, S, 0)).mul(qb));
                }
                IntVector v0 = p0.reinterpretAsInts(), v1 = p1.reinterpretAsInts();
                i0 = i0.add(v0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(v0.lanewise(VectorOperators.ASHR, 16));
                i1 = i1.add(v1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(v1.lanewise(VectorOperators.ASHR, 16));
            }
            float d = sa[b];
            float s0 = Float.float16ToFloat(data.get(Floats.I16_LE, o0 + ob)) * d, s1 = Float.float16ToFloat(data.get(Floats.I16_LE, o1 + ob)) * d;
            acc0 = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, s0), acc0);
            acc1 = ((FloatVector) i1.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, s1), acc1);
        }
        y[r] = simd.hsum(acc0);
        y[r2] = simd.hsum(acc1);
    }

    /**
     * Row r · the int8 activations, vector path: per block, the 32 products qw · qa in short lanes
     * (|qw · qa| <= 128 · 127 = 16256, qa is never -128) with at most two added per lane (<= 32512 < 2^15),
     * each lane pair then summed into an int lane by sign-extending its halves, the int sums converted once
     * and scaled by d_w · d_a into float lanes, summed across lanes at the end.
     */
    private float dot(int r, ActivationQ8 a) {
        VectorSpecies<Short> S = simd.shorts();
        VectorSpecies<Byte> HB = simd.halfBytes();
        VectorSpecies<Integer> I = simd.ints();
        VectorSpecies<Float> F = simd.floats();
        int SL = S.length();
        long o = r * rowBytes;
        int nb = cols / BLOCK;
        short[] q = a.q;
        float[] sa = a.scale;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < nb; b++, o += BLOCK_BYTES) {
            IntVector iv = IntVector.zero(I);
            for (int j = 0; j < BLOCK; j += 2 * SL) {
                ShortVector p = ((ShortVector) ByteVector.fromMemorySegment(HB, data, o + 2 + j, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2S, S, 0)).mul(ShortVector.fromArray(S, q, b * BLOCK + j));
                if (j + SL < BLOCK) {
                    p = p.add(((ShortVector) ByteVector.fromMemorySegment(HB, data, o + 2 + j + SL, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2S, S, 0)).mul(ShortVector.fromArray(S, q, b * BLOCK + j + SL)));
                }
                IntVector v = p.reinterpretAsInts();
                iv = iv.add(v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(v.lanewise(VectorOperators.ASHR, 16));
            }
            float s = Float.float16ToFloat(data.get(Floats.I16_LE, o)) * sa[b];
            acc = ((FloatVector) iv.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, s), acc);
        }
        return simd.hsum(acc);
    }

    /** Row r · the int8 activations: sum over blocks of (sum_j qw_j · qa_j) · (d_w · d_a), each block's exact int sum (ggml_vec_dot_q8_0_q8_0). */
    @Override
    float dotReference(int r, ActivationQ8 a) {
        long o = r * rowBytes;
        int nb = cols / BLOCK;
        short[] q = a.q;
        float[] sa = a.scale;
        float s = 0f;
        for (int b = 0; b < nb; b++, o += BLOCK_BYTES) {
            int sumi = 0;
            for (int j = 0; j < BLOCK; j++) sumi += data.get(ValueLayout.JAVA_BYTE, o + 2 + j) * q[b * BLOCK + j];
            s += sumi * (Float.float16ToFloat(data.get(Floats.I16_LE, o)) * sa[b]);
        }
        return s;
    }

    /** ggml q8_0: as stored when Q8_0 (GGUF), else quantized with ggml's reference rounding. */
    public static final WeightFormat FORMAT = new DTypeFormat("q8_0", DType.Q8_0) {
        @Override
        public RowMatrix quantize(Tensor t, Simd simd) {
            RowMatrix m = Matrices.of(t, simd);
            return m instanceof Q8_0Matrix ? m : Q8_0Matrix.quantize(m, simd);
        }

        @Override
        MemorySegment bytes(RowMatrix m) {
            return ((Q8_0Matrix) m).data;
        }
    };
}
