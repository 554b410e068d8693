package org.finlora.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.finlora.FinloraException;
import org.finlora.quant.Int8Blockwise;
import org.finlora.quant.TensorFloats;
import org.finlora.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Symmetric blockwise int8 weight ("int8-block", see {@link Int8Blockwise}): int8 codes in flat
 * row-major order and one f32 scale (absmax / 127) per block of the flattened tensor.
 */
public final class Int8BlockMatrix extends DequantMatrix {
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    static final boolean VECTOR_DECODE = VECTOR_ENABLED && FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256;

    public final int blocksize;
    private final MemorySegment q;
    private final float[] scales;
    private final int blocksPerRow;

    private Int8BlockMatrix(int rows, int cols, int blocksize, MemorySegment q, float[] scales) {
        super(rows, cols);
        this.blocksize = blocksize;
        this.q = q;
        this.scales = scales;
        this.blocksPerRow = cols % blocksize == 0 ? cols / blocksize : 0;
    }

    public static void checkBlocksize(int blocksize, String what) {
        if (blocksize < 8 || blocksize > 4096 || Integer.bitCount(blocksize) != 1) {
            throw new FinloraException(what + ": int8-block blocksize " + blocksize + " is not a power of two in 8..4096");
        }
    }

    public static Int8BlockMatrix quantize(Tensor t, int blocksize) {
        TensorFloats.checkFloat2d(t);
        checkBlocksize(blocksize, t.name());
        int rows = t.rows(), cols = t.cols();
        long n = (long) rows * cols;
        int nb = (int) ((n + blocksize - 1) / blocksize);
        float[] scales = new float[nb];
        MemorySegment seg = Arena.ofAuto().allocate(n, 64);
        int blocksPerChunk = Math.max(1, (1 << 16) / blocksize);
        float[] buf = new float[blocksPerChunk * blocksize];
        byte[] qb = new byte[buf.length];
        for (int b0 = 0; b0 < nb; b0 += blocksPerChunk) {
            long start = (long) b0 * blocksize;
            int len = (int) Math.min(buf.length, n - start);
            TensorFloats.read(t, start, buf, len);
            for (int off = 0, b = b0; off < len; off += blocksize, b++) {
                scales[b] = Int8Blockwise.scale(Int8Blockwise.quantizeBlock(buf, off, Math.min(blocksize, len - off), qb, off));
            }
            MemorySegment.copy(qb, 0, seg, ValueLayout.JAVA_BYTE, start, len);
        }
        return new Int8BlockMatrix(rows, cols, blocksize, seg, scales);
    }

    @Override
    public String format() {
        return "int8-block";
    }

    @Override
    public MemorySegment storage() {
        return q;
    }

    @Override
    public long byteSize() {
        return (long) rows * cols + 4L * scales.length;
    }

    public int code(int r, int c) {
        return q.get(ValueLayout.JAVA_BYTE, (long) r * cols + c);
    }

    @Override
    public void dequantize(int r, int c0, int len, float[] dst, int off) {
        long base = (long) r * cols;
        for (int k = 0; k < len; k++) {
            long i = base + c0 + k;
            dst[off + k] = q.get(ValueLayout.JAVA_BYTE, i) * scales[(int) (i / blocksize)];
        }
    }

    @Override
    protected void dequantizeTile(int r, int c0, int len, float[] dst, int off) {
        if (!VECTOR_DECODE || blocksPerRow == 0 || (c0 & 7) != 0) {
            dequantize(r, c0, len, dst, off);
            return;
        }
        int body = len & ~7;
        long base = (long) r * cols;
        int sBase = r * blocksPerRow;
        for (int k = 0; k < body; k += 8) {
            int c = c0 + k;
            ByteVector bv = ByteVector.fromMemorySegment(B8, q, base + c, java.nio.ByteOrder.LITTLE_ENDIAN);
            FloatVector v = (FloatVector) bv.convertShape(VectorOperators.B2F, F8, 0);
            v.mul(scales[sBase + c / blocksize]).intoArray(dst, off + k);
        }
        if (body < len) dequantize(r, c0 + body, len - body, dst, off + body);
    }
}
