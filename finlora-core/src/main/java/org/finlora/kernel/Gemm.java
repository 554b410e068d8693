package org.finlora.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The f32 products with many tokens on flat row-major arrays (training, and the prefill of inference):
 * the frozen-weight products (forward y = x·Wᵀ and input gradient dx += dy·W of a {@link RowMatrix})
 * and the small dense products of the LoRA branch (rank-r sides). Each routine writes disjoint output
 * elements per thread, so no atomics are needed.
 *
 * <p>The frozen-weight products are a packed-panel GEMM, laid out as BLIS/OpenBLAS do: the token rows
 * are packed once per call into micro-panels [k][MR], W is decoded once per call into panels [k][NR]
 * of NR = 2 vectors of columns (per-thread scratch, GROUP panels per work unit), and an MR-token × NR-column
 * register tile (2·MR accumulators, one broadcast token value feeding two weight vectors) runs over
 * token blocks of {@link #MC} and K slices, so a panel slice serves a whole token block from cache and
 * each output tile is stored while it is still cached. MR follows the register file
 * ({@link Simd#gemmRows()}: 8 with AVX-512's 32 registers, else 4), NR the vector width.
 */
public final class Gemm {
    private Gemm() {
    }

    /** Panels (strips of NR columns) per work unit: they share every token micro-panel the unit loads. */
    private static final int GROUP = 4;
    /** Tokens per block (a multiple of every MR). */
    static final int MC = 48;
    /**
     * From this many tokens a weight's forward is this GEMM. [2048 x 2048] per busy core: at T = 128 it
     * beat the formats' row tiles for f32, q8_0, q4_0 and nf4; at T = 32 it lost for nf4 (a panel's decode
     * is paid back over too few tokens).
     */
    public static final int PREFILL_TOKENS = 64;
    /** From this many tokens the input gradient is this GEMM (below, the weight's own panels). */
    public static final int MIN_TOKENS = 16;

    /** Columns of a weight panel: two float vectors. */
    static int nr(Simd simd) {
        return 2 * simd.floats().length();
    }

    /**
     * Depth of one K slice. Per token block the L2 holds GROUP panel slices (4 x KC x NR floats: 128 KiB at
     * 128 bits to 512 KiB at 512) and the block's token micro-panels (MC x KC floats: 192 KiB), within a
     * 1 MB L2 even at 512 bits. Deep slices mean each C tile is loaded and stored fewer times (K/KC).
     */
    static final int KC = 1024;

    /** Per-thread scratch of the panel GEMM, grown on demand and reused across calls. */
    private static final class Scratch {
        float[] panel = new float[0], row = new float[0], tokens = new float[0], tile = new float[8 * 64];

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

    /** The packed-panel forward: y[T, w.rows] = x[T, w.cols]·Wᵀ (overwrites y). Needs a vector width. */
    static void panelMatmul(RowMatrix w, float[] x, float[] y, int T) {
        Simd simd = w.simd;
        int NR = nr(simd), MR = simd.gemmRows();
        int strips = (w.rows + NR - 1) / NR;
        Decoder dec = Decoder.of(w);
        float[] ap = packTokens(x, T, w.cols, MR);
        forUnits(strips, (s0, s1) -> forwardStrips(simd, dec, w.rows, w.cols, ap, y, T, s0, s1));
    }

    /** The packed-panel input gradient: dx[T, w.cols] += dy[T, w.rows]·W. Parallel over NR-column strips of dx. */
    static void panelMatmulTransposed(RowMatrix w, float[] dy, float[] dx, int T) {
        Simd simd = w.simd;
        int NR = nr(simd), MR = simd.gemmRows();
        int strips = (w.cols + NR - 1) / NR;
        Decoder dec = Decoder.of(w);
        float[] ap = packTokens(dy, T, w.rows, MR);
        forUnits(strips, (s0, s1) -> backwardStrips(simd, dec, w.rows, w.cols, ap, dx, T, s0, s1));
    }

    /**
     * a[T, K] repacked as micro-panels of MR tokens, each [K][MR] (rows past T are 0), in the calling
     * thread's scratch. The tile then reads its MR token values for one k from one contiguous run:
     * no strided rows (row strides of 2^n floats put every row of a tile into the same cache sets)
     * and one running index instead of one per token row.
     */
    private static float[] packTokens(float[] a, int T, int K, int MR) {
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
    private static void forwardStrips(Simd simd, Decoder dec, int R, int K, float[] ap, float[] y, int T, int s0, int s1) {
        int NR = nr(simd);
        Scratch sc = SCRATCH.get();
        // panel s holds W[rows of strip s0+s, all k] as [k][NR]. The strip's rows are decoded into rowsNr
        // first, then copied over k with each panel line written whole: writing each decoded row straight
        // into the panel stored one float per cache line, NR times over. Rows sit ld = K + NR floats
        // apart, not K: at K = 2^n the NR rows would map to the same L1 sets and evict one another.
        int ld = K + NR;
        float[] rowsNr = sc.row(NR * ld), bp = sc.panel((s1 - s0) * K * NR);
        for (int s = 0; s < s1 - s0; s++) {
            int pOff = s * K * NR;
            if (dec.strip((s0 + s) * NR, bp, pOff)) continue;   // the format writes the [k][NR] panel itself
            int r0 = (s0 + s) * NR, n = Math.min(NR, R - r0);
            for (int j = 0; j < n; j++) dec.decode(r0 + j, 0, K, rowsNr, j * ld);
            for (int k = 0; k < K; k++) {
                int o = pOff + k * NR;
                for (int j = 0; j < n; j++) bp[o + j] = rowsNr[j * ld + k];
                for (int j = n; j < NR; j++) bp[o + j] = 0f;
            }
        }
        panels(simd, ap, K, T, bp, s1 - s0, y, s0 * NR, R, R - s0 * NR, false, sc.tile);
    }

    /** dx[t, columns of strips s0..s1) += dy[t]·W over those columns; ap is dy packed by packTokens. */
    private static void backwardStrips(Simd simd, Decoder dec, int R, int K, float[] ap, float[] dx, int T, int s0, int s1) {
        int NR = nr(simd);
        Scratch sc = SCRATCH.get();
        int c0 = s0 * NR, width = Math.min(K, s1 * NR) - c0, ns = s1 - s0;
        // a whole-row decoder decodes every row once per unit
        int from = dec.spans() ? 0 : c0;
        float[] row = sc.row(dec.spans() ? width : K), bp = sc.panel(ns * R * NR);
        // panel s holds W[all r, columns of strip s0+s] as [r][NR]
        for (int r = 0; r < R; r++) {
            if (dec.spans()) dec.decode(r, c0, width, row, 0);
            else dec.decode(r, 0, K, row, 0);
            for (int s = 0; s < ns; s++) {
                int o = (s * R + r) * NR, c = s * NR, n = Math.min(NR, width - c);
                System.arraycopy(row, from + c, bp, o, n);
                for (int j = n; j < NR; j++) bp[o + j] = 0f;
            }
        }
        panels(simd, ap, R, T, bp, ns, dx, c0, K, width, true, sc.tile);
    }

    /**
     * c[t, c0 + s*NR + j] (+)= sum_k A[t, k] * bp[s*K*NR + k*NR + j] over k &lt; K, for every token t,
     * panel s &lt; ns and column s*NR + j &lt; width. A is packed by packTokens ([K][MR] per micro-panel).
     * Token blocks of MC run over the K slices: a panel slice (KC x NR floats) serves a whole block of
     * micro-panels before the next slice comes, and the block's C tiles are stored once per K slice
     * while they are still in cache (C rows are 2^n floats apart: a C block revisited only after all T
     * tokens falls out of the cache sets they share).
     */
    private static void panels(Simd simd, float[] ap, int K, int T, float[] bp, int ns, float[] c, int c0, int ldc, int width,
                               boolean accumulate, float[] tmp) {
        int NR = nr(simd), MR = simd.gemmRows();
        for (int tb = 0; tb < T; tb += MC) {
            int te = Math.min(T, tb + MC);
            for (int k0 = 0; k0 < K; k0 += KC) {
                int kc = Math.min(KC, K - k0);
                for (int s = 0; s < ns; s++) {
                    int col = c0 + s * NR, nr = Math.min(NR, width - s * NR), bo = (s * K + k0) * NR;
                    for (int t0 = tb; t0 < te; t0 += MR) {
                        int aOff = (t0 / MR * K + k0) * MR, mr = Math.min(MR, te - t0);
                        boolean acc = accumulate || k0 > 0;
                        if (MR == 8) tile8(simd, ap, aOff, mr, bp, bo, kc, c, t0 * ldc + col, ldc, nr, acc, tmp);
                        else tile4(simd, ap, aOff, mr, bp, bo, kc, c, t0 * ldc + col, ldc, nr, acc, tmp);
                    }
                }
            }
        }
    }

    /**
     * c[i, j] (+)= sum_k ap[aOff + k*4 + i] * bp[bOff + k*NR + j] for i &lt; mr, j &lt; nr: the 4 x NR
     * register tile (8 accumulators, 2 weight vectors, 4 broadcasts: 14 of AVX2's 16 registers).
     * 6 rows (12 accumulators) leave one register spare, and C2 hoists the broadcasts of one k
     * together: with some heap layouts it then spilled an accumulator to the stack, which ran the whole
     * loop at half speed; 4 rows cannot spill and keep the 8 FMA chains that cover 2 pipes x 4 cycles
     * of FMA latency. ap is zero past mr and bp past nr, so edge tiles compute the full tile and store
     * only their part. The loop walks both panels with running indices: written as aOff + k*MR + i the
     * JIT kept a bounds check per load in the loop.
     */
    private static void tile4(Simd simd, float[] ap, int aOff, int mr, float[] bp, int bOff, int kc,
                              float[] c, int cOff, int ldc, int nr, boolean accumulate, float[] tmp) {
        VectorSpecies<Float> S = simd.floats();
        int L = S.length(), NR = 2 * L;
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        for (int ao = aOff, bo = bOff, end = bOff + kc * NR; bo < end; ao += 4, bo += NR) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo), b1 = FloatVector.fromArray(S, bp, bo + L);
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
        if (mr == 4 && nr == NR) {
            if (accumulate) {
                c00 = c00.add(FloatVector.fromArray(S, c, cOff));
                c01 = c01.add(FloatVector.fromArray(S, c, cOff + L));
                c10 = c10.add(FloatVector.fromArray(S, c, cOff + ldc));
                c11 = c11.add(FloatVector.fromArray(S, c, cOff + ldc + L));
                c20 = c20.add(FloatVector.fromArray(S, c, cOff + 2 * ldc));
                c21 = c21.add(FloatVector.fromArray(S, c, cOff + 2 * ldc + L));
                c30 = c30.add(FloatVector.fromArray(S, c, cOff + 3 * ldc));
                c31 = c31.add(FloatVector.fromArray(S, c, cOff + 3 * ldc + L));
            }
            c00.intoArray(c, cOff);
            c01.intoArray(c, cOff + L);
            c10.intoArray(c, cOff + ldc);
            c11.intoArray(c, cOff + ldc + L);
            c20.intoArray(c, cOff + 2 * ldc);
            c21.intoArray(c, cOff + 2 * ldc + L);
            c30.intoArray(c, cOff + 3 * ldc);
            c31.intoArray(c, cOff + 3 * ldc + L);
            return;
        }
        // edge tile: through scratch, storing only the mr x nr valid part
        c00.intoArray(tmp, 0);
        c01.intoArray(tmp, L);
        c10.intoArray(tmp, NR);
        c11.intoArray(tmp, NR + L);
        c20.intoArray(tmp, 2 * NR);
        c21.intoArray(tmp, 2 * NR + L);
        c30.intoArray(tmp, 3 * NR);
        c31.intoArray(tmp, 3 * NR + L);
        storeEdge(tmp, NR, c, cOff, ldc, mr, nr, accumulate);
    }

    /**
     * The 8 x NR register tile for 32-register files (AVX-512): 16 accumulators, 2 weight vectors and a
     * broadcast, 19 of 32 registers, so no spill; each weight vector load now serves 8 FMAs (2 loads +
     * 8 broadcasts per 16 FMAs instead of 2 + 4 per 8), which the 2 load ports sustain at full FMA rate.
     */
    private static void tile8(Simd simd, float[] ap, int aOff, int mr, float[] bp, int bOff, int kc,
                              float[] c, int cOff, int ldc, int nr, boolean accumulate, float[] tmp) {
        VectorSpecies<Float> S = simd.floats();
        int L = S.length(), NR = 2 * L;
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        FloatVector c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
        for (int ao = aOff, bo = bOff, end = bOff + kc * NR; bo < end; ao += 8, bo += NR) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo), b1 = FloatVector.fromArray(S, bp, bo + L);
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
            av = FloatVector.broadcast(S, ap[ao + 4]);
            c40 = b0.fma(av, c40);
            c41 = b1.fma(av, c41);
            av = FloatVector.broadcast(S, ap[ao + 5]);
            c50 = b0.fma(av, c50);
            c51 = b1.fma(av, c51);
            av = FloatVector.broadcast(S, ap[ao + 6]);
            c60 = b0.fma(av, c60);
            c61 = b1.fma(av, c61);
            av = FloatVector.broadcast(S, ap[ao + 7]);
            c70 = b0.fma(av, c70);
            c71 = b1.fma(av, c71);
        }
        if (mr == 8 && nr == NR) {
            if (accumulate) {
                c00 = c00.add(FloatVector.fromArray(S, c, cOff));
                c01 = c01.add(FloatVector.fromArray(S, c, cOff + L));
                c10 = c10.add(FloatVector.fromArray(S, c, cOff + ldc));
                c11 = c11.add(FloatVector.fromArray(S, c, cOff + ldc + L));
                c20 = c20.add(FloatVector.fromArray(S, c, cOff + 2 * ldc));
                c21 = c21.add(FloatVector.fromArray(S, c, cOff + 2 * ldc + L));
                c30 = c30.add(FloatVector.fromArray(S, c, cOff + 3 * ldc));
                c31 = c31.add(FloatVector.fromArray(S, c, cOff + 3 * ldc + L));
                c40 = c40.add(FloatVector.fromArray(S, c, cOff + 4 * ldc));
                c41 = c41.add(FloatVector.fromArray(S, c, cOff + 4 * ldc + L));
                c50 = c50.add(FloatVector.fromArray(S, c, cOff + 5 * ldc));
                c51 = c51.add(FloatVector.fromArray(S, c, cOff + 5 * ldc + L));
                c60 = c60.add(FloatVector.fromArray(S, c, cOff + 6 * ldc));
                c61 = c61.add(FloatVector.fromArray(S, c, cOff + 6 * ldc + L));
                c70 = c70.add(FloatVector.fromArray(S, c, cOff + 7 * ldc));
                c71 = c71.add(FloatVector.fromArray(S, c, cOff + 7 * ldc + L));
            }
            c00.intoArray(c, cOff);
            c01.intoArray(c, cOff + L);
            c10.intoArray(c, cOff + ldc);
            c11.intoArray(c, cOff + ldc + L);
            c20.intoArray(c, cOff + 2 * ldc);
            c21.intoArray(c, cOff + 2 * ldc + L);
            c30.intoArray(c, cOff + 3 * ldc);
            c31.intoArray(c, cOff + 3 * ldc + L);
            c40.intoArray(c, cOff + 4 * ldc);
            c41.intoArray(c, cOff + 4 * ldc + L);
            c50.intoArray(c, cOff + 5 * ldc);
            c51.intoArray(c, cOff + 5 * ldc + L);
            c60.intoArray(c, cOff + 6 * ldc);
            c61.intoArray(c, cOff + 6 * ldc + L);
            c70.intoArray(c, cOff + 7 * ldc);
            c71.intoArray(c, cOff + 7 * ldc + L);
            return;
        }
        c00.intoArray(tmp, 0);
        c01.intoArray(tmp, L);
        c10.intoArray(tmp, NR);
        c11.intoArray(tmp, NR + L);
        c20.intoArray(tmp, 2 * NR);
        c21.intoArray(tmp, 2 * NR + L);
        c30.intoArray(tmp, 3 * NR);
        c31.intoArray(tmp, 3 * NR + L);
        c40.intoArray(tmp, 4 * NR);
        c41.intoArray(tmp, 4 * NR + L);
        c50.intoArray(tmp, 5 * NR);
        c51.intoArray(tmp, 5 * NR + L);
        c60.intoArray(tmp, 6 * NR);
        c61.intoArray(tmp, 6 * NR + L);
        c70.intoArray(tmp, 7 * NR);
        c71.intoArray(tmp, 7 * NR + L);
        storeEdge(tmp, NR, c, cOff, ldc, mr, nr, accumulate);
    }

    /** The mr x nr valid part of an edge tile held in tmp (row stride NR). */
    private static void storeEdge(float[] tmp, int NR, float[] c, int cOff, int ldc, int mr, int nr, boolean accumulate) {
        for (int i = 0; i < mr; i++) {
            int o = cOff + i * ldc;
            for (int j = 0; j < nr; j++) c[o + j] = accumulate ? c[o + j] + tmp[i * NR + j] : tmp[i * NR + j];
        }
    }

    /** Decodes spans of one weight's rows to f32 for the panels; one per GEMM call. */
    private record Decoder(RowMatrix m, boolean spans) {
        /** Spans of a unit start on NR·GROUP columns: fine for every format whose blocks divide that; else whole rows. */
        static Decoder of(RowMatrix m) {
            return new Decoder(m, (GROUP * nr(m.simd)) % m.blockAlign() == 0);
        }

        /** dst[off, off + len) = W[r, c0, c0 + len); without spans() only c0 = 0, len = cols. */
        void decode(int r, int c0, int len, float[] dst, int off) {
            m.decode(r, c0, len, dst, off);
        }

        /** Rows r0 .. r0 + NR - 1, all columns, written as [k][NR] at bp[off ..] if the format can; else false. */
        boolean strip(int r0, float[] bp, int off) {
            return m.decodeStrip(r0, bp, off);
        }
    }

    /**
     * y[n, m] = (accumulate ? y : 0) + scale * sum_k x[n, k] * w[m, k]; x [N,K], w [M,K], y [N,M]. Parallel over n.
     * Four w rows share each x vector; for short K (the rank side) plain loops.
     */
    public static void xwT(Simd simd, float[] x, float[] w, float[] y, int N, int K, int M, float scale, boolean accumulate) {
        boolean vector = simd.vector() && K >= 4 * simd.floatLanes();
        Parallel.forRange(N, 4, (n0, n1) -> {
            for (int n = n0; n < n1; n++) {
                int xo = n * K, yo = n * M;
                int m = 0;
                if (vector) m = xwTRow4(simd, x, xo, w, y, yo, K, M, scale, accumulate);
                for (; m < M; m++) {
                    int wo = m * K;
                    float s = 0f;
                    for (int k = 0; k < K; k++) s += x[xo + k] * w[wo + k];
                    y[yo + m] = accumulate ? y[yo + m] + scale * s : scale * s;
                }
            }
        });
    }

    /** Output columns of one row of {@link #xwT} in groups of four w rows; returns how many it did. */
    private static int xwTRow4(Simd simd, float[] x, int xo, float[] w, float[] y, int yo, int K, int M, float scale, boolean accumulate) {
        VectorSpecies<Float> S = simd.floats();
        int L = S.length(), ub = K - K % L;
        int m = 0;
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
            float d0 = simd.hsum(s0), d1 = simd.hsum(s1), d2 = simd.hsum(s2), d3 = simd.hsum(s3);
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
        return m;
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
     * Output rows go in blocks of 16: each row of b is read once per block instead of once per output
     * row (gradA reads the whole x N rows deep), and a's 16 values for one n are contiguous. Each out
     * element sums over n in order, with separate multiply and add (the same rounding as a scalar loop).
     */
    public static void aTb(float[] a, float[] b, float[] out, int N, int M, int K, float scale) {
        if (M >= 2 * Parallel.threads() || M >= K) {
            Parallel.forRange(M, 1, (m0, m1) -> aTbBlock(a, b, out, N, M, K, scale, m0, m1, 0, K));
        } else {
            Parallel.forRange(K, 64, (k0, k1) -> aTbBlock(a, b, out, N, M, K, scale, 0, M, k0, k1));
        }
    }

    private static void aTbBlock(float[] a, float[] b, float[] out, int N, int M, int K, float scale,
                                 int m0, int m1, int k0, int k1) {
        for (int mb = m0; mb < m1; mb += 16) {
            int me = Math.min(m1, mb + 16);
            for (int n = 0; n < N; n++) {
                int bo = n * K;
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
