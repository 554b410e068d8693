package org.finlora.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.finlora.FinloraException;
import org.finlora.quant.LlmInt8;
import org.finlora.quant.TensorFloats;
import org.finlora.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * LLM.int8() weight (bnb load_in_8bit): CB int8 [rows, cols] and SCB f32 [rows]; the forward runs
 * bnb's mixed int8/16-bit semantics (see {@link LlmInt8}).
 *
 * <p>The int8 x int8 products are exact in both kernels: the scalar reference sums ints; the vector
 * kernel sums the integer-valued floats of one 512-column tile with FMA (|partial| &le; 512*127*127
 * &lt; 2^24, so every partial is an exact integer) and adds tiles as ints; decode (T = 1) multiplies in
 * 16 short lanes instead ({@link #rowDotInt16}). All give the same int32 sums, hence bit-identical
 * outputs. The input gradient is dx += dy (CB * SCB / 127), as bnb's backward.
 */
public final class Int8VectorwiseMatrix extends DequantMatrix {
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    static final boolean VECTOR_DECODE = VECTOR_ENABLED && FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256;

    public final float threshold;
    private final MemorySegment cb;
    private final float[] scb;
    private final float[] rowScale;

    private Int8VectorwiseMatrix(int rows, int cols, MemorySegment cb, float[] scb, float threshold) {
        super(rows, cols);
        this.cb = cb;
        this.scb = scb;
        this.threshold = threshold;
        this.rowScale = new float[rows];
        for (int r = 0; r < rows; r++) rowScale[r] = LlmInt8.rowScale(scb[r]);
    }

    public static Int8VectorwiseMatrix quantize(Tensor t, float threshold) {
        TensorFloats.checkFloat2d(t);
        int rows = t.rows(), cols = t.cols();
        MemorySegment seg = Arena.ofAuto().allocate((long) rows * cols, 64);
        float[] scb = new float[rows];
        float[] buf = new float[cols];
        byte[] q = new byte[cols];
        for (int r = 0; r < rows; r++) {
            TensorFloats.read(t, (long) r * cols, buf, cols);
            scb[r] = LlmInt8.quantizeRow(buf, 0, cols, q, 0);
            MemorySegment.copy(q, 0, seg, ValueLayout.JAVA_BYTE, (long) r * cols, cols);
        }
        return new Int8VectorwiseMatrix(rows, cols, seg, scb, threshold);
    }

    /** From bnb's tensors: CB int8 [rows, cols] row-major and SCB f32 [rows]. */
    public static Int8VectorwiseMatrix fromBnb(String name, int rows, int cols, byte[] cbBytes, float[] scb, float threshold) {
        if ((long) rows * cols != cbBytes.length) {
            throw new FinloraException(name + ": weight has " + cbBytes.length + " int8 values, shape [" + rows + ", " + cols + "] needs " + (long) rows * cols);
        }
        if (scb.length != rows) throw new FinloraException(name + ": SCB has " + scb.length + " entries, expected " + rows);
        MemorySegment seg = Arena.ofAuto().allocate(cbBytes.length, 64);
        MemorySegment.copy(cbBytes, 0, seg, ValueLayout.JAVA_BYTE, 0, cbBytes.length);
        return new Int8VectorwiseMatrix(rows, cols, seg, scb.clone(), threshold);
    }

    @Override
    public String format() {
        return "int8";
    }

    @Override
    public MemorySegment storage() {
        return cb;
    }

    @Override
    public long byteSize() {
        return (long) rows * cols + 4L * rows;
    }

    public int code(int r, int c) {
        return cb.get(ValueLayout.JAVA_BYTE, (long) r * cols + c);
    }

    public float scb(int r) {
        return scb[r];
    }

    @Override
    public void dequantize(int r, int c0, int len, float[] dst, int off) {
        long base = (long) r * cols + c0;
        float s = rowScale[r];
        for (int k = 0; k < len; k++) dst[off + k] = cb.get(ValueLayout.JAVA_BYTE, base + k) * s;
    }

    /** The raw codes of W[r, c0, c0+len) as floats. */
    private void codesAsFloats(int r, int c0, int len, float[] dst, int off) {
        long base = (long) r * cols + c0;
        int k = 0;
        if (VECTOR_DECODE) {
            for (; k + 8 <= len; k += 8) {
                ByteVector bv = ByteVector.fromMemorySegment(B8, cb, base + k, ByteOrder.LITTLE_ENDIAN);
                ((FloatVector) bv.convertShape(VectorOperators.B2F, F8, 0)).intoArray(dst, off + k);
            }
        }
        for (; k < len; k++) dst[off + k] = cb.get(ValueLayout.JAVA_BYTE, base + k);
    }

    @Override
    protected void dequantizeTile(int r, int c0, int len, float[] dst, int off) {
        codesAsFloats(r, c0, len, dst, off);
        float s = rowScale[r];
        for (int k = 0; k < len; k++) dst[off + k] *= s;
    }

    /** Activations quantized once per call. */
    private record Acts(float[] ca, float[] rowmax, boolean[] outlier, int[] outlierCols) {
    }

    private Acts quantizeActs(float[] x, int T) {
        float[] ca = new float[T * cols];
        float[] rowmax = new float[T];
        boolean[] outlier = new boolean[cols];
        int nOut = LlmInt8.quantizeActivations(x, T, cols, threshold, ca, rowmax, outlier);
        int[] oc = new int[nOut];
        for (int c = 0, j = 0; c < cols; c++) if (outlier[c]) oc[j++] = c;
        return new Acts(ca, rowmax, outlier, oc);
    }

    /** y[t, r] = float(acc) * (rowmax[t] * SCB[r]) * C, then + the 16-bit outlier columns. */
    private void finish(float[] x, float[] y, int T, Acts a, int r, int[] acc, int accStride, int accOff) {
        for (int t = 0; t < T; t++) {
            float v = (float) acc[t * accStride + accOff] * (a.rowmax[t] * scb[r]) * LlmInt8.MM_DEQUANT_SCALE;
            float o = 0f;
            for (int c : a.outlierCols) o += x[t * cols + c] * (code(r, c) * rowScale[r]);
            y[t * rows + r] = v + o;
        }
    }

    /** Scalar reference: int32 dot products of the quantized activations and CB. */
    @Override
    public void matmulScalar(float[] x, float[] y, int T) {
        Acts a = quantizeActs(x, T);
        Parallel.forRange(rows, 16, (start, end) -> {
            int[] acc = new int[T];
            for (int r = start; r < end; r++) {
                long base = (long) r * cols;
                for (int t = 0; t < T; t++) {
                    int s = 0;
                    for (int c = 0; c < cols; c++) s += (int) a.ca[t * cols + c] * cb.get(ValueLayout.JAVA_BYTE, base + c);
                    acc[t] = s;
                }
                finish(x, y, T, a, r, acc, 1, 0);
            }
        });
    }

    @Override
    public void matmulVector(float[] x, float[] y, int T) {
        if (T == 1 && VECTOR_DECODE) {
            matvecInt16(x, y);
            return;
        }
        Acts a = quantizeActs(x, T);
        int groups = (rows + ROW_GROUP - 1) / ROW_GROUP;
        Parallel.forRange(groups, 1, (g0, g1) -> {
            float[] w = new float[ROW_GROUP * tile];
            float[] part = new float[T * ROW_GROUP];
            int[] acc = new int[T * ROW_GROUP];
            for (int g = g0; g < g1; g++) {
                int r0 = g * ROW_GROUP, nr = Math.min(ROW_GROUP, rows - r0);
                Arrays.fill(acc, 0);
                for (int c0 = 0; c0 < cols; c0 += tile) {
                    int len = Math.min(tile, cols - c0);
                    for (int i = 0; i < ROW_GROUP; i++) {
                        if (i < nr) codesAsFloats(r0 + i, c0, len, w, i * tile);
                        else Arrays.fill(w, i * tile, i * tile + len, 0f);
                    }
                    Arrays.fill(part, 0f);
                    dotTile(a.ca, part, T, w, tile, c0, len, cols, ROW_GROUP, 0, nr);
                    for (int j = 0; j < part.length; j++) acc[j] += (int) part[j];
                }
                for (int i = 0; i < nr; i++) finish(x, y, T, a, r0 + i, acc, ROW_GROUP, i);
            }
        });
    }

    /**
     * Decode: the activation codes (|qa| <= 127, zero in outlier columns) as shorts once per call,
     * then each row's int32 dot in short lanes streams the row's int8 codes once.
     */
    private void matvecInt16(float[] x, float[] y) {
        Acts a = quantizeActs(x, 1);
        short[] qa = new short[cols];
        for (int c = 0; c < cols; c++) qa[c] = (short) a.ca[c];
        Parallel.forRange(rows, Parallel.minChunk(16, cols), (start, end) -> {
            int[] acc = new int[1];
            for (int r = start; r < end; r++) {
                acc[0] = rowDotInt16(r, qa);
                finish(x, y, 1, a, r, acc, 1, 0);
            }
        });
    }

    /**
     * sum_c qa[c] · CB[r, c] exactly: per 32 columns, two 16-lane short products (|CB · qa| <= 128 · 127)
     * added in shorts (<= 32512 < 2^15), then each pair of short lanes summed into an int lane.
     */
    int rowDotInt16(int r, short[] qa) {
        long base = (long) r * cols;
        IntVector acc = IntVector.zero(Vectors.I8);
        int c = 0;
        for (; c + 32 <= cols; c += 32) {
            // the q8_0 block product (Q8_0Matrix.blockInts) over a row: two 16-lane short products, then lane pairs into ints
            ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(Vectors.B16, cb, base + c, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2S, Vectors.S16, 0);
            ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(Vectors.B16, cb, base + c + 16, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2S, Vectors.S16, 0);
            IntVector v = w0.mul(ShortVector.fromArray(Vectors.S16, qa, c)).add(w1.mul(ShortVector.fromArray(Vectors.S16, qa, c + 16))).reinterpretAsInts();
            acc = acc.add(v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(v.lanewise(VectorOperators.ASHR, 16));
        }
        int s = acc.reduceLanes(VectorOperators.ADD);   // int addition: the same sum in any order
        for (; c < cols; c++) s += qa[c] * cb.get(ValueLayout.JAVA_BYTE, base + c);
        return s;
    }
}
