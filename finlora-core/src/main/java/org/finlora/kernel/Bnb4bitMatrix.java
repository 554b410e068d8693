package org.finlora.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.finlora.FinloraException;
import org.finlora.quant.Bnb4bit;
import org.finlora.quant.BnbTensors;
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
 * <p>Codes are kept in a kernel layout that follows the width, not bnb's: per row, groups of G columns
 * in G/2 bytes, byte j holding column j in its low nibble and column j + G/2 in its high nibble, with
 * G/2 the bytes of one {@link Simd#floatBytes()} load (8, or 16 at 512 bits). A load widens to int
 * lanes whose two nibbles each give a run of contiguous columns, looked up in the 16-entry table held
 * in 16/L vector registers (one at 512 bits: one permute a code; two at 256 with a blend; four at
 * 128). Blocks still run over the flattened tensor as in bnb; {@link #bnbCodes()} gives the codes back
 * in bnb's flat order. Double-quantized absmax are expanded at construction to one f32 scale per block,
 * so the hot loops read one scale per block.
 */
public final class Bnb4bitMatrix extends RowMatrix {
    public final Bnb4bit.Type type;
    public final int blocksize;
    private final String name;
    /** Columns per code group (two nibbles per byte). */
    private final int group;
    private final MemorySegment codes;
    private final long rowBytes;
    /** One f32 scale per block (the absmax, or the double-quant reconstruction A'). */
    private final float[] scales;
    /** The compressed absmax when double-quantized (kept for writing bnb checkpoints), else null. */
    private final DoubleQuant.Nested nested;
    private final float[] table;
    /** The table's float bits, for the vector lookups. */
    private final int[] tableBits;
    /** Blocks per row when blocks never straddle rows (cols % blocksize == 0), else 0. */
    private final int blocksPerRow;

    private Bnb4bitMatrix(String name, Bnb4bit.Type type, int rows, int cols, int blocksize, byte[] flatCodes,
                          float[] scales, DoubleQuant.Nested nested, Simd simd) {
        super(rows, cols, simd);
        this.name = name;
        this.type = type;
        this.blocksize = blocksize;
        this.group = groupColumns(simd);
        this.rowBytes = (long) ((cols + group - 1) / group) * (group / 2);
        this.codes = Arena.ofAuto().allocate(rows * rowBytes, 64);
        int rb = Math.toIntExact(rowBytes), g = group, half = g / 2;
        Parallel.forRange(rows, Parallel.minChunk(16, cols), (r0, r1) -> {
            byte[] row = new byte[rb];
            for (int r = r0; r < r1; r++) {
                java.util.Arrays.fill(row, (byte) 0);
                int base = r * cols;
                for (int c0 = 0, o = 0; c0 < cols; c0 += g, o += half) {   // a group: columns c0 + j (low) and c0 + half + j (high)
                    int lo = Math.min(half, cols - c0), hi = Math.min(half, cols - c0 - half);
                    for (int j = 0; j < lo; j++) row[o + j] = (byte) (flatCodes[base + c0 + j] & 15);
                    for (int j = 0; j < hi; j++) row[o + j] |= (byte) ((flatCodes[base + c0 + half + j] & 15) << 4);
                }
                MemorySegment.copy(row, 0, codes, ValueLayout.JAVA_BYTE, (long) r * rowBytes, rb);
            }
        });
        this.scales = scales;
        this.nested = nested;
        this.table = type.table();
        this.tableBits = new int[16];
        for (int i = 0; i < 16; i++) tableBits[i] = Float.floatToRawIntBits(table[i]);
        this.blocksPerRow = cols % blocksize == 0 ? cols / blocksize : 0;
    }

    /** G: two nibbles of each byte of one floatBytes load (16 columns for the scalar references). */
    private static int groupColumns(Simd simd) {
        return simd.vector() ? 2 * simd.floatBytes().length() : 16;
    }

    private long codeOffset(int r, int c) {
        int half = group / 2;
        return r * rowBytes + (long) (c / group) * half + c % half;
    }

    /**
     * Quantizes a float weight [rows, cols] on load, exactly as bnb's quantize_4bit (and, when
     * doubleQuant, its compress_statistics) would for the same tensor.
     */
    public static Bnb4bitMatrix quantize(Tensor t, Bnb4bit.Type type, int blocksize, boolean doubleQuant, Simd simd) {
        TensorFloats.checkFloat2d(t);
        Bnb4bit.checkBlocksize(blocksize, t.name());
        int rows = t.rows(), cols = t.cols();
        long n = (long) rows * cols;
        int nb = Bnb4bit.blockCount(n, blocksize);
        float[] absmax = new float[nb];
        byte[] q = new byte[Math.toIntExact(n)];
        int blocksPerChunk = Math.max(1, (1 << 16) / blocksize), chunks = (nb + blocksPerChunk - 1) / blocksPerChunk;
        // chunks of whole blocks are independent: each thread reads, quantizes and writes its own
        Parallel.forRange(chunks, 1, (k0, k1) -> {
            float[] buf = new float[blocksPerChunk * blocksize];
            for (int k = k0; k < k1; k++) {
                int b0 = k * blocksPerChunk;
                long start = (long) b0 * blocksize;
                int len = (int) Math.min(buf.length, n - start);
                TensorFloats.read(t, start, buf, len);
                for (int off = 0, b = b0; off < len; off += blocksize, b++) {
                    absmax[b] = Bnb4bit.quantizeBlock(buf, off, Math.min(blocksize, len - off), type, q, (int) start + off);
                }
            }
        });
        if (doubleQuant) {
            DoubleQuant.Nested nested = DoubleQuant.compress(absmax);
            return new Bnb4bitMatrix(t.name(), type, rows, cols, blocksize, q, nested.expand(), nested, simd);
        }
        return new Bnb4bitMatrix(t.name(), type, rows, cols, blocksize, q, absmax, null, simd);
    }

    /** Builds a matrix from bnb's stored form (read by {@link BnbTensors#read4bit}). */
    public static Bnb4bitMatrix fromBnb(BnbTensors.FourBit w, Simd simd) {
        String name = w.name();
        Bnb4bit.checkBlocksize(w.blocksize(), name);
        int rows = w.rows(), cols = w.cols();
        if (rows <= 0 || cols <= 0) throw new FinloraException(name + ": bad shape [" + rows + ", " + cols + "]");
        long n = (long) rows * cols;
        if (w.codes().length != n) {
            throw new FinloraException(name + ": " + w.codes().length + " codes, shape [" + rows + ", " + cols + "] needs " + n);
        }
        int nb = Bnb4bit.blockCount(n, w.blocksize());
        float[] scales;
        DoubleQuant.Nested nested = w.nested();
        if (nested != null) {
            if (nested.codes().length != nb) {
                throw new FinloraException(name + ": absmax has " + nested.codes().length + " entries, " + nb + " blocks of " + w.blocksize() + " need " + nb);
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
            if (w.absmax().length != nb) {
                throw new FinloraException(name + ": absmax has " + w.absmax().length + " entries, " + nb + " blocks of " + w.blocksize() + " need " + nb);
            }
            scales = w.absmax().clone();
        }
        return new Bnb4bitMatrix(name, w.type(), rows, cols, w.blocksize(), w.codes(), scales, nested, simd);
    }

    /** This weight in bnb's stored form (for {@link BnbTensors#write4bit}). */
    public BnbTensors.FourBit toBnb() {
        return new BnbTensors.FourBit(name, type, rows, cols, blocksize, bnbCodes(), nested == null ? scales.clone() : null, nested);
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
        int b = codes.get(ValueLayout.JAVA_BYTE, codeOffset(r, c));
        return c % group >= group / 2 ? (b >>> 4) & 15 : b & 15;
    }

    /** All codes in bnb's flat row-major order, one per element. */
    public byte[] bnbCodes() {
        byte[] out = new byte[Math.toIntExact((long) rows * cols)];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) out[r * cols + c] = (byte) code(r, c);
        return out;
    }

    /** Scalar decode: one scale per run of a block (blocks run over the flattened tensor, so a run may end mid-row). */
    @Override
    protected void decodeReference(int r, int c0, int len, float[] dst, int off) {
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

    /** The vector kernels apply: blocks aligned to rows, whole code groups in every row. */
    private boolean vectorLayout() {
        return blocksPerRow > 0 && cols % group == 0;
    }

    /**
     * table[code & 15] for the int lanes of code: selectFrom wraps each index to the table vector's
     * lanes, and the tables of the other lanes are blended in on bits 2 and 3 where one vector cannot
     * hold all 16 entries. Small enough to be inlined into its callers.
     */
    private static FloatVector lookup(IntVector code, IntVector t0, IntVector t1, IntVector t2, IntVector t3) {
        int L = code.length();
        IntVector v = code.selectFrom(t0);
        if (L == 16) return v.reinterpretAsFloats();
        if (L == 8) return v.blend(code.selectFrom(t1), code.and(8).compare(VectorOperators.NE, 0)).reinterpretAsFloats();
        var bit2 = code.and(4).compare(VectorOperators.NE, 0);
        IntVector lo = v.blend(code.selectFrom(t1), bit2), hi = code.selectFrom(t2).blend(code.selectFrom(t3), bit2);
        return lo.blend(hi, code.and(8).compare(VectorOperators.NE, 0)).reinterpretAsFloats();
    }

    /**
     * Decode (T = 1) without scratch: each code group is looked up in registers and multiplied into two
     * per-block accumulators (low and high nibbles); the block scale is applied once per block.
     */
    @Override
    protected float rowDot(int r, float[] x) {
        if (!vectorLayout()) return super.rowDot(r, x);
        VectorSpecies<Byte> FB = simd.floatBytes();
        VectorSpecies<Integer> I = simd.ints();
        VectorSpecies<Float> F = simd.floats();
        int L = I.length(), parts = simd.floatPartsPerByteLoad(), half = group / 2;
        IntVector t0 = IntVector.fromArray(I, tableBits, 0);
        IntVector t1 = L < 16 ? IntVector.fromArray(I, tableBits, L) : t0;
        IntVector t2 = L < 8 ? IntVector.fromArray(I, tableBits, 2 * L) : t0, t3 = L < 8 ? IntVector.fromArray(I, tableBits, 3 * L) : t0;
        long o = r * rowBytes;   // byte offset of the current group, advanced with c
        int sBase = r * blocksPerRow;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocksPerRow; b++) {
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
            int cEnd = (b + 1) * blocksize;
            for (int c = b * blocksize; c < cEnd; c += group, o += half) {
                ByteVector bv = ByteVector.fromMemorySegment(FB, codes, o, ByteOrder.LITTLE_ENDIAN);
                for (int p = 0; p < parts; p++) {
                    IntVector iv = (IntVector) bv.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                    acc0 = lookup(iv, t0, t1, t2, t3).fma(FloatVector.fromArray(F, x, c + p * L), acc0);
                    acc1 = lookup(iv.lanewise(VectorOperators.LSHR, 4), t0, t1, t2, t3).fma(FloatVector.fromArray(F, x, c + half + p * L), acc1);
                }
            }
            acc = acc0.add(acc1).fma(FloatVector.broadcast(F, scales[sBase + b]), acc);
        }
        return simd.hsum(acc);
    }

    /**
     * Decode of a row range: rows in pairs (row i of the first half with row i of the second, two long
     * sequential streams), each pair sharing the loads of x, with the same operations per row as
     * {@link #rowDot}, so pairing does not change a result.
     */
    @Override
    protected void decodeRows(float[] x, float[] y, int r0, int r1) {
        if (!vectorLayout()) {
            super.decodeRows(x, y, r0, r1);
            return;
        }
        int half = (r1 - r0) / 2, r = r0;
        for (; r < r0 + half; r++) rowDotPair(r, r + half, x, y);
        for (r += half; r < r1; r++) y[r] = rowDot(r, x);
    }

    private void rowDotPair(int r, int r2, float[] x, float[] y) {
        VectorSpecies<Byte> FB = simd.floatBytes();
        VectorSpecies<Integer> I = simd.ints();
        VectorSpecies<Float> F = simd.floats();
        int L = I.length(), parts = simd.floatPartsPerByteLoad(), half = group / 2;
        IntVector t0 = IntVector.fromArray(I, tableBits, 0);
        IntVector t1 = L < 16 ? IntVector.fromArray(I, tableBits, L) : t0;
        IntVector t2 = L < 8 ? IntVector.fromArray(I, tableBits, 2 * L) : t0, t3 = L < 8 ? IntVector.fromArray(I, tableBits, 3 * L) : t0;
        long o = r * rowBytes, o2 = r2 * rowBytes;
        int sBase = r * blocksPerRow, sBase2 = r2 * blocksPerRow;
        FloatVector acc = FloatVector.zero(F), accB = acc;
        for (int b = 0; b < blocksPerRow; b++) {
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, accB0 = acc0, accB1 = acc0;
            int cEnd = (b + 1) * blocksize;
            for (int c = b * blocksize; c < cEnd; c += group, o += half, o2 += half) {
                ByteVector bv = ByteVector.fromMemorySegment(FB, codes, o, ByteOrder.LITTLE_ENDIAN);
                ByteVector bv2 = ByteVector.fromMemorySegment(FB, codes, o2, ByteOrder.LITTLE_ENDIAN);
                for (int p = 0; p < parts; p++) {
                    FloatVector xlo = FloatVector.fromArray(F, x, c + p * L), xhi = FloatVector.fromArray(F, x, c + half + p * L);
                    IntVector iv = (IntVector) bv.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                    IntVector iv2 = (IntVector) bv2.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                    acc0 = lookup(iv, t0, t1, t2, t3).fma(xlo, acc0);
                    acc1 = lookup(iv.lanewise(VectorOperators.LSHR, 4), t0, t1, t2, t3).fma(xhi, acc1);
                    accB0 = lookup(iv2, t0, t1, t2, t3).fma(xlo, accB0);
                    accB1 = lookup(iv2.lanewise(VectorOperators.LSHR, 4), t0, t1, t2, t3).fma(xhi, accB1);
                }
            }
            acc = acc0.add(acc1).fma(FloatVector.broadcast(F, scales[sBase + b]), acc);
            accB = accB0.add(accB1).fma(FloatVector.broadcast(F, scales[sBase2 + b]), accB);
        }
        y[r] = simd.hsum(acc);
        y[r2] = simd.hsum(accB);
    }

    /** The same values as {@link #decodeReference}, a code group at a time, where the layout allows. */
    @Override
    protected void decode(int r, int c0, int len, float[] dst, int off) {
        if (!vectorLayout() || c0 % group != 0) {
            decodeReference(r, c0, len, dst, off);
            return;
        }
        VectorSpecies<Byte> FB = simd.floatBytes();
        VectorSpecies<Integer> I = simd.ints();
        int L = I.length(), parts = simd.floatPartsPerByteLoad(), half = group / 2;
        IntVector t0 = IntVector.fromArray(I, tableBits, 0);
        IntVector t1 = L < 16 ? IntVector.fromArray(I, tableBits, L) : t0;
        IntVector t2 = L < 8 ? IntVector.fromArray(I, tableBits, 2 * L) : t0, t3 = L < 8 ? IntVector.fromArray(I, tableBits, 3 * L) : t0;
        int body = len - len % group;
        long o = codeOffset(r, c0);
        int sBase = r * blocksPerRow;
        for (int k = 0; k < body; k += group, o += half) {
            int c = c0 + k;
            float s = scales[sBase + c / blocksize];
            ByteVector bv = ByteVector.fromMemorySegment(FB, codes, o, ByteOrder.LITTLE_ENDIAN);
            for (int p = 0; p < parts; p++) {
                IntVector iv = (IntVector) bv.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                lookup(iv, t0, t1, t2, t3).mul(s).intoArray(dst, off + k + p * L);
                lookup(iv.lanewise(VectorOperators.LSHR, 4), t0, t1, t2, t3).mul(s).intoArray(dst, off + k + half + p * L);
            }
        }
        if (body < len) decodeReference(r, c0 + body, len - body, dst, off + body);
    }

    /** bitsandbytes NF4 with QLoRA's defaults: blocks of 64, double quantization. */
    public static final WeightFormat NF4 = new Format(Bnb4bit.Type.NF4, 64, true);
    /** bitsandbytes FP4, blocks of 64, double quantization. */
    public static final WeightFormat FP4 = new Format(Bnb4bit.Type.FP4, 64, true);

    /** The traits of nf4 and fp4: options blocksize and double-quant; stored as bitsandbytes' Linear4bit state dict. */
    public record Format(Bnb4bit.Type type, int blocksize, boolean doubleQuant) implements WeightFormat {
        @Override
        public String name() {
            return type.id;
        }

        @Override
        public String spec() {
            return type.id + ":blocksize=" + blocksize + ",double-quant=" + doubleQuant;
        }

        @Override
        public String options() {
            return "blocksize=N (64), double-quant=BOOL (true)";
        }

        @Override
        public WeightFormat with(String key, String value) {
            return switch (key) {
                case "blocksize" -> {
                    int b = WeightFormats.intOption(name(), key, value);
                    Bnb4bit.checkBlocksize(b, "--quant " + type.id);
                    yield new Format(type, b, doubleQuant);
                }
                case "double-quant" -> new Format(type, blocksize, WeightFormats.boolOption(type.id, key, value));
                default -> WeightFormat.super.with(key, value);
            };
        }

        @Override
        public RowMatrix quantize(Tensor t, Simd simd) {
            return Bnb4bitMatrix.quantize(WeightFormats.floatTensor(t), type, blocksize, doubleQuant, simd);
        }

        /** A bitsandbytes 4-bit group (U8 codes + quant_state) of this type, with the options it was saved with. */
        @Override
        public RowMatrix load(StoredWeights src, String name, Simd simd) {
            Tensor t = src.tensor(name);
            if (t == null || t.dtype() != org.finlora.tensor.DType.U8) return null;
            Tensor state = BnbTensors.quantState(src.tensors(), name);
            if (state == null || !state.name().endsWith("__" + type.id)) return null;
            return fromBnb(BnbTensors.read4bit(src.tensors(), name), simd);
        }

        @Override
        public java.util.Map<String, Tensor> store(RowMatrix m, String name, String dtype) {
            return BnbTensors.write4bit(name, ((Bnb4bitMatrix) m).toBnb(), dtype);
        }
    }
}
