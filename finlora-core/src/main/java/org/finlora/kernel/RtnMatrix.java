package org.finlora.kernel;

import org.finlora.FinloraException;
import org.finlora.quant.Rtn;
import org.finlora.quant.TensorFloats;
import org.finlora.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Round-to-nearest k-bit weight, k = 2..8 (see {@link Rtn}): per row, the k-bit codes packed
 * LSB-first into a bit stream (code of column c at bits [c*k, c*k + k)), and per group of
 * {@code groupSize} columns an f32 scale and an integer zero point. The decode reads one 64-bit
 * little-endian word per code (each row is padded by 8 bytes so the last read stays inside).
 */
public final class RtnMatrix extends RowMatrix {
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public final int bits;
    public final int groupSize;
    private final int groupsPerRow;
    private final long rowBytes;
    private final MemorySegment q;
    private final float[] scale;
    private final float[] zero;
    private final long mask;

    private RtnMatrix(int rows, int cols, int bits, int groupSize, MemorySegment q, float[] scale, float[] zero, Simd simd) {
        super(rows, cols, simd);
        this.bits = bits;
        this.groupSize = groupSize;
        this.groupsPerRow = (cols + groupSize - 1) / groupSize;
        this.rowBytes = rowBytes(cols, bits);
        this.q = q;
        this.scale = scale;
        this.zero = zero;
        this.mask = (1L << bits) - 1;
    }

    static long rowBytes(int cols, int bits) {
        return ((long) cols * bits + 7) / 8 + 8;
    }

    public static RtnMatrix quantize(Tensor t, int bits, int groupSize, Simd simd) {
        TensorFloats.checkFloat2d(t);
        Rtn.checkBits(bits, t.name());
        if (groupSize < 1) throw new FinloraException(t.name() + ": rtn group size " + groupSize + " must be positive");
        int rows = t.rows(), cols = t.cols();
        int gpr = (cols + groupSize - 1) / groupSize;
        long rb = rowBytes(cols, bits);
        MemorySegment seg = Arena.ofAuto().allocate(rows * rb, 64);
        float[] scale = new float[rows * gpr], zero = new float[rows * gpr];
        float[] buf = new float[cols];
        byte[] codes = new byte[cols];
        for (int r = 0; r < rows; r++) {
            TensorFloats.read(t, (long) r * cols, buf, cols);
            for (int g = 0; g < gpr; g++) {
                int c0 = g * groupSize;
                float[] sz = Rtn.quantizeGroup(buf, c0, Math.min(groupSize, cols - c0), bits, codes, c0);
                scale[r * gpr + g] = sz[0];
                zero[r * gpr + g] = sz[1];
            }
            for (int c = 0; c < cols; c++) {
                long bit = (long) c * bits;
                long o = r * rb + (bit >>> 3);
                int sh = (int) (bit & 7);
                int v = (codes[c] & 0xFF) << sh;   // at most 8 + 7 bits: spans two bytes
                seg.set(ValueLayout.JAVA_BYTE, o, (byte) (seg.get(ValueLayout.JAVA_BYTE, o) | v));
                seg.set(ValueLayout.JAVA_BYTE, o + 1, (byte) (seg.get(ValueLayout.JAVA_BYTE, o + 1) | (v >>> 8)));
            }
        }
        return new RtnMatrix(rows, cols, bits, groupSize, seg, scale, zero, simd);
    }

    @Override
    public String format() {
        return "rtn" + bits;
    }

    @Override
    public MemorySegment storage() {
        return q;
    }

    @Override
    public long byteSize() {
        return rows * rowBytes + 8L * scale.length;
    }

    public int code(int r, int c) {
        long bit = (long) c * bits;
        return (int) ((q.get(LONG_LE, r * rowBytes + (bit >>> 3)) >>> (bit & 7)) & mask);
    }

    public float groupScale(int r, int g) {
        return scale[r * groupsPerRow + g];
    }

    public float groupZero(int r, int g) {
        return zero[r * groupsPerRow + g];
    }

    @Override
    protected void decodeReference(int r, int c0, int len, float[] dst, int off) {
        long rowBase = r * rowBytes;
        int gBase = r * groupsPerRow;
        for (int k = 0; k < len; k++) {
            int c = c0 + k;
            long bit = (long) c * bits;
            int code = (int) ((q.get(LONG_LE, rowBase + (bit >>> 3)) >>> (bit & 7)) & mask);
            int g = gBase + c / groupSize;
            dst[off + k] = scale[g] * ((float) code - zero[g]);
        }
    }

    /**
     * Same values, faster: one group at a time (scale and zero loaded once) and one 64-bit word per
     * run of codes that fit in it, instead of one word and one division per code. Scalar at every width:
     * the codes of one word have no fixed lane positions for k that do not divide 32.
     */
    @Override
    protected void decode(int r, int c0, int len, float[] dst, int off) {
        long rowBase = r * rowBytes;
        int gBase = r * groupsPerRow;
        int perWord = 56 / bits;   // codes readable from one word starting at any bit offset 0..7
        int c = c0, end = c0 + len;
        while (c < end) {
            int g = c / groupSize;
            int gEnd = Math.min(end, (g + 1) * groupSize);
            float s = scale[gBase + g], z = zero[gBase + g];
            while (c < gEnd) {
                long bit = (long) c * bits;
                long word = q.get(LONG_LE, rowBase + (bit >>> 3)) >>> (bit & 7);
                int n = Math.min(perWord, gEnd - c);
                for (int i = 0; i < n; i++) {
                    dst[off + c - c0 + i] = s * ((float) (word & mask) - z);
                    word >>>= bits;
                }
                c += n;
            }
        }
    }

    /** rtnK with groups of 128 columns. */
    public static WeightFormat format(int bits) {
        return new Format(bits, Rtn.DEFAULT_GROUP_SIZE);
    }

    /** The traits of rtn2 .. rtn8: option group-size. */
    public record Format(int bits, int groupSize) implements WeightFormat {
        @Override
        public String name() {
            return "rtn" + bits;
        }

        @Override
        public String spec() {
            return name() + ":group-size=" + groupSize;
        }

        @Override
        public String options() {
            return "group-size=N (128)";
        }

        @Override
        public WeightFormat with(String key, String value) {
            if (!key.equals("group-size")) return WeightFormat.super.with(key, value);
            int g = WeightFormats.intOption(name(), key, value);
            if (g < 1) throw new FinloraException("--quant " + name() + ": group-size must be positive, got " + g);
            return new Format(bits, g);
        }

        @Override
        public RowMatrix quantize(Tensor t, Simd simd) {
            return RtnMatrix.quantize(WeightFormats.floatTensor(t), bits, groupSize, simd);
        }
    }
}
