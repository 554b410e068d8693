package org.finlora.quant;

/**
 * bitsandbytes 4-bit blockwise quantization (NF4 and FP4) with bnb's exact rounding rules.
 *
 * <p>Blocks of {@code blocksize} run over the flattened row-major tensor (the last block may be
 * partial). Per block: absmax = max|x| in f32; xn = x * (1/absmax) in f32; the code is chosen by
 * strict {@code >} comparisons against bnb's float32 thresholds, so an exact tie goes to the lower
 * code. Codes here are one per element (0..15); {@link #packBnb} gives bnb's byte layout.
 *
 * <p>absmax == 0 (an all-zero block): we follow the CUDA kernel, the path that produced the QLoRA
 * checkpoints. There 1/0 = inf and 0*inf = NaN, every comparison is false, and the code is 0 for both
 * types (NF4 code 0 dequantizes to -1.0*0 = -0.0, FP4 code 0 to +0.0). The default (CPU) backend
 * would emit NF4 code 7 instead; both dequantize to zero.
 */
public final class Bnb4bit {
    private Bnb4bit() {
    }

    public enum Type {
        NF4("nf4"), FP4("fp4");

        public final String id;

        Type(String id) {
            this.id = id;
        }

        public float[] table() {
            return this == NF4 ? NF4_TABLE : FP4_TABLE;
        }

        public int encode(float xn) {
            return this == NF4 ? encodeNf4(xn) : encodeFp4(xn);
        }

        public static Type parse(String s, String what) {
            for (Type t : values()) if (t.id.equals(s)) return t;
            throw new org.finlora.FinloraException(what + ": unknown quant_type \"" + s + "\" (expected nf4 or fp4)");
        }
    }

    /** NF4 code values, exactly bnb's nf4_dequantization_lut. */
    public static final float[] NF4_TABLE = {
            -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
            -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
            0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
            0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};

    /** NF4 decision thresholds: the f32 midpoints of adjacent codes; code = #thresholds strictly below x. */
    public static final float[] NF4_THRESHOLDS = {
            -0.8480964f, -0.6106329f, -0.45999527f, -0.33967942f, -0.2346074f, -0.13791174f, -0.045525018f,
            0.03979015f, 0.12025525f, 0.20352125f, 0.29201376f, 0.38931254f, 0.50166345f, 0.6427869f, 0.86147845f};

    /** FP4 (bnb e2m1, exponent bias 2): bit 3 is the sign, bits 2..0 index these magnitudes over 12. */
    private static final float[] FP4_MAGNITUDE_TIMES_12 = {0f, 0.0625f, 8f, 12f, 4f, 6f, 2f, 3f};

    /** FP4 code values: index = sign*8 + magnitude bits; -0.0 at index 8. */
    public static final float[] FP4_TABLE = new float[16];

    static {
        for (int i = 0; i < 8; i++) {
            FP4_TABLE[i] = FP4_MAGNITUDE_TIMES_12[i] / 12f;
            FP4_TABLE[8 + i] = -(FP4_MAGNITUDE_TIMES_12[i] / 12f);
        }
    }

    /** FP4 thresholds on |x| and the magnitude code chosen above each (ascending value order). */
    public static final float[] FP4_THRESHOLDS = {0.00260417f, 0.0859375f, 0.20833333f, 0.29166667f, 0.4166667f, 0.583333f, 0.8333333f};
    private static final int[] FP4_CODES_ASCENDING = {0b000, 0b001, 0b110, 0b111, 0b100, 0b101, 0b010, 0b011};

    /** The NF4 code of a normalized value; NaN gives 0 as in the CUDA comparison tree. */
    public static int encodeNf4(float xn) {
        // the thresholds are sorted, so "xn > t" holds for a prefix of them: a binary search over that
        // prefix (4 compares instead of up to 15) counts the same thresholds; NaN compares false and gets 0
        float[] t = NF4_THRESHOLDS;
        int code = xn > t[7] ? 8 : 0;
        if (xn > t[code + 3]) code += 4;
        if (xn > t[code + 1]) code += 2;
        if (xn > t[code]) code += 1;
        return code;
    }

    /** The FP4 code of a normalized value: sign 8 iff x &lt; 0 (so -0.0 gets sign 0), then the |x| tree. */
    public static int encodeFp4(float xn) {
        int sign = xn < 0 ? 8 : 0;
        float a = Math.abs(xn);
        float[] t = FP4_THRESHOLDS;
        int level = a > t[3] ? 4 : 0;   // the sorted thresholds' prefix below a, by binary search as in encodeNf4
        if (a > t[level + 1]) level += 2;
        if (a > t[level]) level += 1;
        return sign | FP4_CODES_ASCENDING[level];
    }

    /** Number of blocks for n elements. */
    public static int blockCount(long n, int blocksize) {
        return (int) ((n + blocksize - 1) / blocksize);
    }

    /** Checks a 4-bit block size as bnb accepts it: a power of two in 32..4096. */
    public static void checkBlocksize(int blocksize, String what) {
        if (blocksize < 32 || blocksize > 4096 || Integer.bitCount(blocksize) != 1) {
            throw new org.finlora.FinloraException(what + ": blocksize " + blocksize + " is not a power of two in 32..4096");
        }
    }

    /**
     * Quantizes one block x[off, off+len) (len &le; blocksize): writes len codes to codes[codeOff..]
     * and returns the block's absmax.
     */
    public static float quantizeBlock(float[] x, int off, int len, Type type, byte[] codes, int codeOff) {
        float absmax = 0f;
        for (int i = 0; i < len; i++) absmax = Math.max(absmax, Math.abs(x[off + i]));
        float inv = 1f / absmax;
        for (int i = 0; i < len; i++) codes[codeOff + i] = (byte) type.encode(x[off + i] * inv);
        return absmax;
    }

    /** One code per element and one f32 absmax per block. */
    public record Result(byte[] codes, float[] absmax) {
    }

    /** Quantizes a flat tensor (already converted to f32) in blocks of {@code blocksize}. */
    public static Result quantize(float[] x, Type type, int blocksize) {
        int nb = blockCount(x.length, blocksize);
        byte[] codes = new byte[x.length];
        float[] absmax = new float[nb];
        for (int b = 0; b < nb; b++) {
            int off = b * blocksize;
            absmax[b] = quantizeBlock(x, off, Math.min(blocksize, x.length - off), type, codes, off);
        }
        return new Result(codes, absmax);
    }

    /** bnb's packing: byte k = code[2k] &lt;&lt; 4 | code[2k+1]; an odd count is padded with code 7. */
    public static byte[] packBnb(byte[] codes) {
        byte[] out = new byte[(codes.length + 1) / 2];
        for (int k = 0; k < out.length; k++) {
            int hi = codes[2 * k] & 15;
            int lo = 2 * k + 1 < codes.length ? codes[2 * k + 1] & 15 : 7;
            out[k] = (byte) (hi << 4 | lo);
        }
        return out;
    }

    /** Inverse of {@link #packBnb}: the first n codes. */
    public static byte[] unpackBnb(byte[] packed, int n) {
        byte[] codes = new byte[n];
        for (int i = 0; i < n; i++) {
            int b = packed[i >> 1] & 0xFF;
            codes[i] = (byte) ((i & 1) == 0 ? b >>> 4 : b & 15);
        }
        return codes;
    }

    /** w = table[code] * absmax[block] in f32 (bnb then casts to the load dtype). */
    public static float[] dequantize(byte[] codes, float[] absmax, Type type, int blocksize) {
        float[] t = type.table();
        float[] out = new float[codes.length];
        for (int i = 0; i < codes.length; i++) out[i] = t[codes[i] & 15] * absmax[i / blocksize];
        return out;
    }
}
