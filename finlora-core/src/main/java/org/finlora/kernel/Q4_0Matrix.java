package org.finlora.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.finlora.FinloraException;
import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;
import org.finlora.tensor.WeightMatrix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * ggml Q4_0: blocks of 32 weights, each an f16 scale d then 16 bytes; byte j holds element j in its
 * low nibble and element j + 16 in its high nibble; w = (q - 8)·d. cols must be a multiple of 32.
 *
 * <p>The blocks are held in row tiles, not in ggml's row order (the bytes are the same, 18 per block).
 * A tile has TILE rows, one per short lane of the width's vectors (8, 16 or 32; the last tile holds
 * the rows that remain), and stores, block after block, the tile's TILE f16 scales of block b (one per
 * row), then 8 units of 2·TILE bytes: unit u holds, for each row k, byte u of its block at 2k and
 * byte u + 8 at 2k + 1. Read as TILE little-endian shorts, a unit gives one lane per row holding four
 * nibbles, columns u, u + 16, u + 8 and u + 24 from low to high, and the decode multiplies the lanes
 * by activation coefficients broadcast across them: every lane is one row, a block's int sums
 * accumulate lane-wise, and no row needs a horizontal sum (llama.cpp repacks its Q4_0 into interleaved
 * rows on load for the same reason). A tile is one sequential stream in the order the kernel reads
 * it. The constructor repacks ggml's layout; {@link #ggmlBytes()} gives it back.
 */
public final class Q4_0Matrix extends Int8ActivationDecode {
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 18;
    /** Code units per block (8 units of one code byte pair per row). */
    private static final int UNITS = 8;
    /** Rows per tile: the short lanes of the width (16 for the scalar references, whose layout is free). */
    private final int tile;
    private final MemorySegment data;
    private final long rowBytes;
    private final int nb;
    /** Whether every scale is finite: the vector kernel's f16 conversion assumes it (else the scalar path runs). */
    private final boolean finiteScales;

    /** A Q4_0 matrix from ggml's row-major blocks (copied into the tiled layout of the width). */
    public Q4_0Matrix(int rows, int cols, MemorySegment ggml, Simd simd) {
        this(rows, cols, ggml.byteSize(), (first, n) -> ggml.asSlice(first * ((long) cols / BLOCK * BLOCK_BYTES)), simd);
    }

    /** ggml's blocks of rows [first, first + n), starting at offset 0 of the returned segment. */
    private interface GgmlRows {
        MemorySegment rows(int first, int n);
    }

    /** Fills the tiled layout tile by tile (in parallel) from ggml-layout rows. */
    private Q4_0Matrix(int rows, int cols, long ggmlBytes, GgmlRows src, Simd simd) {
        super(rows, cols, simd);
        if (cols % BLOCK != 0) throw new IllegalArgumentException("q4_0 needs cols divisible by 32, got " + cols);
        this.tile = simd.vector() ? simd.shorts().length() : 16;
        this.nb = cols / BLOCK;
        this.rowBytes = (long) nb * BLOCK_BYTES;
        if (ggmlBytes != rowBytes * rows) {
            throw new IllegalArgumentException("q4_0 [" + rows + ", " + cols + "] needs " + rowBytes * rows + " bytes, got " + ggmlBytes);
        }
        this.data = Arena.ofAuto().allocate(rowBytes * rows, 64);
        int tiles = (rows + tile - 1) / tile;
        Parallel.forRange(tiles, Parallel.minChunk(1, (long) tile * cols), (t0, t1) -> {
            for (int t = t0; t < t1; t++) repackTile(src.rows(t * tile, tileRows(t)), t);
        });
        this.finiteScales = allScalesFinite();
    }

    /**
     * Quantizes every row of src (ggml's reference rounding), tile by tile in parallel: each tile's rows
     * go through a small ggml-layout scratch, never a whole second copy of the matrix.
     */
    public static Q4_0Matrix quantize(WeightMatrix src, Simd simd) {
        if (src.cols % BLOCK != 0) {
            throw new FinloraException("q4_0: a row of " + src.cols + " weights is not a multiple of the 32-weight block");
        }
        long rowBytes = (long) src.cols / BLOCK * BLOCK_BYTES;
        int maxTile = 32;
        ThreadLocal<MemorySegment> scratch = ThreadLocal.withInitial(() -> MemorySegment.ofArray(new byte[Math.toIntExact(maxTile * rowBytes)]));
        ThreadLocal<float[]> row = ThreadLocal.withInitial(() -> new float[src.cols]);
        return new Q4_0Matrix(src.rows, src.cols, rowBytes * src.rows, (first, n) -> {
            MemorySegment s = scratch.get();
            float[] x = row.get();
            for (int i = 0; i < n; i++) {
                src.dequantizeRow(first + i, x, 0);
                for (int b = 0; b < src.cols / BLOCK; b++) quantizeBlock(x, b * BLOCK, s, i * rowBytes + (long) b * BLOCK_BYTES);
            }
            return s;
        }, simd);
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

    /** Row r of ggml-layout Q4_0 bytes (as a GGUF file stores them) dequantized to out[off ..]: (q - 8) · d. */
    static void dequantizeGgmlRow(MemorySegment ggml, int r, int cols, float[] out, int off) {
        long o = (long) r * (cols / BLOCK) * BLOCK_BYTES;
        for (int b = 0; b < cols / BLOCK; b++, o += BLOCK_BYTES) {
            float d = Float.float16ToFloat(ggml.get(Floats.I16_LE, o));
            for (int j = 0; j < BLOCK / 2; j++) {
                int p = ggml.get(ValueLayout.JAVA_BYTE, o + 2 + j) & 0xFF;
                out[off + b * BLOCK + j] = ((p & 0x0F) - 8) * d;
                out[off + b * BLOCK + j + 16] = ((p >>> 4) - 8) * d;
            }
        }
    }

    /** Rows in tile t (TILE except in a last, partial tile). */
    private int tileRows(int t) {
        return Math.min(tile, rows - t * tile);
    }

    /** Byte offset of tile t: every earlier tile is full. */
    private long tileBase(int t) {
        return (long) t * tile * rowBytes;
    }

    /** Byte offset of the f16 scale of row k (in tile t) for block b. */
    private long scaleOffset(int t, int b, int k) {
        return tileBase(t) + (long) b * BLOCK_BYTES * tileRows(t) + 2L * k;
    }

    /** Byte offset of byte j of row k's (in tile t) block b: bytes j and j + 8 of a row side by side, in unit j % 8. */
    private long codeOffset(int t, int b, int j, int k) {
        int n = tileRows(t);
        return tileBase(t) + (long) b * BLOCK_BYTES * n + 2L * n + (long) (j & 7) * 2 * n + 2L * k + (j >>> 3);
    }

    /** Copies tile t's rows from ggml's layout (row TILE·t at src offset 0) into the tiled layout. */
    private void repackTile(MemorySegment src, int t) {
        int n = tileRows(t);
        for (int k = 0; k < n; k++) {
            for (int b = 0; b < nb; b++) {
                long s = k * rowBytes + (long) b * BLOCK_BYTES;
                data.set(Floats.I16_LE, scaleOffset(t, b, k), src.get(Floats.I16_LE, s));
                for (int j = 0; j < BLOCK / 2; j++) data.set(ValueLayout.JAVA_BYTE, codeOffset(t, b, j, k), src.get(ValueLayout.JAVA_BYTE, s + 2 + j));
            }
        }
    }

    private boolean allScalesFinite() {
        for (int t = 0; t * tile < rows; t++) {
            for (int b = 0; b < nb; b++) {
                for (int k = 0; k < tileRows(t); k++) {
                    if ((data.get(Floats.I16_LE, scaleOffset(t, b, k)) & 0x7c00) == 0x7c00) return false;
                }
            }
        }
        return true;
    }

    /** The f16 scale of row r's block b. */
    private short scaleBits(int r, int b) {
        int t = r / tile;
        return data.get(Floats.I16_LE, scaleOffset(t, b, r - t * tile));
    }

    /** Byte j (elements j and j + 16) of row r's block b. */
    private int codeByte(int r, int b, int j) {
        int t = r / tile;
        return data.get(ValueLayout.JAVA_BYTE, codeOffset(t, b, j, r - t * tile)) & 0xFF;
    }

    /** The weights in ggml's row-major block layout (as a GGUF file stores them). */
    public MemorySegment ggmlBytes() {
        MemorySegment out = Arena.ofAuto().allocate(rowBytes * rows, 64);
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < nb; b++) {
                long o = r * rowBytes + (long) b * BLOCK_BYTES;
                out.set(Floats.I16_LE, o, scaleBits(r, b));
                for (int j = 0; j < BLOCK / 2; j++) out.set(ValueLayout.JAVA_BYTE, o + 2 + j, (byte) codeByte(r, b, j));
            }
        }
        return out;
    }

    @Override
    public String format() {
        return "q4_0";
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

    /** Both paths: one row's byte pairs are 2·TILE bytes apart, a gather the scalar loop does as well as any. */
    @Override
    protected void decodeReference(int r, int c0, int n, float[] out, int off) {
        for (int b = c0 / BLOCK, k = 0; k < n; b++, k += BLOCK) {
            float d = Float.float16ToFloat(scaleBits(r, b));
            for (int j = 0; j < BLOCK / 2; j++) {
                int p = codeByte(r, b, j);
                out[off + k + j] = ((p & 0x0F) - 8) * d;
                out[off + k + j + 16] = ((p >>> 4) - 8) * d;
            }
        }
    }

    /**
     * From two tokens on: the GEMM decodes whole tiles as its panels ({@link #decodeStrip}), while the row
     * path would gather each row's bytes one by one out of the tiles.
     */
    @Override
    public int gemmTokens() {
        return 2;
    }

    /**
     * A full tile as the GEMM's [k][NR] panel (NR = 2 · float lanes = TILE): each unit's TILE shorts hold
     * four columns of the tile's rows, already in panel order. The same float operations as
     * {@link #decodeReference}: (q - 8) · d.
     */
    @Override
    protected boolean decodeStrip(int r0, float[] out, int off) {
        if (r0 % tile != 0 || r0 + tile > rows) return false;
        VectorSpecies<Short> S = simd.shorts();
        VectorSpecies<Integer> I = simd.ints();
        VectorSpecies<Float> F = simd.floats();
        int H = I.length();   // tile / 2: rows 0 .. H - 1 come from part 0 of the widening, H .. tile - 1 from part 1
        int t = r0 / tile;
        long base = tileBase(t), blockBytes = (long) BLOCK_BYTES * tile, scales = 2L * tile, unit = 2L * tile;
        float[] d = new float[tile];
        for (int b = 0; b < nb; b++) {
            long blk = base + blockBytes * b;
            for (int k = 0; k < tile; k++) d[k] = Float.float16ToFloat(data.get(Floats.I16_LE, blk + 2L * k));
            FloatVector d0 = FloatVector.fromArray(F, d, 0), d1 = FloatVector.fromArray(F, d, H);
            for (int u = 0; u < UNITS; u++) {
                ShortVector v = ShortVector.fromMemorySegment(S, data, blk + scales + unit * u, ByteOrder.LITTLE_ENDIAN);
                IntVector p0 = (IntVector) v.convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0);
                IntVector p1 = (IntVector) v.convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 1);
                int c = off + tile * (BLOCK * b + u);   // panel offset of column 32b + u; the nibbles hold u, u + 16, u + 8, u + 24
                // the nibbles (q - 8) · d, no helper method: one compiled on its own boxes its vector arguments
                IntVector n0 = p0.and(0x0F), n1 = p1.and(0x0F);
                ((FloatVector) n0.sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(d0).intoArray(out, c);
                ((FloatVector) n1.sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(d1).intoArray(out, c + H);
                n0 = p0.lanewise(VectorOperators.LSHR, 4).and(0x0F);
                n1 = p1.lanewise(VectorOperators.LSHR, 4).and(0x0F);
                ((FloatVector) n0.sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(d0).intoArray(out, c + tile * 16);
                ((FloatVector) n1.sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(d1).intoArray(out, c + tile * 16 + H);
                n0 = p0.lanewise(VectorOperators.LSHR, 8).and(0x0F);
                n1 = p1.lanewise(VectorOperators.LSHR, 8).and(0x0F);
                ((FloatVector) n0.sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(d0).intoArray(out, c + tile * 8);
                ((FloatVector) n1.sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(d1).intoArray(out, c + tile * 8 + H);
                n0 = p0.lanewise(VectorOperators.LSHR, 12);
                n1 = p1.lanewise(VectorOperators.LSHR, 12);
                ((FloatVector) n0.sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(d0).intoArray(out, c + tile * 24);
                ((FloatVector) n1.sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(d1).intoArray(out, c + tile * 24 + H);
            }
        }
        return true;
    }

    /**
     * Row r · the int8 activations: sum over blocks of (sum_j (q_j - 8) · qa_j) · (d_w · d_a), each block's
     * exact int sum converted once and added in block order (ggml_vec_dot_q4_0_q8_0). The scalar
     * reference; the tile kernel performs the same float operations per row, so it matches bit for bit
     * at every width.
     */
    @Override
    float dotReference(int r, ActivationQ8 a) {
        short[] q = a.q;
        float[] sa = a.scale;
        float s = 0f;
        for (int b = 0; b < nb; b++) {
            int sumi = 0;
            for (int j = 0; j < BLOCK / 2; j++) {
                int p = codeByte(r, b, j);
                sumi += ((p & 0x0F) - 8) * q[b * BLOCK + j] + ((p >>> 4) - 8) * q[b * BLOCK + j + 16];
            }
            s += sumi * (Float.float16ToFloat(scaleBits(r, b)) * sa[b]);
        }
        return s;
    }

    /**
     * Full tiles run the tile kernel two at a time (each coefficient load serves both). A tile left
     * alone, at the end of a range or cut by r0 or r1, runs through the same kernel paired with itself
     * (its second read comes from cache) and only its rows in range are stored, so two threads sharing
     * a tile get bit-identical rows. The partial last tile (and scales that are not all finite) take the
     * row dots.
     */
    @Override
    void decodeRows(ActivationQ8 a, float[] y, int r0, int r1) {
        if (!finiteScales) {
            for (int r = r0; r < r1; r++) y[r] = dotReference(r, a);
            return;
        }
        int fullTiles = rows / tile;
        short[] c = a.q4Coefficients(tile);
        float[] sums = new float[2 * tile], cut = null;   // per call, not per tile: the kernel's scratch
        short[] lanes = new short[2 * tile];
        for (int t = r0 / tile; t * tile < r1; t++) {
            int lo = Math.max(r0, t * tile), hi = Math.min(r1, (t + 1) * tile);
            if (t >= fullTiles) {
                for (int r = lo; r < hi; r++) y[r] = dotReference(r, a);
            } else if (hi - lo == tile && t + 1 < fullTiles && (t + 2) * tile <= r1) {
                tilePairDot(simd, data, nb, tileBase(t), tileBase(t + 1), c, a.q4Offset, a.scale, lanes, sums, y, t * tile);
                t++;
            } else {
                if (cut == null) cut = new float[2 * tile];
                tilePairDot(simd, data, nb, tileBase(t), tileBase(t), c, a.q4Offset, a.scale, lanes, sums, cut, 0);
                System.arraycopy(cut, lo - t * tile, y, lo, hi - lo);
            }
        }
    }

    /**
     * Rows of the full tiles at baseA then baseB (TILE each) · a, into out[off, off + 2·TILE); lanes
     * (2·TILE shorts) and sums (2·TILE floats) are the caller's scratch. Each coefficient load serves both
     * tiles. Short lane k of a tile sums row k's (q - 8) · qa over a block. A unit's lane is v = n0 + 16 n1
     * + 256 n2 + 4096 n3 (the nibbles of columns c0..c3 = u, u + 16, u + 8, u + 24), so v >>> 4i = sum over
     * m >= i of 16^(m - i) n_m, and with the coefficients of {@link ActivationQ8#q4Coefficients}
     * (C0 = qa(c0), Ci = qa(ci) - 16 qa(c(i-1))) the sum over i of Ci · (v >>> 4i) telescopes to sum over
     * m of n_m · qa(c_m): three shifts and four multiplies per 4·TILE products, no masks. The lanes start
     * at -8 · sum(qa) and may wrap around 16 bits on the way, but only additions and multiplications mod
     * 2^16 are involved, so the final lane is the exact sum, which fits: |sum| <= 32 · 8 · 127 = 32512.
     * Each row then adds sum · (d_w · d_a) per block, in block order: the scalar reference's float
     * operations.
     *
     * <p>The shape of this method is what keeps C2 reliable. The unit loop is not a counted loop (its exit
     * tests u & 7), so C2 does not unroll it (unrolled, it spilled registers). Everything is in this one
     * method, with the row sums kept in memory rather than in vectors carried around the block loop:
     * helper methods got compiled on their own, grew past C2's inlining size and then boxed their vector
     * arguments, and carried vectors once sat in a boxing fallback. The fold reads the lane sums back
     * from {@code lanes}, one loop body for both tiles.
     */
    private static void tilePairDot(Simd simd, MemorySegment data, int nb, long baseA, long baseB, short[] c, short[] offset8, float[] sa,
                                    short[] lanes, float[] sums, float[] out, int off) {
        VectorSpecies<Short> S = simd.shorts();
        VectorSpecies<Integer> I = simd.ints();
        VectorSpecies<Float> F = simd.floats();
        int tile = S.length(), H = tile / 2;
        long blockBytes = (long) BLOCK_BYTES * tile, scales = 2L * tile, unit = 2L * tile;
        for (int i = 0; i < 2 * tile; i++) sums[i] = 0f;
        for (int b = 0; b < nb; b++) {
            ShortVector a0 = ShortVector.broadcast(S, offset8[b]), a1 = ShortVector.zero(S), b0 = a0, b1 = a1;
            long oA = baseA + blockBytes * b + scales, oB = baseB + blockBytes * b + scales;
            int x = BLOCK * tile * b;
            int u = 0;
            do {   // not a counted loop (exit test on u & 7): C2 does not unroll it, which spilled
                ShortVector va = ShortVector.fromMemorySegment(S, data, oA + unit * u, ByteOrder.LITTLE_ENDIAN);
                ShortVector vb = ShortVector.fromMemorySegment(S, data, oB + unit * u, ByteOrder.LITTLE_ENDIAN);
                int xu = x + 4 * tile * u;
                ShortVector c0 = ShortVector.fromArray(S, c, xu), c1 = ShortVector.fromArray(S, c, xu + tile);
                a0 = a0.add(va.mul(c0));
                b0 = b0.add(vb.mul(c0));
                a1 = a1.add(va.lanewise(VectorOperators.LSHR, 4).mul(c1));
                b1 = b1.add(vb.lanewise(VectorOperators.LSHR, 4).mul(c1));
                ShortVector c2 = ShortVector.fromArray(S, c, xu + 2 * tile), c3 = ShortVector.fromArray(S, c, xu + 3 * tile);
                a0 = a0.add(va.lanewise(VectorOperators.LSHR, 8).mul(c2));
                b0 = b0.add(vb.lanewise(VectorOperators.LSHR, 8).mul(c2));
                a1 = a1.add(va.lanewise(VectorOperators.LSHR, 12).mul(c3));
                b1 = b1.add(vb.lanewise(VectorOperators.LSHR, 12).mul(c3));
                u++;
            } while ((u & 7) != 0);
            a0.add(a1).intoArray(lanes, 0);
            b0.add(b1).intoArray(lanes, tile);
            float da = sa[b];
            // Fold, once per tile, from the lane sums stored above (every conversion names its species, so it
            // is a constant when C2 parses the call): the TILE short sums read as TILE/2 ints, each holding rows
            // 2k (low half) and 2k + 1 (high half), split by sign-extending shifts; the TILE f16 scales read the
            // same way and turned into floats exactly as Float.float16ToFloat for finite values (checked at
            // construction): exponent and mantissa moved into a float (exponent 112 too small, f16 subnormals
            // becoming float subnormals), times 2^112, which is exact, then the sign.
            for (int k = 0; k < 2; k++) {
                long blk = (k == 0 ? baseA : baseB) + blockBytes * b;
                IntVector sum = (IntVector) ShortVector.fromArray(S, lanes, tile * k).reinterpretShape(I, 0);
                FloatVector sumEven = (FloatVector) sum.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).convertShape(VectorOperators.I2F, F, 0);
                FloatVector sumOdd = (FloatVector) sum.lanewise(VectorOperators.ASHR, 16).convertShape(VectorOperators.I2F, F, 0);
                IntVector h = IntVector.fromMemorySegment(I, data, blk, ByteOrder.LITTLE_ENDIAN);
                FloatVector dEven = (FloatVector) ((IntVector) ((FloatVector) h.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretShape(F, 0)).mul(0x1p112f)
                        .reinterpretShape(I, 0)).or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretShape(F, 0);
                FloatVector dOdd = (FloatVector) ((IntVector) ((FloatVector) h.lanewise(VectorOperators.LSHR, 3).and(0x7fff << 13).reinterpretShape(F, 0)).mul(0x1p112f)
                        .reinterpretShape(I, 0)).or(h.and(0x80000000)).reinterpretShape(F, 0);
                FloatVector.fromArray(F, sums, tile * k).add(sumEven.mul(dEven.mul(da))).intoArray(sums, tile * k);
                FloatVector.fromArray(F, sums, tile * k + H).add(sumOdd.mul(dOdd.mul(da))).intoArray(sums, tile * k + H);
            }
        }
        for (int k = 0; k < 2; k++) {
            for (int i = 0; i < H; i++) {
                out[off + tile * k + 2 * i] = sums[tile * k + i];
                out[off + tile * k + 2 * i + 1] = sums[tile * k + H + i];
            }
        }
    }

    /** ggml q4_0: as stored when Q4_0 (GGUF), else quantized with ggml's reference rounding. */
    public static final WeightFormat FORMAT = new DTypeFormat("q4_0", DType.Q4_0) {
        @Override
        public RowMatrix quantize(Tensor t, Simd simd) {
            RowMatrix m = Matrices.of(t, simd);
            return m instanceof Q4_0Matrix ? m : Q4_0Matrix.quantize(m, simd);
        }

        @Override
        MemorySegment bytes(RowMatrix m) {
            return ((Q4_0Matrix) m).ggmlBytes();
        }
    };
}
