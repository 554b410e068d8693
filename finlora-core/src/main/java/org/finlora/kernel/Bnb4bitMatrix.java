package org.finlora.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.finlora.FinloraException;
import org.finlora.quant.Bnb4bit;
import org.finlora.quant.DoubleQuant;
import org.finlora.quant.TensorFloats;
import org.finlora.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A bitsandbytes 4-bit weight (NF4 or FP4): bnb's codes and block scales, stored for the kernels.
 *
 * <p>Codes are kept in a kernel layout, not bnb's: per row, groups of 16 columns in 8 bytes, byte j
 * holding column j in its low nibble and column j+8 in its high nibble (so one 8-byte load widens to
 * two 8-lane index vectors in column order). Blocks still run over the flattened tensor as in bnb;
 * {@link #bnbCodes()} gives the codes back in bnb's flat order. Double-quantized absmax are expanded
 * at construction to one f32 scale per block, so the hot loops read one scale per block.
 */
public final class Bnb4bitMatrix extends DequantMatrix {
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    /** The 8-lane table lookups need 256-bit vectors; elsewhere the scalar decode is used. */
    static final boolean VECTOR_DECODE = VECTOR_ENABLED && FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256;
    private static final VectorSpecies<Float> F16 = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I16 = IntVector.SPECIES_512;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    /**
     * With 512-bit vectors (AVX-512) the whole 16-entry table is one register, so a code costs one
     * permute instead of two and a blend. On 256-bit hardware the 512-bit species is emulated in Java
     * (correct, far slower), so the T = 1 decode takes this path only where it is native.
     */
    static final boolean WIDE_DECODE = VECTOR_ENABLED && FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512;

    public final Bnb4bit.Type type;
    public final int blocksize;
    private final String name;
    private final MemorySegment codes;
    private final long rowBytes;
    /** One f32 scale per block (the absmax, or the double-quant reconstruction A'). */
    private final float[] scales;
    /** The compressed absmax when double-quantized (kept for writing bnb checkpoints), else null. */
    private final DoubleQuant.Nested nested;
    private final float[] table;
    /** The table's float bits, entries 0..7 and 8..15, for the 8-lane int lookups. */
    private final IntVector tableLo, tableHi;
    /** The table's float bits as one 16-lane vector, for the 512-bit lookups. */
    private final IntVector table16;
    /** Blocks per row when blocks never straddle rows (cols % blocksize == 0), else 0. */
    private final int blocksPerRow;

    private Bnb4bitMatrix(String name, Bnb4bit.Type type, int rows, int cols, int blocksize, MemorySegment codes,
                          float[] scales, DoubleQuant.Nested nested) {
        super(rows, cols);
        this.name = name;
        this.type = type;
        this.blocksize = blocksize;
        this.codes = codes;
        this.rowBytes = rowBytes(cols);
        this.scales = scales;
        this.nested = nested;
        this.table = type.table();
        this.tableLo = FloatVector.fromArray(F8, table, 0).reinterpretAsInts();
        this.tableHi = FloatVector.fromArray(F8, table, 8).reinterpretAsInts();
        this.table16 = FloatVector.fromArray(F16, table, 0).reinterpretAsInts();
        this.blocksPerRow = cols % blocksize == 0 ? cols / blocksize : 0;
    }

    static long rowBytes(int cols) {
        return (long) ((cols + 15) / 16) * 8;
    }

    private static long codeOffset(long rowBytes, int r, int c) {
        return r * rowBytes + (long) (c >>> 4) * 8 + (c & 7);
    }

    /**
     * Quantizes a float weight [rows, cols] on load, exactly as bnb's quantize_4bit (and, when
     * doubleQuant, its compress_statistics) would for the same tensor.
     */
    public static Bnb4bitMatrix quantize(Tensor t, Bnb4bit.Type type, int blocksize, boolean doubleQuant) {
        TensorFloats.checkFloat2d(t);
        Bnb4bit.checkBlocksize(blocksize, t.name());
        int rows = t.rows(), cols = t.cols();
        long n = (long) rows * cols;
        int nb = Bnb4bit.blockCount(n, blocksize);
        float[] absmax = new float[nb];
        MemorySegment seg = Arena.ofAuto().allocate(rows * rowBytes(cols), 64);
        long rb = rowBytes(cols);
        int blocksPerChunk = Math.max(1, (1 << 16) / blocksize);
        float[] buf = new float[blocksPerChunk * blocksize];
        byte[] q = new byte[buf.length];
        for (int b0 = 0; b0 < nb; b0 += blocksPerChunk) {
            long start = (long) b0 * blocksize;
            int len = (int) Math.min(buf.length, n - start);
            TensorFloats.read(t, start, buf, len);
            for (int off = 0, b = b0; off < len; off += blocksize, b++) {
                absmax[b] = Bnb4bit.quantizeBlock(buf, off, Math.min(blocksize, len - off), type, q, off);
            }
            for (int i = 0; i < len; i++) putCode(seg, rb, cols, start + i, q[i]);
        }
        return build(t.name(), type, rows, cols, blocksize, seg, absmax, doubleQuant);
    }

    private static void putCode(MemorySegment seg, long rb, int cols, long flat, int code) {
        int r = (int) (flat / cols), c = (int) (flat % cols);
        long o = codeOffset(rb, r, c);
        byte old = seg.get(ValueLayout.JAVA_BYTE, o);
        int v = (c & 8) != 0 ? (old & 0x0F) | (code & 15) << 4 : (old & 0xF0) | (code & 15);
        seg.set(ValueLayout.JAVA_BYTE, o, (byte) v);
    }

    private static Bnb4bitMatrix build(String name, Bnb4bit.Type type, int rows, int cols, int blocksize, MemorySegment seg,
                                       float[] absmax, boolean doubleQuant) {
        if (doubleQuant) {
            DoubleQuant.Nested nested = DoubleQuant.compress(absmax);
            return new Bnb4bitMatrix(name, type, rows, cols, blocksize, seg, nested.expand(), nested);
        }
        return new Bnb4bitMatrix(name, type, rows, cols, blocksize, seg, absmax, null);
    }

    /**
     * Builds a matrix from bnb's tensors: packed codes (bnb order, first element in the high nibble)
     * and either the f32 absmax (nested == null) or the double-quantized statistics.
     */
    public static Bnb4bitMatrix fromBnb(String name, Bnb4bit.Type type, int rows, int cols, int blocksize,
                                        byte[] packed, float[] absmax, DoubleQuant.Nested nested) {
        Bnb4bit.checkBlocksize(blocksize, name);
        if (rows <= 0 || cols <= 0) throw new FinloraException(name + ": bad shape [" + rows + ", " + cols + "]");
        long n = (long) rows * cols;
        if (packed.length != (n + 1) / 2) {
            throw new FinloraException(name + ": packed weight has " + packed.length + " bytes, shape [" + rows + ", " + cols + "] needs " + (n + 1) / 2);
        }
        int nb = Bnb4bit.blockCount(n, blocksize);
        float[] scales;
        if (nested != null) {
            if (nested.codes().length != nb) {
                throw new FinloraException(name + ": absmax has " + nested.codes().length + " entries, " + nb + " blocks of " + blocksize + " need " + nb);
            }
            int nb2 = (nb + nested.blocksize() - 1) / nested.blocksize();
            if (nested.absmax2().length != nb2) {
                throw new FinloraException(name + ": nested_absmax has " + nested.absmax2().length + " entries, expected " + nb2);
            }
            if (nested.map().length != 256) {
                throw new FinloraException(name + ": nested_quant_map has " + nested.map().length + " entries, expected 256");
            }
            scales = nested.expand();
        } else {
            if (absmax.length != nb) {
                throw new FinloraException(name + ": absmax has " + absmax.length + " entries, " + nb + " blocks of " + blocksize + " need " + nb);
            }
            scales = absmax.clone();
        }
        long rb = rowBytes(cols);
        MemorySegment seg = Arena.ofAuto().allocate(rows * rb, 64);
        for (long i = 0; i < n; i++) {
            int b = packed[(int) (i >> 1)] & 0xFF;
            putCode(seg, rb, cols, i, (i & 1) == 0 ? b >>> 4 : b & 15);
        }
        return new Bnb4bitMatrix(name, type, rows, cols, blocksize, seg, scales, nested);
    }

    @Override
    public String format() {
        return type.id;
    }

    public String name() {
        return name;
    }

    @Override
    public MemorySegment storage() {
        return codes;
    }

    @Override
    public long byteSize() {
        long n = (long) rows * cols;
        long stats = nested != null ? nested.codes().length + 4L * nested.absmax2().length + 4 : 4L * scales.length;
        return (n + 1) / 2 + stats;
    }

    public boolean doubleQuant() {
        return nested != null;
    }

    public DoubleQuant.Nested nested() {
        return nested;
    }

    /** The f32 scale of each block (absmax, or A' when double-quantized). A copy. */
    public float[] blockScales() {
        return scales.clone();
    }

    /** The code of W[r, c]. */
    public int code(int r, int c) {
        int b = codes.get(ValueLayout.JAVA_BYTE, codeOffset(rowBytes, r, c));
        return (c & 8) != 0 ? (b >>> 4) & 15 : b & 15;
    }

    /** All codes in bnb's flat row-major order, one per element. */
    public byte[] bnbCodes() {
        byte[] out = new byte[Math.toIntExact((long) rows * cols)];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) out[r * cols + c] = (byte) code(r, c);
        return out;
    }

    /** Scalar decode: one scale per run of a block (blocks run over the flattened tensor, so a run may end mid-row). */
    @Override
    public void dequantize(int r, int c0, int len, float[] dst, int off) {
        long flat = (long) r * cols + c0;
        for (int k = 0; k < len; ) {
            long block = flat / blocksize;
            int run = (int) Math.min(len - k, (block + 1) * blocksize - flat);
            float s = scales[(int) block];
            for (int i = 0; i < run; i++) dst[off + k + i] = table[code(r, c0 + k + i)] * s;
            k += run;
            flat += run;
        }
    }

    /** Decode strategy of the tiles (benchmark knob): 0 = vector table lookup, 1 = scalar decode. */
    int lookup = 0;

    /** The scratch-free T = 1 kernel applies: 256-bit lookups, blocks aligned to rows, whole 16-column groups. */
    private boolean directOk() {
        return VECTOR_DECODE && blocksPerRow > 0 && cols % 16 == 0;
    }

    @Override
    public void matmulVector(float[] x, float[] y, int T) {
        if (T == 1 && directOk()) {
            if (WIDE_DECODE) matvecWide(x, y);
            else matvecDirect(x, y);
        } else {
            super.matmulVector(x, y, T);
        }
    }

    /** The tiled (scratch) forward regardless of T; for timing against the direct kernel. */
    void matmulVectorTiled(float[] x, float[] y, int T) {
        super.matmulVector(x, y, T);
    }

    /**
     * Decode (T = 1) without scratch: each 16-column group is looked up in registers and multiplied
     * into two per-block accumulators; the block scale is applied once per block.
     */
    void matvecDirect(float[] x, float[] y) {
        Parallel.forRange(rows, Parallel.minChunk(8, cols), (start, end) -> {
            for (int r = start; r < end; r++) y[r] = rowDot(r, x);
        });
    }

    /** The 8 zero-extended code bytes of the 16-column group starting at column c of row r. */
    private IntVector codeGroup(long rowBase, int c) {
        return (IntVector) ByteVector.fromMemorySegment(B8, codes, rowBase + (long) (c >>> 4) * 8, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
    }

    /**
     * table[code] for 8 codes: AVX2 permutes 8 lanes, so both halves of the 16-entry table are
     * permuted by the low 3 bits and blended on bit 3 of the code, which {@code bit3AtSign} holds in
     * its sign bit (one shift and a compare with zero, cheaper than masking and comparing for equality).
     * Package-private: Nf4LookupBench times this very lookup against alternatives.
     */
    FloatVector lookup(IntVector code, IntVector bit3AtSign) {
        return code.selectFrom(tableLo).blend(code.selectFrom(tableHi), bit3AtSign.compare(VectorOperators.LT, 0)).reinterpretAsFloats();
    }

    private float rowDot(int r, float[] x) {
        long o = r * rowBytes;   // byte offset of the current 16-column group, advanced with c
        int sBase = r * blocksPerRow;
        FloatVector acc = FloatVector.zero(F8);
        for (int b = 0; b < blocksPerRow; b++) {
            FloatVector acc0 = FloatVector.zero(F8), acc1 = acc0;
            int cEnd = (b + 1) * blocksize;
            for (int c = b * blocksize; c < cEnd; c += 16, o += 8) {
                // low nibble: column c + j, high nibble: column c + 8 + j
                IntVector iv = (IntVector) ByteVector.fromMemorySegment(B8, codes, o, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
                FloatVector lo = lookup(iv, iv.lanewise(VectorOperators.LSHL, 28));
                FloatVector hi = lookup(iv.lanewise(VectorOperators.LSHR, 4), iv.lanewise(VectorOperators.LSHL, 24));
                acc0 = lo.fma(FloatVector.fromArray(F8, x, c), acc0);
                acc1 = hi.fma(FloatVector.fromArray(F8, x, c + 8), acc1);
            }
            acc = acc0.add(acc1).fma(FloatVector.broadcast(F8, scales[sBase + b]), acc);
        }
        return Dot.hsum(acc);
    }

    /**
     * Decode (T = 1) with 512-bit vectors: 16 code bytes (32 columns, two 16-column groups) widen to 16
     * int lanes; the low nibbles hold columns c..c+7 and c+16..c+23, the high nibbles c+8..c+15 and
     * c+24..c+31, each looked up with one permute of the 16-entry table. x is reordered once per call
     * to match (the middle 8 of every 32 columns swapped), so each lookup multiplies one contiguous
     * load. Blocks are at least 32 columns, so a 32-column step never crosses one. Package-private so
     * tests can run it on any hardware (emulated where vectors are narrower).
     */
    void matvecWide(float[] x, float[] y) {
        float[] xp = new float[cols];
        for (int c = 0; c < cols; c += 32) {
            System.arraycopy(x, c, xp, c, 8);
            System.arraycopy(x, c + 16, xp, c + 8, 8);
            System.arraycopy(x, c + 8, xp, c + 16, 8);
            System.arraycopy(x, c + 24, xp, c + 24, 8);
        }
        Parallel.forRange(rows, Parallel.minChunk(8, cols), (start, end) -> {
            for (int r = start; r < end; r++) y[r] = rowDotWide(r, xp);
        });
    }

    private float rowDotWide(int r, float[] xp) {
        long o = r * rowBytes;   // byte offset of the current 32-column step
        int sBase = r * blocksPerRow;
        FloatVector acc = FloatVector.zero(F16);
        for (int b = 0; b < blocksPerRow; b++) {
            FloatVector acc0 = FloatVector.zero(F16), acc1 = acc0;
            int cEnd = (b + 1) * blocksize;
            for (int c = b * blocksize; c < cEnd; c += 32, o += 16) {
                IntVector iv = (IntVector) ByteVector.fromMemorySegment(B16, codes, o, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
                // selectFrom wraps each index to the table's 16 lanes: the low nibble
                FloatVector lo = iv.selectFrom(table16).reinterpretAsFloats();
                FloatVector hi = iv.lanewise(VectorOperators.LSHR, 4).selectFrom(table16).reinterpretAsFloats();
                acc0 = lo.fma(FloatVector.fromArray(F16, xp, c), acc0);
                acc1 = hi.fma(FloatVector.fromArray(F16, xp, c + 16), acc1);
            }
            acc = acc0.add(acc1).fma(FloatVector.broadcast(F16, scales[sBase + b]), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    @Override
    protected void dequantizeTile(int r, int c0, int len, float[] dst, int off) {
        if (!VECTOR_DECODE || blocksPerRow == 0 || (c0 & 15) != 0 || lookup == 1) {
            dequantize(r, c0, len, dst, off);
            return;
        }
        int body = len & ~15;
        long rowBase = r * rowBytes;
        int sBase = r * blocksPerRow;
        for (int k = 0; k < body; k += 16) {
            int c = c0 + k;
            float s = scales[sBase + c / blocksize];
            IntVector iv = codeGroup(rowBase, c);
            lookup(iv, iv.lanewise(VectorOperators.LSHL, 28)).mul(s).intoArray(dst, off + k);
            lookup(iv.lanewise(VectorOperators.LSHR, 4), iv.lanewise(VectorOperators.LSHL, 24)).mul(s).intoArray(dst, off + k + 8);
        }
        if (body < len) dequantize(r, c0 + body, len - body, dst, off + body);
    }
}
