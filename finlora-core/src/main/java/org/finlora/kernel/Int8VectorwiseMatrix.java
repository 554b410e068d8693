package org.finlora.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.finlora.FinloraException;
import org.finlora.quant.BnbTensors;
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
 * bnb's mixed int8/16-bit semantics (see {@link LlmInt8}): the activations of each call are quantized
 * row-wise, outlier columns (|x| > threshold) run in 16 bits.
 *
 * <p>The int8 x int8 products are exact in every kernel: the scalar reference sums ints; the vector
 * kernel sums the integer-valued floats of one 512-column tile with FMA (|partial| &le; 512*127*127
 * &lt; 2^24, so every partial is an exact integer) and adds tiles as ints; decode (T = 1) multiplies in
 * short lanes instead ({@link #rowDotInt16}). All give the same int32 sums, hence bit-identical
 * outputs at every width. The input gradient is dx += dy (CB * SCB / 127), as bnb's backward, through
 * the shared dequantizing kernels.
 */
public final class Int8VectorwiseMatrix extends RowMatrix {
    public final float threshold;
    private final MemorySegment cb;
    private final float[] scb;
    private final float[] rowScale;

    private Int8VectorwiseMatrix(int rows, int cols, MemorySegment cb, float[] scb, float threshold, Simd simd) {
        super(rows, cols, simd);
        this.cb = cb;
        this.scb = scb;
        this.threshold = threshold;
        this.rowScale = new float[rows];
        for (int r = 0; r < rows; r++) rowScale[r] = LlmInt8.rowScale(scb[r]);
    }

    public static Int8VectorwiseMatrix quantize(Tensor t, float threshold, Simd simd) {
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
        return new Int8VectorwiseMatrix(rows, cols, seg, scb, threshold, simd);
    }

    /** From bnb's stored form (read by {@link BnbTensors#read8bit}). */
    public static Int8VectorwiseMatrix fromBnb(BnbTensors.EightBit w, float threshold, Simd simd) {
        int rows = w.rows(), cols = w.cols();
        if ((long) rows * cols != w.cb().length) {
            throw new FinloraException(w.name() + ": weight has " + w.cb().length + " int8 values, shape [" + rows + ", " + cols + "] needs " + (long) rows * cols);
        }
        if (w.scb().length != rows) throw new FinloraException(w.name() + ": SCB has " + w.scb().length + " entries, expected " + rows);
        MemorySegment seg = Arena.ofAuto().allocate(w.cb().length, 64);
        MemorySegment.copy(w.cb(), 0, seg, ValueLayout.JAVA_BYTE, 0, w.cb().length);
        return new Int8VectorwiseMatrix(rows, cols, seg, w.scb().clone(), threshold, simd);
    }

    /** This weight in bnb's stored form (for {@link BnbTensors#write8bit}). */
    public BnbTensors.EightBit toBnb(String name) {
        return new BnbTensors.EightBit(name, rows, cols, cb.toArray(ValueLayout.JAVA_BYTE), scb.clone());
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
    protected void decodeReference(int r, int c0, int len, float[] dst, int off) {
        long base = (long) r * cols + c0;
        float s = rowScale[r];
        for (int k = 0; k < len; k++) dst[off + k] = cb.get(ValueLayout.JAVA_BYTE, base + k) * s;
    }

    @Override
    protected void decode(int r, int c0, int len, float[] dst, int off) {
        codesAsFloats(r, c0, len, dst, off);
        float s = rowScale[r];
        for (int k = 0; k < len; k++) dst[off + k] *= s;
    }

    /** The raw codes of W[r, c0, c0+len) as floats. */
    private void codesAsFloats(int r, int c0, int len, float[] dst, int off) {
        VectorSpecies<Byte> FB = simd.floatBytes();
        VectorSpecies<Float> F = simd.floats();
        int L = F.length(), parts = simd.floatPartsPerByteLoad(), step = FB.length();
        long base = (long) r * cols + c0;
        int k = 0;
        for (; k + step <= len; k += step) {
            ByteVector bv = ByteVector.fromMemorySegment(FB, cb, base + k, ByteOrder.LITTLE_ENDIAN);
            for (int p = 0; p < parts; p++) ((FloatVector) bv.convertShape(VectorOperators.B2F, F, p)).intoArray(dst, off + k + p * L);
        }
        for (; k < len; k++) dst[off + k] = cb.get(ValueLayout.JAVA_BYTE, base + k);
    }

    /** Activations quantized once per call. */
    private record Acts(float[] ca, float[] rowmax, int[] outlierCols) {
    }

    private Acts quantizeActs(float[] x, int T) {
        float[] ca = new float[T * cols];
        float[] rowmax = new float[T];
        boolean[] outlier = new boolean[cols];
        int nOut = LlmInt8.quantizeActivations(x, T, cols, threshold, ca, rowmax, outlier);
        int[] oc = new int[nOut];
        for (int c = 0, j = 0; c < cols; c++) if (outlier[c]) oc[j++] = c;
        return new Acts(ca, rowmax, oc);
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
    public void matmulReference(float[] x, float[] y, int T) {
        checkSizes(x, y, T, "x", "y");
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
    public void matmul(float[] x, float[] y, int T) {
        checkSizes(x, y, T, "x", "y");
        if (!simd.vector()) {
            matmulReference(x, y, T);
            return;
        }
        Acts a = quantizeActs(x, T);
        Parallel.forRange(rows, Parallel.minChunk(T == 1 ? 16 : ROW_GROUP, (long) cols * T), (r0, r1) -> rowsOf(a, x, y, T, r0, r1));
    }

    /** The rows [r0, r1) alone (several matrices of one input share a parallel region): this matrix's semantics, activations quantized for the range. */
    @Override
    void matmulRows(float[] x, float[] y, int T, int r0, int r1) {
        rowsOf(quantizeActs(x, T), x, y, T, r0, r1);
    }

    /** T = 1: each row's int32 dot in short lanes; else the int codes of 4-row groups as floats through the small-T register tile. */
    private void rowsOf(Acts a, float[] x, float[] y, int T, int r0, int r1) {
        if (T == 1) {
            short[] qa = new short[cols];
            for (int c = 0; c < cols; c++) qa[c] = (short) a.ca[c];
            int[] acc = new int[1];
            for (int r = r0; r < r1; r++) {
                acc[0] = rowDotInt16(r, qa);
                finish(x, y, 1, a, r, acc, 1, 0);
            }
            return;
        }
        int tile = Math.min(COL_TILE, cols);
        float[] w = new float[ROW_GROUP * tile];
        float[] part = new float[T * ROW_GROUP];
        int[] acc = new int[T * ROW_GROUP];
        for (int g = r0; g < r1; g += ROW_GROUP) {
            int nr = Math.min(ROW_GROUP, r1 - g);
            Arrays.fill(acc, 0);
            for (int c0 = 0; c0 < cols; c0 += tile) {
                int len = Math.min(tile, cols - c0);
                for (int i = 0; i < ROW_GROUP; i++) {
                    if (i < nr) codesAsFloats(g + i, c0, len, w, i * tile);
                    else Arrays.fill(w, i * tile, i * tile + len, 0f);
                }
                Arrays.fill(part, 0f);
                Dot.rowTile(simd, a.ca, part, T, w, tile, c0, len, cols, ROW_GROUP, 0, nr);
                for (int j = 0; j < part.length; j++) acc[j] += (int) part[j];
            }
            for (int i = 0; i < nr; i++) finish(x, y, T, a, g + i, acc, ROW_GROUP, i);
        }
    }

    /**
     * sum_c qa[c] · CB[r, c] exactly: per 2·S columns (S short lanes), two short-lane products
     * (|CB · qa| <= 128 · 127) added in shorts (<= 32512 < 2^15), then each pair of short lanes summed
     * into an int lane, as Q8_0's block products.
     */
    int rowDotInt16(int r, short[] qa) {
        VectorSpecies<Short> S = simd.shorts();
        VectorSpecies<Byte> HB = simd.halfBytes();
        VectorSpecies<Integer> I = simd.ints();
        int SL = S.length();
        long base = (long) r * cols;
        IntVector acc = IntVector.zero(I);
        int c = 0;
        for (; c + 2 * SL <= cols; c += 2 * SL) {
            ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(HB, cb, base + c, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2S, S, 0);
            ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(HB, cb, base + c + SL, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2S, S, 0);
            IntVector v = w0.mul(ShortVector.fromArray(S, qa, c)).add(w1.mul(ShortVector.fromArray(S, qa, c + SL))).reinterpretAsInts();
            acc = acc.add(v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(v.lanewise(VectorOperators.ASHR, 16));
        }
        int s = acc.reduceLanes(VectorOperators.ADD);   // int addition: the same sum in any order
        for (; c < cols; c++) s += qa[c] * cb.get(ValueLayout.JAVA_BYTE, base + c);
        return s;
    }

    /** LLM.int8 with bitsandbytes' default outlier threshold 6. */
    public static final WeightFormat FORMAT = new Format(LlmInt8.DEFAULT_THRESHOLD);

    /** The traits of int8: option threshold; stored as bitsandbytes' Linear8bitLt state dict (CB, SCB). */
    public record Format(float threshold) implements WeightFormat {
        @Override
        public String name() {
            return "int8";
        }

        @Override
        public String spec() {
            return "int8:threshold=" + threshold;
        }

        @Override
        public String options() {
            return "threshold=X (6.0; 0 disables the 16-bit outlier columns)";
        }

        @Override
        public WeightFormat with(String key, String value) {
            if (!key.equals("threshold")) return WeightFormat.super.with(key, value);
            float th;
            try {
                th = Float.parseFloat(value);
            } catch (NumberFormatException e) {
                throw new FinloraException("--quant int8: threshold must be a number, got \"" + value + "\"");
            }
            if (!(th >= 0f) || Float.isInfinite(th)) throw new FinloraException("--quant int8: threshold must be finite and >= 0 (0 disables outliers)");
            return new Format(th);
        }

        @Override
        public RowMatrix quantize(Tensor t, Simd simd) {
            return Int8VectorwiseMatrix.quantize(WeightFormats.floatTensor(t), threshold, simd);
        }

        /** A Linear8bitLt group (I8 CB + SCB); the outlier threshold is the folder's llm_int8_threshold (bnb's 6.0 when absent). */
        @Override
        public RowMatrix load(StoredWeights src, String name, Simd simd) {
            Tensor t = src.tensor(name);
            if (t == null || t.dtype() != org.finlora.tensor.DType.I8 || !BnbTensors.is8bit(src.tensors(), name)) return null;
            float th = LlmInt8.DEFAULT_THRESHOLD;
            var q = src.quantizationConfig();
            if (q != null && q.has("llm_int8_threshold")) {
                var v = q.get("llm_int8_threshold");
                if (!v.isNumber() || !(v.asDouble() >= 0) || Double.isInfinite(v.asDouble())) {
                    throw new FinloraException(src.source() + "/config.json: quantization_config.llm_int8_threshold must be a number >= 0, got " + v);
                }
                th = (float) v.asDouble();
            }
            return fromBnb(BnbTensors.read8bit(src.tensors(), name), th, simd);
        }

        @Override
        public java.util.Map<String, Tensor> store(RowMatrix m, String name, String dtype) {
            return BnbTensors.write8bit(name, ((Int8VectorwiseMatrix) m).toBnb(name));
        }
    }
}
