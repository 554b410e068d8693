package org.finlora.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.finlora.tensor.WeightMatrix;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The f32 products with many tokens on flat row-major arrays (training, and the prefill of inference): the frozen-weight products with many tokens
 * (forward y = x·Wᵀ and input gradient dx += dy·W, any WeightMatrix) and the small dense products
 * of the LoRA branch (rank-r sides). Each routine writes disjoint output elements per thread, so no
 * atomics are needed.
 *
 * <p>The frozen-weight products are a packed-panel GEMM, laid out as BLIS/OpenBLAS do: the token
 * rows are packed once per call into micro-panels [k][4], W is decoded once per call into 16-wide
 * panels [k][16] (per-thread scratch, GROUP panels per work unit), and a 4-token x 16-column
 * register tile (8 accumulators, one broadcast token value feeding two weight vectors) runs over
 * token blocks of {@link #MC} and K slices of {@link #KC}, so a panel slice serves a whole token
 * block from cache and each output tile is stored while it is still cached.
 */
public final class Gemm {
    private Gemm() {
    }

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
    /** Token rows and weight columns of the register tile. */
    static final int MR = 4, NR = 16;
    /**
     * Depth of one K slice. Per token block the L2 holds GROUP panel slices (4 x KC x 64 B = 256 KB)
     * and the block's token micro-panels (MC x KC x 4 B = 192 KB): under half of a 1 MB L2, so two
     * threads sharing one L2 still fit. Deep slices mean each C tile is loaded and stored K/KC times.
     */
    static final int KC = 1024;
    /** Panels (16-column strips) per work unit: they share every token micro-panel the unit loads. */
    private static final int GROUP = 4;
    /** Tokens per block (a multiple of MR). */
    static final int MC = 48;
    /**
     * From this many tokens the weights' own forward (RowMatrix and DequantMatrix formats) is this GEMM.
     * [2048 x 2048] per busy core: at T = 128 it beat the formats' tiles for f32, q8_0, q4_0 and nf4
     * (1.2-2.3x); at T = 32 it lost for nf4 (a panel's decode is paid back over too few tokens).
     */
    public static final int PREFILL_TOKENS = 64;
    /** Below this many tokens the weight's own kernels are used (decode-style shapes). */
    public static final int MIN_TOKENS = 16;
    /** The tile needs 8-lane float vectors in hardware; otherwise the weight's own kernels run. */
    public static final boolean ENABLED = DequantMatrix.VECTOR_ENABLED && FloatVector.SPECIES_PREFERRED.length() >= 8;

    /** Per-thread scratch of the panel GEMM, grown on demand and reused across calls. */
    private static final class Scratch {
        float[] panel = new float[0], row = new float[0], tokens = new float[0], tile = new float[MR * NR];

        float[] panel(int n) {
            if (panel.length < n) panel = new float[n];
            return panel;
        }

        float[] row(int n) {
            if (row.length < n) row = new float[n];
            return row;
        }

        float[] tokens(int n) {
            if (tokens.length < n) tokens = new float[n];
            return tokens;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** y[T, w.rows] = x[T, w.cols]·Wᵀ (overwrites y). */
    public static void matmul(WeightMatrix w, float[] x, float[] y, int T) {
        if (!ENABLED || T < MIN_TOKENS) {
            w.matmul(x, y, T);
            return;
        }
        panelMatmul(w, x, y, T);
    }

    /** dx[T, w.cols] += dy[T, w.rows]·W. */
    public static void matmulTransposed(WeightMatrix w, float[] dy, float[] dx, int T) {
        if (!ENABLED || T < MIN_TOKENS) {
            w.matmulTransposed(dy, dx, T);
            return;
        }
        panelMatmulTransposed(w, dy, dx, T);
    }

    /** The packed-panel forward regardless of T (tests compare it with the weight's own kernel). */
    static void panelMatmul(WeightMatrix w, float[] x, float[] y, int T) {
        int strips = (w.rows + NR - 1) / NR;
        Decoder dec = Decoder.of(w);
        float[] ap = packTokens(x, T, w.cols);
        forUnits(strips, (s0, s1) -> forwardStrips(dec, w.rows, w.cols, ap, y, T, s0, s1));
    }

    /** The packed-panel input gradient regardless of T. Parallel over 16-column strips of dx. */
    static void panelMatmulTransposed(WeightMatrix w, float[] dy, float[] dx, int T) {
        int strips = (w.cols + NR - 1) / NR;
        Decoder dec = Decoder.of(w);
        float[] ap = packTokens(dy, T, w.rows);
        forUnits(strips, (s0, s1) -> backwardStrips(dec, w.rows, w.cols, ap, dx, T, s0, s1));
    }

    /**
     * a[T, K] repacked as micro-panels of MR tokens, each [K][MR] (rows past T are 0), in the calling
     * thread's scratch. The tile then reads its MR token values for one k from one contiguous run:
     * no strided rows (row strides of 2^n floats put every row of a tile into the same cache sets)
     * and one running index instead of one per token row.
     */
    private static float[] packTokens(float[] a, int T, int K) {
        int panels = (T + MR - 1) / MR;
        float[] ap = SCRATCH.get().tokens(panels * K * MR);
        Parallel.forRange(panels, Parallel.minChunk(1, (long) K * MR), (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int o = p * K * MR;
                for (int i = 0; i < MR; i++) {
                    int t = p * MR + i;
                    if (t < T) {
                        int ao = t * K;
                        for (int k = 0; k < K; k++) ap[o + k * MR + i] = a[ao + k];
                    } else {
                        for (int k = 0; k < K; k++) ap[o + k * MR + i] = 0f;
                    }
                }
            }
        });
        return ap;
    }

    /**
     * Runs body over [0, strips) in units of GROUP strips handed out on demand: on a shared machine a
     * descheduled worker does not hold up the others at the join, as a static split would. Each
     * output element is still computed by one unit in a fixed order, so results do not depend on
     * which thread ran it.
     */
    private static void forUnits(int strips, Parallel.RangeBody body) {
        int units = (strips + GROUP - 1) / GROUP;
        AtomicInteger next = new AtomicInteger();
        Parallel.forRange(Math.min(units, Parallel.threads()), 1, (w0, w1) -> {
            for (int u = next.getAndIncrement(); u < units; u = next.getAndIncrement()) {
                body.run(u * GROUP, Math.min(strips, (u + 1) * GROUP));
            }
        });
    }

    /** y[t, rows of strips s0..s1) = x[t]·Wᵀ over those rows; ap is x packed by packTokens. */
    private static void forwardStrips(Decoder dec, int R, int K, float[] ap, float[] y, int T, int s0, int s1) {
        Scratch sc = SCRATCH.get();
        // panel s holds W[rows of strip s0+s, all k] as [k][16]. The strip's rows are decoded into rows16
        // first, then copied over k with each panel line written whole: writing each decoded row straight
        // into the panel stored one float per cache line, sixteen times over. Rows sit ld = K + 16 floats
        // apart, not K: at K = 2^n the sixteen rows would map to the same L1 sets and evict one another.
        int ld = K + NR;
        float[] rows16 = sc.row(NR * ld), bp = sc.panel((s1 - s0) * K * NR);
        for (int s = 0; s < s1 - s0; s++) {
            int pOff = s * K * NR;
            if (dec.strip((s0 + s) * NR, bp, pOff)) continue;   // the format writes the [k][16] panel itself
            int r0 = (s0 + s) * NR, n = Math.min(NR, R - r0);
            for (int j = 0; j < n; j++) dec.decode(r0 + j, 0, K, rows16, j * ld);
            for (int k = 0; k < K; k++) {
                int o = pOff + k * NR;
                for (int j = 0; j < n; j++) bp[o + j] = rows16[j * ld + k];
                for (int j = n; j < NR; j++) bp[o + j] = 0f;
            }
        }
        panels(ap, K, T, bp, s1 - s0, y, s0 * NR, R, R - s0 * NR, false, sc.tile);
    }

    /** dx[t, columns of strips s0..s1) += dy[t]·W over those columns; ap is dy packed by packTokens. */
    private static void backwardStrips(Decoder dec, int R, int K, float[] ap, float[] dx, int T, int s0, int s1) {
        Scratch sc = SCRATCH.get();
        int c0 = s0 * NR, width = Math.min(K, s1 * NR) - c0, ns = s1 - s0;
        // a whole-row decoder decodes every row once per unit (no weight format of this package needs it)
        int from = dec.spans() ? 0 : c0;
        float[] row = sc.row(dec.spans() ? width : K), bp = sc.panel(ns * R * NR);
        // panel s holds W[all r, columns of strip s0+s] as [r][16]
        for (int r = 0; r < R; r++) {
            if (dec.spans()) dec.decode(r, c0, width, row);
            else dec.decode(r, 0, K, row);
            for (int s = 0; s < ns; s++) {
                int o = (s * R + r) * NR, c = s * NR, n = Math.min(NR, width - c);
                System.arraycopy(row, from + c, bp, o, n);
                for (int j = n; j < NR; j++) bp[o + j] = 0f;
            }
        }
        panels(ap, R, T, bp, ns, dx, c0, K, width, true, sc.tile);
    }

    /**
     * c[t, c0 + s*16 + j] (+)= sum_k A[t, k] * bp[s*K*16 + k*16 + j] over k &lt; K, for every token t,
     * panel s &lt; ns and column s*16 + j &lt; width. A is packed by packTokens ([K][6] per micro-panel).
     * Token blocks of MC run over the K slices of KC: a panel slice (KC x 16 floats) serves a whole
     * block of micro-panels before the next slice comes, and the block's C tiles are stored once per
     * K slice while they are still in cache (C rows are 2^n floats apart: a C block revisited only
     * after all T tokens falls out of the cache sets they share).
     */
    private static void panels(float[] ap, int K, int T, float[] bp, int ns, float[] c, int c0, int ldc, int width,
                               boolean accumulate, float[] tmp) {
        for (int tb = 0; tb < T; tb += MC) {
            int te = Math.min(T, tb + MC);
            for (int k0 = 0; k0 < K; k0 += KC) {
                int kc = Math.min(KC, K - k0);
                for (int s = 0; s < ns; s++) {
                    int col = c0 + s * NR, nr = Math.min(NR, width - s * NR), bo = (s * K + k0) * NR;
                    for (int t0 = tb; t0 < te; t0 += MR) {
                        tile(ap, (t0 / MR * K + k0) * MR, Math.min(MR, te - t0), bp, bo, kc, c, t0 * ldc + col, ldc, nr,
                                accumulate || k0 > 0, tmp);
                    }
                }
            }
        }
    }

    /**
     * c[i, j] (+)= sum_k ap[aOff + k*4 + i] * bp[bOff + k*16 + j] for i &lt; mr, j &lt; nr: the 4 x 16
     * register tile (8 accumulators, 2 weight vectors, 4 broadcasts: 14 of the 16 ymm registers).
     * 6 x 16 (12 accumulators) leaves one register spare, and C2 hoists the broadcasts of one k
     * together: with some heap layouts (ParallelGC) it then spilled an accumulator to the stack,
     * which ran the whole loop at 37 instead of 88 GFLOPS (seen in the disassembly); 4 x 16 cannot
     * spill and keeps the 8 FMA chains that cover 2 pipes x 4 cycles of FMA latency.
     * ap is zero past mr and bp past nr, so edge tiles compute the full tile and store only their part.
     * The loop walks both panels with running indices: written as aOff + k*MR + i the JIT kept a
     * bounds check per load in the loop (measured: half the speed).
     */
    private static void tile(float[] ap, int aOff, int mr, float[] bp, int bOff, int kc,
                             float[] c, int cOff, int ldc, int nr, boolean accumulate, float[] tmp) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        for (int ao = aOff, bo = bOff, end = bOff + kc * NR; bo < end; ao += MR, bo += NR) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo), b1 = FloatVector.fromArray(S, bp, bo + 8);
            FloatVector av = FloatVector.broadcast(S, ap[ao]);
            c00 = b0.fma(av, c00);
            c01 = b1.fma(av, c01);
            av = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = b0.fma(av, c10);
            c11 = b1.fma(av, c11);
            av = FloatVector.broadcast(S, ap[ao + 2]);
            c20 = b0.fma(av, c20);
            c21 = b1.fma(av, c21);
            av = FloatVector.broadcast(S, ap[ao + 3]);
            c30 = b0.fma(av, c30);
            c31 = b1.fma(av, c31);
        }
        if (mr == MR && nr == NR) {
            if (accumulate) {
                c00 = c00.add(FloatVector.fromArray(S, c, cOff));
                c01 = c01.add(FloatVector.fromArray(S, c, cOff + 8));
                c10 = c10.add(FloatVector.fromArray(S, c, cOff + ldc));
                c11 = c11.add(FloatVector.fromArray(S, c, cOff + ldc + 8));
                c20 = c20.add(FloatVector.fromArray(S, c, cOff + 2 * ldc));
                c21 = c21.add(FloatVector.fromArray(S, c, cOff + 2 * ldc + 8));
                c30 = c30.add(FloatVector.fromArray(S, c, cOff + 3 * ldc));
                c31 = c31.add(FloatVector.fromArray(S, c, cOff + 3 * ldc + 8));
            }
            c00.intoArray(c, cOff);
            c01.intoArray(c, cOff + 8);
            c10.intoArray(c, cOff + ldc);
            c11.intoArray(c, cOff + ldc + 8);
            c20.intoArray(c, cOff + 2 * ldc);
            c21.intoArray(c, cOff + 2 * ldc + 8);
            c30.intoArray(c, cOff + 3 * ldc);
            c31.intoArray(c, cOff + 3 * ldc + 8);
            return;
        }
        // edge tile: through scratch, storing only the mr x nr valid part
        c00.intoArray(tmp, 0);
        c01.intoArray(tmp, 8);
        c10.intoArray(tmp, 16);
        c11.intoArray(tmp, 24);
        c20.intoArray(tmp, 32);
        c21.intoArray(tmp, 40);
        c30.intoArray(tmp, 48);
        c31.intoArray(tmp, 56);
        for (int i = 0; i < mr; i++) {
            int o = cOff + i * ldc;
            for (int j = 0; j < nr; j++) c[o + j] = accumulate ? c[o + j] + tmp[i * NR + j] : tmp[i * NR + j];
        }
    }

    /** Decodes spans of one weight's rows to f32 for the panels; one per GEMM call. */
    private abstract static class Decoder {
        /** True when any span of a unit (c0 a multiple of GROUP*16) can be decoded alone; else only whole rows. */
        abstract boolean spans();

        /** dst[0, len) = W[r, c0, c0 + len); without spans() only c0 = 0, len = cols. */
        void decode(int r, int c0, int len, float[] dst) {
            decode(r, c0, len, dst, 0);
        }

        /** dst[off, off + len) = W[r, c0, c0 + len). */
        abstract void decode(int r, int c0, int len, float[] dst, int off);

        /** Rows r0 .. r0 + 15, all columns, written as [k][16] at bp[off ..] if the format can; else false. */
        boolean strip(int r0, float[] bp, int off) {
            return false;
        }

        static Decoder of(WeightMatrix w) {
            if (w instanceof DequantMatrix m) {
                return new Decoder() {
                    boolean spans() {
                        return true;
                    }

                    void decode(int r, int c0, int len, float[] dst, int off) {
                        m.dequantizeTile(r, c0, len, dst, off);   // the format's vector decode where it has one
                    }
                };
            }
            if (w instanceof RowMatrix m && (GROUP * NR) % m.blockAlign() == 0) {
                return new Decoder() {
                    boolean spans() {
                        return true;
                    }

                    void decode(int r, int c0, int len, float[] dst, int off) {
                        m.dequantize(r, c0, len, dst, off, Vectors.ENABLED);   // unit spans start on format blocks
                    }

                    @Override
                    boolean strip(int r0, float[] bp, int off) {
                        return Vectors.ENABLED && m.decodeStrip(r0, bp, off);
                    }
                };
            }
            return new Decoder() {
                boolean spans() {
                    return false;
                }

                void decode(int r, int c0, int len, float[] dst, int off) {
                    w.dequantizeRow(r, dst, off);
                }
            };
        }
    }

    /**
     * y[n, m] = (accumulate ? y : 0) + scale * sum_k x[n, k] * w[m, k]; x [N,K], w [M,K], y [N,M]. Parallel over n.
     * Four w rows share each x vector; for short K (the rank side) plain loops.
     */
    public static void xwT(float[] x, float[] w, float[] y, int N, int K, int M, float scale, boolean accumulate) {
        int L = S.length(), ub = K - K % L;
        boolean vector = ENABLED && K >= 4 * L;
        Parallel.forRange(N, 4, (n0, n1) -> {
            float[] lanes = new float[8];
            for (int n = n0; n < n1; n++) {
                int xo = n * K, yo = n * M;
                int m = 0;
                if (vector) {
                    for (; m + 4 <= M; m += 4) {
                        int w0 = m * K, w1 = w0 + K, w2 = w1 + K, w3 = w2 + K;
                        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
                        for (int k = 0; k < ub; k += L) {
                            FloatVector xv = FloatVector.fromArray(S, x, xo + k);
                            s0 = FloatVector.fromArray(S, w, w0 + k).fma(xv, s0);
                            s1 = FloatVector.fromArray(S, w, w1 + k).fma(xv, s1);
                            s2 = FloatVector.fromArray(S, w, w2 + k).fma(xv, s2);
                            s3 = FloatVector.fromArray(S, w, w3 + k).fma(xv, s3);
                        }
                        float d0 = sumLanes(s0, lanes), d1 = sumLanes(s1, lanes), d2 = sumLanes(s2, lanes), d3 = sumLanes(s3, lanes);
                        for (int k = ub; k < K; k++) {
                            float xv = x[xo + k];
                            d0 += xv * w[w0 + k];
                            d1 += xv * w[w1 + k];
                            d2 += xv * w[w2 + k];
                            d3 += xv * w[w3 + k];
                        }
                        y[yo + m] = accumulate ? y[yo + m] + scale * d0 : scale * d0;
                        y[yo + m + 1] = accumulate ? y[yo + m + 1] + scale * d1 : scale * d1;
                        y[yo + m + 2] = accumulate ? y[yo + m + 2] + scale * d2 : scale * d2;
                        y[yo + m + 3] = accumulate ? y[yo + m + 3] + scale * d3 : scale * d3;
                    }
                }
                for (; m < M; m++) {
                    int wo = m * K;
                    float s = 0f;
                    for (int k = 0; k < K; k++) s += x[xo + k] * w[wo + k];
                    y[yo + m] = accumulate ? y[yo + m] + scale * s : scale * s;
                }
            }
        });
    }

    /**
     * The lanes of v summed left to right through lanes[8]: the same order interpreted and compiled
     * (reduceLanes is not), so a training run is reproducible within a process.
     */
    public static float sumLanes(FloatVector v, float[] lanes) {
        v.intoArray(lanes, 0);
        return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    }

    /** out[n, k] (+)= scale * sum_m a[n, m] * w[m, k]; a [N,M], w [M,K], out [N,K]. Parallel over n. */
    public static void aw(float[] a, float[] w, float[] out, int N, int M, int K, float scale, boolean accumulate) {
        Parallel.forRange(N, 4, (n0, n1) -> {
            for (int n = n0; n < n1; n++) {
                int ao = n * M, oo = n * K;
                if (!accumulate) java.util.Arrays.fill(out, oo, oo + K, 0f);
                for (int m = 0; m < M; m++) {
                    float am = scale * a[ao + m];
                    if (am == 0f) continue;
                    int wo = m * K;
                    for (int k = 0; k < K; k++) out[oo + k] += am * w[wo + k];
                }
            }
        });
    }

    /**
     * Weight gradient: out[m, k] += scale * sum_n a[n, m] * b[n, k]; a [N,M], b [N,K], out [M,K].
     * Parallel over the output rows m when there are enough of them, else over the columns k.
     */
    public static void aTb(float[] a, float[] b, float[] out, int N, int M, int K, float scale) {
        if (M >= 2 * Parallel.threads() || M >= K) {
            Parallel.forRange(M, 1, (m0, m1) -> aTbBlock(a, b, out, N, M, K, scale, m0, m1, 0, K));
        } else {
            Parallel.forRange(K, 64, (k0, k1) -> aTbBlock(a, b, out, N, M, K, scale, 0, M, k0, k1));
        }
    }

    /**
     * Output rows in blocks of 16: each row of b is read once per block instead of once per output
     * row (gradA reads the whole x N rows deep), and a's 16 values for one n are contiguous. Each
     * out element still sums over n in order, as before.
     */
    private static void aTbBlock(float[] a, float[] b, float[] out, int N, int M, int K, float scale,
                                 int m0, int m1, int k0, int k1) {
        boolean eight = ENABLED && k1 - k0 == 8;
        for (int mb = m0; mb < m1; mb += 16) {
            int me = Math.min(m1, mb + 16);
            for (int n = 0; n < N; n++) {
                int bo = n * K;
                if (eight) {   // rank-8 gradB: one vector per out row; mul then add, as the scalar loop rounds
                    FloatVector bv = FloatVector.fromArray(S, b, bo + k0);
                    for (int m = mb; m < me; m++) {
                        float am = scale * a[n * M + m];
                        if (am == 0f) continue;
                        int oo = m * K + k0;
                        FloatVector.fromArray(S, out, oo).add(bv.mul(am)).intoArray(out, oo);
                    }
                    continue;
                }
                for (int m = mb; m < me; m++) {
                    float am = scale * a[n * M + m];
                    if (am == 0f) continue;
                    int oo = m * K;
                    for (int k = k0; k < k1; k++) out[oo + k] += am * b[bo + k];
                }
            }
        }
    }
}
