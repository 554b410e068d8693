package org.finlora.kernel;

import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;
import org.finlora.tensor.WeightMatrix;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The weight-format contract at every vector width, whatever the host: every registered format (and a
 * few option variants) is built at 128, 256 and 512 bits (a width the host lacks runs emulated by the
 * JVM: slow, exact) and its kernels are checked against its scalar reference and a dense double-precision
 * product: the vector decode of spans bit for bit, the forward at T = 1, 2, 5 and 65 (decode, small-T
 * tiles, the GEMM with token blocks and edge tiles), the input gradient at the same T, on odd shapes and
 * on one shape past every tile and panel boundary. The codes must not depend on the width (the layout
 * may). Surefire runs the "widths" tests in a JVM of their own: their mix of widths leaves the kernels'
 * call sites megamorphic, which would slow every test after them.
 */
@Tag("widths")
class WidthContractTest {
    static final Simd[] WIDTHS = {Simd.BITS_128, Simd.BITS_256, Simd.BITS_512};
    static final int[] TOKENS = {1, 2, 5, 65};

    /** Every registered format with its defaults, and option variants whose layouts differ. */
    static List<WeightFormat> formats() {
        List<WeightFormat> fs = new ArrayList<>(WeightFormats.all());
        for (String v : new String[]{"nf4:blocksize=32", "fp4:double-quant=false,blocksize=128", "int8:threshold=0", "int8-block:blocksize=8",
                "rtn4:group-size=32", "rtn3:group-size=48"}) {
            fs.add(WeightFormats.parse(v));
        }
        return fs;
    }

    /** Formats whose rows are whole 32-weight blocks. */
    static boolean blockCols(WeightFormat f) {
        return f.name().equals("q8_0") || f.name().equals("q4_0");
    }

    static Tensor tensor(int rows, int cols, long seed) {
        Random rnd = new Random(seed);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextGaussian() * 0.05);
        return new Tensor("w", DType.F32, new long[]{rows, cols}, MemorySegment.ofArray(v));
    }

    static float[] random(int n, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }

    @TestFactory
    List<DynamicTest> everyFormatAtEveryWidth() {
        List<DynamicTest> tests = new ArrayList<>();
        for (WeightFormat f : formats()) {
            List<int[]> shapes = new ArrayList<>(List.of(new int[]{37, 96}, new int[]{19, 160}));
            if (!blockCols(f)) {
                shapes.add(new int[]{37, 101});   // no whole groups or blocks: tails everywhere, bnb blocks across row ends
                shapes.add(new int[]{5, 7});
            }
            if (f.name().equals("f32") || f.name().equals("q4_0") || f.name().equals("nf4") || f.name().equals("q8_0")) {
                shapes.add(new int[]{150, 1056});   // past 128-row and 256-column panels, 512-column tiles, 512-deep K slices
            }
            for (int[] s : shapes) {
                tests.add(DynamicTest.dynamicTest(f.spec() + " [" + s[0] + "x" + s[1] + "]", () -> check(f, s[0], s[1])));
            }
        }
        return tests;
    }

    private static void check(WeightFormat f, int rows, int cols) {
        Tensor t = tensor(rows, cols, 31L * rows + cols);
        RowMatrix ref = f.quantize(t, Simd.SCALAR);
        assertEquals(f.name(), ref.format(), f.spec() + ": format name");
        double[][] dense = new double[rows][cols];
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            ref.dequantizeRow(r, row, 0);
            for (int c = 0; c < cols; c++) dense[r][c] = row[c];
        }
        for (Simd simd : WIDTHS) {
            String what = f.spec() + " at " + simd + " [" + rows + "x" + cols + "]";
            RowMatrix m = f.quantize(t, simd);
            checkDecode(m, dense, what);
            for (int T : TOKENS) {
                checkForward(f, m, dense, T, what + " T=" + T);
                checkInputGradient(m, dense, T, what + " T=" + T);
            }
        }
        // the scalar references, checked once, at the width that runs them
        for (int T : TOKENS) {
            checkForward(f, ref, dense, T, f.spec() + " scalar T=" + T);
            checkInputGradient(ref, dense, T, f.spec() + " scalar T=" + T);
        }
    }

    /** decode of whole rows and of block-aligned spans equals decodeReference and the width-free codes, bit for bit. */
    private static void checkDecode(RowMatrix m, double[][] dense, String what) {
        int align = m.blockAlign(), cols = m.cols;
        float[] a = new float[cols + 2], b = new float[cols + 2];
        for (int r = 0; r < m.rows; r++) {
            int[][] spans = {{0, cols}, {align, cols - align}, {0, Math.min(cols, 2 * align)}};
            for (int[] sp : spans) {
                if (sp[1] <= 0) continue;
                m.decode(r, sp[0], sp[1], a, 1);
                m.decodeReference(r, sp[0], sp[1], b, 1);
                for (int k = 0; k < sp[1]; k++) {
                    assertEquals(Float.floatToRawIntBits(b[1 + k]), Float.floatToRawIntBits(a[1 + k]), what + ": decode row " + r + " col " + (sp[0] + k));
                    assertEquals(dense[r][sp[0] + k], b[1 + k], 0.0, what + ": codes differ from the scalar-width matrix at row " + r + " col " + (sp[0] + k));
                }
            }
        }
    }

    /** int8 activations (ggml decode) and LLM.int8's quantized activations are the format's semantics, not an approximation. */
    private static boolean quantizedActivations(WeightFormat f, int T) {
        return f.name().equals("int8") || T == 1 && blockCols(f);
    }

    private static void checkForward(WeightFormat f, RowMatrix m, double[][] dense, int T, String what) {
        int R = m.rows, K = m.cols;
        float[] x = random(T * K, 100 + T);
        if (f.name().equals("int8")) x[3] = 9f;   // an outlier column for LLM.int8's 16-bit path (threshold 6)
        float[] y = random(T * R, 7), yRef = new float[T * R];   // y holds garbage: matmul overwrites
        m.matmul(x, y, T);
        m.matmulReference(x, yRef, T);
        boolean exact = f.name().equals("int8") || T == 1 && f.name().equals("q4_0");
        for (int t = 0; t < T; t++) {
            for (int r = 0; r < R; r++) {
                double s = 0, mag = 0;
                for (int c = 0; c < K; c++) {
                    s += x[t * K + c] * dense[r][c];
                    mag += Math.abs(x[t * K + c] * dense[r][c]);
                }
                double tol = 1e-5 * mag + 1e-6;
                int i = t * R + r;
                if (exact) assertEquals(Float.floatToRawIntBits(yRef[i]), Float.floatToRawIntBits(y[i]), what + ": y[" + t + "," + r + "] not bit-exact");
                else assertEquals(yRef[i], y[i], tol, what + ": y[" + t + "," + r + "] against the scalar reference");
                // the reference itself: the plain product, or within the activation rounding of the quantized-activation semantics
                double refTol = quantizedActivations(f, T) ? 0.02 * mag + 1e-5 : tol;
                assertEquals(s, yRef[i], refTol, what + ": reference y[" + t + "," + r + "] against the dense product");
            }
        }
    }

    private static void checkInputGradient(RowMatrix m, double[][] dense, int T, String what) {
        int R = m.rows, K = m.cols;
        float[] dy = random(T * R, 200 + T), dx0 = random(T * K, 300 + T);
        dy[0] = 0f;
        float[] dx = dx0.clone(), dxRef = dx0.clone();
        m.matmulTransposed(dy, dx, T);
        m.matmulTransposedReference(dy, dxRef, T);
        for (int t = 0; t < T; t++) {
            for (int c = 0; c < K; c++) {
                double s = dx0[t * K + c], mag = Math.abs(s);
                for (int r = 0; r < R; r++) {
                    s += dy[t * R + r] * dense[r][c];
                    mag += Math.abs(dy[t * R + r] * dense[r][c]);
                }
                double tol = 1e-5 * mag + 1e-6;
                int i = t * K + c;
                assertEquals(dxRef[i], dx[i], tol, what + ": dx[" + t + "," + c + "] against the scalar reference");
                assertEquals(s, dxRef[i], tol, what + ": reference dx[" + t + "," + c + "] against the dense product");
            }
        }
    }

    /** q4_0's decode matches its scalar reference bit for bit at every width, also for row ranges that cut tiles. */
    @Test
    void q4_0DecodeIsBitExactOnCutRanges() {
        int cols = 65 * 32;
        for (Simd simd : WIDTHS) {
            for (int rows : new int[]{16, 37, 48, 80, 97}) {
                RowMatrix m = Q4_0Matrix.FORMAT.quantize(tensor(rows, cols, rows), simd);
                float[] x = random(cols, rows + 1);
                float[] ref = new float[rows];
                m.decodeRowsReference(x, ref, 0, rows);
                for (int[] range : new int[][]{{0, rows}, {3, rows - 5}, {rows / 2, rows}, {1, 2}}) {
                    if (range[0] >= range[1]) continue;
                    float[] y = new float[rows];
                    m.decodeRows(x, y, range[0], range[1]);
                    for (int r = range[0]; r < range[1]; r++) {
                        assertEquals(Float.floatToRawIntBits(ref[r]), Float.floatToRawIntBits(y[r]),
                                "q4_0 at " + simd + ", " + rows + " rows, range " + range[0] + ".." + range[1] + ", row " + r);
                    }
                }
            }
        }
    }

    /** Several matrices of one input in one parallel region give the bits of separate products, at every width. */
    @Test
    void sameInputMatmulsEqualSeparateOnes() {
        for (Simd simd : WIDTHS) {
            RowMatrix a = Q8_0Matrix.FORMAT.quantize(tensor(37, 96, 1), simd), b = F32Matrix.FORMAT.quantize(tensor(200, 96, 2), simd);
            RowMatrix c = Q4_0Matrix.FORMAT.quantize(tensor(41, 96, 3), simd), d = Bnb4bitMatrix.NF4.quantize(tensor(23, 96, 4), simd);
            RowMatrix[] ms = {a, b, c, d};
            for (int T : new int[]{1, 2, 5, 65}) {
                float[] x = random(T * 96, 4);
                float[][] fused = new float[ms.length][];
                for (int i = 0; i < ms.length; i++) fused[i] = new float[T * ms[i].rows];
                Matmuls.sameInput(ms, x, fused, T);
                for (int i = 0; i < ms.length; i++) {
                    float[] y = new float[T * ms[i].rows];
                    ms[i].matmul(x, y, T);
                    for (int j = 0; j < y.length; j++) {
                        assertEquals(Float.floatToRawIntBits(y[j]), Float.floatToRawIntBits(fused[i][j]), simd + " matrix " + i + " T " + T + " at " + j);
                    }
                }
            }
        }
    }

    /** The dense kernels (attention, softmax, RMSNorm, SwiGLU) at every width against their scalar references. */
    @Test
    void denseKernelsAtEveryWidth() {
        for (Simd simd : WIDTHS) {
            for (int n : new int[]{1, 7, 16, 33, 100}) {
                float[] x = random(n, n), xs = x.clone(), xv = x.clone();
                Activations.softmax(Simd.SCALAR, xs, 0, n);
                Activations.softmax(simd, xv, 0, n);
                for (int i = 0; i < n; i++) assertEquals(xs[i], xv[i], 1e-6f, simd + " softmax n=" + n);
                float[] w = random(n, n + 1), os = new float[n], ov = new float[n];
                RmsNorm.apply(Simd.SCALAR, x, 0, w, os, 0, n, 1e-5f);
                RmsNorm.apply(simd, x, 0, w, ov, 0, n, 1e-5f);
                for (int i = 0; i < n; i++) assertEquals(os[i], ov[i], 1e-5f * (1 + Math.abs(os[i])), simd + " rmsnorm n=" + n);
                float[] gs = x.clone(), gv = x.clone(), up = random(n, n + 2);
                Activations.siluMul(Simd.SCALAR, gs, up, n);
                Activations.siluMul(simd, gv, up, n);
                for (int i = 0; i < n; i++) assertEquals(Float.floatToRawIntBits(gs[i]), Float.floatToRawIntBits(gv[i]), simd + " silu n=" + n);
            }
            int nH = 4, nKv = 2, hd = 24, T = 5, pos = 11;
            float[] q = random(T * nH * hd, 1), k = random((pos + T) * nKv * hd, 2), v = random((pos + T) * nKv * hd, 3);
            float[] os = new float[T * nH * hd], ov = new float[T * nH * hd];
            Attention.forward(Simd.SCALAR, q, os, T, pos, k, v, nH, nKv, hd);
            Attention.forward(simd, q, ov, T, pos, k, v, nH, nKv, hd);
            for (int i = 0; i < os.length; i++) assertEquals(os[i], ov[i], 1e-5f, simd + " attention at " + i);
        }
    }

    /** The fixed-order lane sum: halves, then quarters, ... the same bits as that order written out in scalars. */
    @Test
    void hsumIsTheFixedOrderSum() {
        for (Simd simd : WIDTHS) {
            int L = simd.floatLanes();
            float[] v = new float[L];
            Random rnd = new Random(L);
            for (int trial = 0; trial < 100; trial++) {
                for (int i = 0; i < L; i++) v[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(8) - 4));
                float[] s = v.clone();
                for (int half = L / 2; half >= 1; half /= 2) {
                    float[] t = s.clone();
                    for (int i = 0; i < L; i++) t[i] = s[i] + s[i ^ half];
                    s = t;
                }
                float got = simd.hsum(jdk.incubator.vector.FloatVector.fromArray(simd.floats(), v, 0));
                assertEquals(Float.floatToRawIntBits(s[0]), Float.floatToRawIntBits(got), simd + " trial " + trial);
            }
        }
    }

    /** A weight matrix built for one width is not handed to kernels of another: products only see their own Simd. */
    @Test
    void everyFormatKeepsItsWidth() {
        for (Simd simd : WIDTHS) {
            for (WeightFormat f : WeightFormats.all()) {
                WeightMatrix m = f.quantize(tensor(16, 64, 5), simd);
                assertEquals(simd, ((RowMatrix) m).simd(), f.spec());
            }
        }
    }
}
