package org.finlora.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * A decode activation x[cols] quantized to int8 per 32-column block the way ggml quantizes the
 * activations of its q4_0/q8_0 dot products (quantize_row_q8_0_ref in ggml-quants.c): amax over the
 * block, d = amax / 127, id = d != 0 ? 1/d : 0, q = roundf(x · id) (halves away from zero). ggml stores
 * d as f16 and the dot uses that rounded d, so {@link #scale} holds float16ToFloat(floatToFloat16(d)).
 * |q| <= 127 (never -128): |x · id| <= amax · (1/d) rounds to at most 127 while d is a normal float.
 * Below that (amax < 127 · Float.MIN_NORMAL ≈ 1.5e-36, where 1/d loses precision or overflows to
 * infinity) the block is taken as zero, ggml's d = 0 case; for finite x the scalar and vector paths then
 * agree bit for bit, and q is clamped to [-127, 127] so the kernels' int16 lane bounds hold even for NaN.
 * The ints are kept widened to shorts so the kernels multiply them in 16 short lanes.
 */
public final class ActivationQ8 {
    public static final int BLOCK = 32;
    /** q[c] for c in [0, cols): the int8 activations widened to shorts. */
    final short[] q;
    /** Per block b: the f16-rounded scale d_b (x[c] ≈ q[c] · d_b). */
    final float[] scale;
    /**
     * Per block b: -8 · (sum of the block's 32 q), |value| <= 8 · 32 · 127 = 32512. Q4_0 starts each block's
     * short lanes from it to fold the -8 offset of its nibbles into the products of the unsigned nibbles.
     */
    final short[] q4Offset;
    /**
     * For each unit u of a block b of the q4_0 row tiles of TILE rows (columns c0..c3 = 32b + u, + 16, + 8,
     * + 24, u = 0..7), four coefficients C0 = q(c0), Ci = q(ci) - 16 · q(c(i-1)) (|Ci| <= 2159), each
     * repeated across TILE shorts, at [32·TILE·b + 4·TILE·u + TILE·i, + TILE): one full-width load per
     * coefficient, at addresses linear in the unit. Filled on demand.
     */
    private short[] coefficients = new short[0];
    /** The TILE the coefficients were filled for, 0 when not filled since the last quantization. */
    private int coefficientsTile;
    int cols;

    ActivationQ8(int cols) {
        q = new short[cols];
        scale = new float[cols / BLOCK];
        q4Offset = new short[cols / BLOCK];
    }

    private static final ThreadLocal<ActivationQ8[]> SCRATCH = ThreadLocal.withInitial(() -> new ActivationQ8[1]);

    /** This thread's scratch, sized for at least cols (kernels never nest). */
    static ActivationQ8 forThread(int cols) {
        ActivationQ8[] h = SCRATCH.get();
        if (h[0] == null || h[0].q.length < cols) h[0] = new ActivationQ8(cols);
        return h[0];
    }

    /** A fresh instance holding x[xOff, xOff + cols) quantized at the given width (tests and one-off dots). */
    public static ActivationQ8 of(float[] x, int xOff, int cols, Simd simd) {
        ActivationQ8 a = new ActivationQ8(cols);
        a.quantize(x, xOff, cols, simd);
        return a;
    }

    /** Quantizes x[xOff, xOff + cols) into this scratch at the given width (every width gives the same values); cols must be a multiple of 32. */
    void quantize(float[] x, int xOff, int cols, Simd simd) {
        if (cols % BLOCK != 0) throw new IllegalArgumentException("int8 activations need cols divisible by 32, got " + cols);
        this.cols = cols;
        coefficientsTile = 0;
        for (int b = 0; b < cols / BLOCK; b++) {
            if (simd.vector()) quantizeBlockVector(simd, x, xOff + b * BLOCK, b);
            else quantizeBlockScalar(x, xOff + b * BLOCK, b);
        }
    }

    private void quantizeBlockScalar(float[] x, int o, int b) {
        float amax = 0f;
        for (int j = 0; j < BLOCK; j++) amax = Math.max(amax, Math.abs(x[o + j]));
        float d = amax / 127f;
        float id = d >= Float.MIN_NORMAL ? 1f / d : 0f;
        scale[b] = Float.float16ToFloat(Float.floatToFloat16(d));
        for (int j = 0; j < BLOCK; j++) q[b * BLOCK + j] = (short) Math.max(-127, Math.min(127, roundHalfAway(x[o + j] * id)));
        int sum = 0;
        for (int j = 0; j < BLOCK; j++) sum += q[b * BLOCK + j];
        q4Offset[b] = (short) (-8 * sum);
    }

    /**
     * The vector path: amax over the block's float vectors (max is exact in any order), then per vector
     * the rounding of {@link #roundHalfAway(float)} in lanes, clamped to [-127, 127]: truncate, then step
     * away from zero when the dropped fraction v - trunc(v) (exact in float for |v| < 2^23; larger |v| are
     * clamped anyway) is at least one half. Written as one method with a loop and no vector helper: with
     * the rounding in a helper taking and returning vectors, decode processes compiled it on its own and
     * boxed its vectors.
     */
    private void quantizeBlockVector(Simd simd, float[] x, int o, int b) {
        VectorSpecies<Float> F = simd.floats();
        VectorSpecies<Integer> I = simd.ints();
        VectorSpecies<Short> HS = simd.halfShorts();
        int L = F.length();
        FloatVector m = FloatVector.fromArray(F, x, o).abs();
        for (int k = L; k < BLOCK; k += L) m = m.max(FloatVector.fromArray(F, x, o + k).abs());
        float amax = m.reduceLanes(VectorOperators.MAX);
        float d = amax / 127f;
        float id = d >= Float.MIN_NORMAL ? 1f / d : 0f;
        scale[b] = Float.float16ToFloat(Float.floatToFloat16(d));
        IntVector sum = IntVector.zero(I);
        for (int k = 0; k < BLOCK; k += L) {
            FloatVector v = FloatVector.fromArray(F, x, o + k).mul(id);
            IntVector t = (IntVector) v.convertShape(VectorOperators.F2I, I, 0);
            FloatVector frac = v.sub((FloatVector) t.convertShape(VectorOperators.I2F, F, 0));
            t = t.add(1, frac.compare(VectorOperators.GE, 0.5f).cast(I));
            t = t.sub(1, frac.compare(VectorOperators.LE, -0.5f).cast(I)).max(-127).min(127);
            ((ShortVector) t.convertShape(VectorOperators.I2S, HS, 0)).intoArray(q, b * BLOCK + k);
            sum = sum.add(t);
        }
        q4Offset[b] = (short) (-8 * sum.reduceLanes(VectorOperators.ADD));
    }

    /**
     * The q4_0 decode coefficients of {@link #coefficients} for row tiles of {@code tile} rows (the short
     * lanes of the width), computed once per quantization and tile size.
     */
    short[] q4Coefficients(int tile) {
        if (coefficientsTile != tile) {
            if (coefficients.length < tile * q.length) coefficients = new short[tile * q.length];
            for (int b = 0; b < cols / BLOCK; b++) {
                for (int u = 0; u < 8; u++) {
                    int c0 = BLOCK * b + u, at = BLOCK * tile * b + 4 * tile * u;
                    int a0 = q[c0], a1 = q[c0 + 16], a2 = q[c0 + 8], a3 = q[c0 + 24];
                    Arrays.fill(coefficients, at, at + tile, (short) a0);
                    Arrays.fill(coefficients, at + tile, at + 2 * tile, (short) (a1 - 16 * a0));
                    Arrays.fill(coefficients, at + 2 * tile, at + 3 * tile, (short) (a2 - 16 * a1));
                    Arrays.fill(coefficients, at + 3 * tile, at + 4 * tile, (short) (a3 - 16 * a2));
                }
            }
            coefficientsTile = tile;
        }
        return coefficients;
    }

    /** The int8 value of column c. */
    public int q(int c) {
        return q[c];
    }

    /** The f16-rounded scale of block b. */
    public float scale(int b) {
        return scale[b];
    }

    /**
     * C roundf for |v| < 2^30: nearest integer, halves away from zero. v ± 0.5 is exact in double (a
     * float has 24 significant bits), and the cast truncates toward zero.
     */
    static int roundHalfAway(float v) {
        return (int) ((double) v + Math.copySign(0.5, v));
    }
}
