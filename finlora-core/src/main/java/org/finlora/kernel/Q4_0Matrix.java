package org.finlora.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import org.finlora.tensor.Floats;
import org.finlora.tensor.WeightMatrix;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static org.finlora.kernel.Vectors.B8;
import static org.finlora.kernel.Vectors.F;
import static org.finlora.kernel.Vectors.I8;

/**
 * ggml Q4_0: blocks of 32 weights, each an f16 scale d then 16 bytes; byte j holds element j in its
 * low nibble and element j + 16 in its high nibble; w = (q - 8)·d. cols must be a multiple of 32.
 */
public final class Q4_0Matrix extends RowMatrix {
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
     * Decode (T = 1) rows [r0, r1): the x sums of each 32-column block are taken once per call, so the
     * dot can use the nibbles q in 0..15 directly: sum (q - 8)·d·x = d·(sum q·x) - 8·d·(sum x).
     */
    @Override
    public void matmulRows(float[] x, float[] y, int T, int r0, int r1, boolean vector) {
        if (T != 1 || !vector) {
            super.matmulRows(x, y, T, r0, r1, vector);
            return;
        }
        int nb = cols / BLOCK;
        float[] xs = scratch(nb);
        for (int b = 0; b < nb; b++) {
            FloatVector v = FloatVector.fromArray(F, x, b * BLOCK).add(FloatVector.fromArray(F, x, b * BLOCK + 8))
                    .add(FloatVector.fromArray(F, x, b * BLOCK + 16)).add(FloatVector.fromArray(F, x, b * BLOCK + 24));
            xs[b] = Dot.hsum(v);
        }
        for (int r = r0; r < r1; r++) y[r] = dotFolded(r, x, xs);
    }

    /** Row r · x with the -8 offset folded out through the block sums xs of x. */
    private float dotFolded(int r, float[] x, float[] xs) {
        long o = r * rowBytes;
        int nb = cols / BLOCK;
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        float offset = 0f;
        for (int b = 0; b < nb; b++, o += BLOCK_BYTES) {
            int xo = b * BLOCK;
            float d = Float.float16ToFloat(data.get(Floats.I16_LE, o));
            // zero-extended bytes: low nibble = p & 15, high nibble = p >>> 4, no masking or sign fix-up
            IntVector p0 = (IntVector) ByteVector.fromMemorySegment(B8, data, o + 2, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
            IntVector p1 = (IntVector) ByteVector.fromMemorySegment(B8, data, o + 10, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
            FloatVector lo0 = (FloatVector) p0.and(0x0F).convert(VectorOperators.I2F, 0);
            FloatVector lo1 = (FloatVector) p1.and(0x0F).convert(VectorOperators.I2F, 0);
            FloatVector hi0 = (FloatVector) p0.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0);
            FloatVector hi1 = (FloatVector) p1.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0);
            FloatVector s0 = lo1.fma(FloatVector.fromArray(F, x, xo + 8), lo0.mul(FloatVector.fromArray(F, x, xo)));
            FloatVector s1 = hi1.fma(FloatVector.fromArray(F, x, xo + 24), hi0.mul(FloatVector.fromArray(F, x, xo + 16)));
            FloatVector dv = FloatVector.broadcast(F, d);
            acc0 = s0.fma(dv, acc0);
            acc1 = s1.fma(dv, acc1);
            offset += d * xs[b];
        }
        return Dot.hsum(acc0.add(acc1)) - 8f * offset;
    }

    /** Scalar reference of the decode dot (the Vector API decode is {@link #dotFolded}). */
    @Override
    protected float dot(int r, float[] x, int xOff, boolean vector) {
        long o = r * rowBytes;
        int nb = cols / BLOCK;
        float s = 0f;
        for (int b = 0; b < nb; b++, o += BLOCK_BYTES) {
            float d = Float.float16ToFloat(data.get(Floats.I16_LE, o));
            int xo = xOff + b * BLOCK;
            float bs = 0f;
            for (int j = 0; j < BLOCK / 2; j++) {
                int p = data.get(ValueLayout.JAVA_BYTE, o + 2 + j) & 0xFF;
                bs += ((p & 0x0F) - 8) * x[xo + j] + ((p >>> 4) - 8) * x[xo + j + 16];
            }
            s += bs * d;
        }
        return s;
    }
}
