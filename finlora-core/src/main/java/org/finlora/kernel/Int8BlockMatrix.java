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
import java.nio.ByteOrder;

/**
 * Symmetric blockwise int8 weight ("int8-block", see {@link Int8Blockwise}): int8 codes in flat
 * row-major order and one f32 scale (absmax / 127) per block of the flattened tensor.
 */
public final class Int8BlockMatrix extends RowMatrix {

    public final int blocksize;
    private final MemorySegment q;
    private final float[] scales;
    private final int blocksPerRow;

    private Int8BlockMatrix(int rows, int cols, int blocksize, MemorySegment q, float[] scales, Simd simd) {
        super(rows, cols, simd);
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

    public static Int8BlockMatrix quantize(Tensor t, int blocksize, Simd simd) {
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
        return new Int8BlockMatrix(rows, cols, blocksize, seg, scales, simd);
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
    protected void decodeReference(int r, int c0, int len, float[] dst, int off) {
        long base = (long) r * cols;
        for (int k = 0; k < len; k++) {
            long i = base + c0 + k;
            dst[off + k] = q.get(ValueLayout.JAVA_BYTE, i) * scales[(int) (i / blocksize)];
        }
    }

    /** One byte load widens to the float vectors of one scale (blocks are at least 8 columns, aligned to rows here). */
    @Override
    protected void decode(int r, int c0, int len, float[] dst, int off) {
        VectorSpecies<Byte> FB = simd.floatBytes();
        int step = FB.length();
        if (blocksPerRow == 0 || c0 % step != 0 || blocksize % step != 0) {
            decodeReference(r, c0, len, dst, off);
            return;
        }
        VectorSpecies<Float> F = simd.floats();
        int L = F.length(), parts = simd.floatPartsPerByteLoad();
        int body = len - len % step;
        long base = (long) r * cols;
        int sBase = r * blocksPerRow;
        for (int k = 0; k < body; k += step) {
            int c = c0 + k;
            ByteVector bv = ByteVector.fromMemorySegment(FB, q, base + c, ByteOrder.LITTLE_ENDIAN);
            float s = scales[sBase + c / blocksize];
            for (int p = 0; p < parts; p++) ((FloatVector) bv.convertShape(VectorOperators.B2F, F, p)).mul(s).intoArray(dst, off + k + p * L);
        }
        if (body < len) decodeReference(r, c0 + body, len - body, dst, off + body);
    }

    /** int8-block with blocks of 64. */
    public static final WeightFormat FORMAT = new Format(org.finlora.quant.Int8Blockwise.DEFAULT_BLOCKSIZE);

    /** The traits of int8-block: option blocksize. */
    public record Format(int blocksize) implements WeightFormat {
        @Override
        public String name() {
            return "int8-block";
        }

        @Override
        public String spec() {
            return "int8-block:blocksize=" + blocksize;
        }

        @Override
        public String options() {
            return "blocksize=N (64)";
        }

        @Override
        public WeightFormat with(String key, String value) {
            if (!key.equals("blocksize")) return WeightFormat.super.with(key, value);
            int b = WeightFormats.intOption(name(), key, value);
            checkBlocksize(b, "--quant int8-block");
            return new Format(b);
        }

        @Override
        public RowMatrix quantize(Tensor t, Simd simd) {
            return Int8BlockMatrix.quantize(WeightFormats.floatTensor(t), blocksize, simd);
        }
    }
}
