package org.finlora.quant;

/**
 * QLoRA double quantization of the 4-bit block absmax ({@code compress_statistics}): offset =
 * mean(absmax) as an f32 scalar; (absmax - offset) is quantized blockwise with the signed dynamic
 * map in blocks of 256; A' = dyn[q] * absmax2[i / 256] + offset, two separate f32 operations.
 *
 * <p>The mean is summed in double and rounded once to f32: exact up to that final rounding, which a
 * GPU torch.mean (tree reduction in f32) may not be, so an offset can differ from bnb's in the last
 * bit; a checkpoint's stored {@code nested_offset} is used as is when loading.
 */
public final class DoubleQuant {
    public static final int NESTED_BLOCKSIZE = 256;

    private DoubleQuant() {
    }

    /** The compressed statistics: uint8 codes per absmax, f32 absmax per 256 codes, the offset and map. */
    public record Nested(byte[] codes, float[] absmax2, float offset, float[] map, int blocksize) {
        /** Expands to one f32 scale per 4-bit block (done once at load time). */
        public float[] expand() {
            float[] out = new float[codes.length];
            for (int i = 0; i < out.length; i++) {
                float v = map[codes[i] & 0xFF] * absmax2[i / blocksize];
                out[i] = v + offset;
            }
            return out;
        }
    }

    public static float mean(float[] a) {
        double s = 0;
        for (float v : a) s += v;
        return (float) (s / a.length);
    }

    public static Nested compress(float[] absmax) {
        return compress(absmax, DynamicMap.signed());
    }

    public static Nested compress(float[] absmax, float[] map) {
        return compress(absmax, map, mean(absmax));
    }

    /** With a given offset (e.g. to reproduce a reference whose mean was reduced in another order). */
    public static Nested compress(float[] absmax, float[] map, float offset) {
        float[] centered = new float[absmax.length];
        for (int i = 0; i < absmax.length; i++) centered[i] = absmax[i] - offset;
        DynamicMap.Blockwise b = DynamicMap.quantizeBlockwise(centered, map, NESTED_BLOCKSIZE);
        return new Nested(b.codes(), b.absmax(), offset, map, NESTED_BLOCKSIZE);
    }
}
