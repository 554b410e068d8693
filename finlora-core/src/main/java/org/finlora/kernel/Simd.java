package org.finlora.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;
import org.finlora.FinloraException;

import java.util.Locale;

/**
 * The vector width the kernels run at, as a value: the species of each element type at that width,
 * the lane counts, and a fixed-order horizontal sum built for it. One is chosen at start-up
 * ({@link #configured()}: the widest the JVM offers, or {@code -Dfinlora.simd=scalar|128|256|512});
 * weight matrices keep the one they were built with and pass it to their kernels, and the other
 * kernels take it as an argument. {@link #SCALAR} runs every kernel's scalar reference.
 *
 * <p>Why one final subclass per width rather than a record of species: the Vector API compiles to
 * vector instructions only where C2 sees a species as a constant. A species read from a field of an
 * object is not one (a dot product measured 8.5x slower), while a call to {@link #floats()} whose
 * receiver profile holds one subclass is inlined under a type guard and returns that subclass's
 * static final species, which is. A process runs one width, so every such call site stays
 * monomorphic. Code that mixes widths in one JVM (the width contract test) runs correctly but
 * without intrinsics.
 */
public abstract sealed class Simd permits Simd.Scalar, Simd.Bits128, Simd.Bits256, Simd.Bits512 {
    /** The scalar references of every kernel. */
    public static final Simd SCALAR = new Scalar();
    public static final Simd BITS_128 = new Bits128();
    public static final Simd BITS_256 = new Bits256();
    public static final Simd BITS_512 = new Bits512();

    static {
        // Before any kernel is hot enough for C2: the directive applies to compiles that start after it.
        C2Directives.installed();
    }

    private Simd() {
    }

    /** Vector bits (128, 256, 512), or 0 for the scalar references. */
    public abstract int bits();

    /** Whether kernels take their Vector API paths. */
    public abstract boolean vector();

    /** Floats of a full vector. */
    public abstract VectorSpecies<Float> floats();

    /** Ints of a full vector (as many lanes as {@link #floats()}). */
    public abstract VectorSpecies<Integer> ints();

    /** Shorts of a full vector (twice the float lanes). */
    public abstract VectorSpecies<Short> shorts();

    /** Bytes of a full vector. */
    public abstract VectorSpecies<Byte> bytes();

    /** Shorts at half the width: one per float lane (bf16/f16 weights, int16 values widened to floats). */
    public abstract VectorSpecies<Short> halfShorts();

    /** Bytes at half the width: one per short lane (int8 codes widened to {@link #shorts()}). */
    public abstract VectorSpecies<Byte> halfBytes();

    /**
     * The narrowest byte species with at least one byte per float lane (64 bits at 128 and 256, the
     * smallest species there is; 128 bits at 512): int8 codes widened to floats in
     * {@link #floatPartsPerByteLoad()} parts.
     */
    public abstract VectorSpecies<Byte> floatBytes();

    /** Fixed-order sum of the lanes (halves, then quarters, ...): the same bits in every compile tier. */
    public abstract float hsum(FloatVector v);

    /** Tokens of the GEMM register tile: 8 where there are 32 vector registers (AVX-512), else 4. */
    public abstract int gemmRows();

    /** Float lanes of a full vector (1 for the scalar references). */
    public final int floatLanes() {
        return vector() ? floats().length() : 1;
    }

    /** How many float vectors one {@link #floatBytes()} load widens into (2 at 128 bits, else 1). */
    public final int floatPartsPerByteLoad() {
        return floatBytes().length() / floats().length();
    }

    /** "scalar", "128", "256" or "512": the value {@code -Dfinlora.simd} takes. */
    public final String name() {
        return vector() ? Integer.toString(bits()) : "scalar";
    }

    /** e.g. "512-bit vectors, 16 float lanes" or "scalar reference kernels". */
    public final String describe() {
        return vector() ? bits() + "-bit vectors, " + floats().length() + " float lanes" : "scalar reference kernels";
    }

    @Override
    public final String toString() {
        return name();
    }

    /** The width of this many bits: 0 (scalar), 128, 256 or 512, whatever the host (a width the host lacks runs emulated). */
    public static Simd ofBits(int bits) {
        return switch (bits) {
            case 0 -> SCALAR;
            case 128 -> BITS_128;
            case 256 -> BITS_256;
            case 512 -> BITS_512;
            default -> throw new IllegalArgumentException("no vector width of " + bits + " bits");
        };
    }

    /** The widths a test exercises on any host: the scalar references and every vector width. */
    public static Simd[] all() {
        return new Simd[]{SCALAR, BITS_128, BITS_256, BITS_512};
    }

    /** The widest vectors this JVM compiles to instructions (its preferred species; -XX:MaxVectorSize caps it), 0 if under 128. */
    public static int nativeBits() {
        int b = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        return b >= 512 ? 512 : b >= 256 ? 256 : b >= 128 ? 128 : 0;
    }

    /**
     * The width named by a {@code -Dfinlora.simd} value, checked against this JVM: a width wider than its
     * vectors would run emulated in Java, hundreds of times slower, so it is refused with one line.
     */
    public static Simd parse(String value) {
        String v = value.strip().toLowerCase(Locale.ROOT);
        int bits = switch (v) {
            case "scalar", "0" -> 0;
            case "128" -> 128;
            case "256" -> 256;
            case "512" -> 512;
            default -> throw new FinloraException("finlora.simd=" + value + ": expected scalar, 128, 256 or 512");
        };
        int max = nativeBits();
        if (bits > max) {
            throw new FinloraException("finlora.simd=" + value + ": this JVM's widest vectors are " + (max == 0 ? "none" : max + " bits")
                    + " (CPU or -XX:MaxVectorSize); " + bits + "-bit vectors would run emulated, far slower: use "
                    + (max == 0 ? "scalar" : max + " or less"));
        }
        return ofBits(bits);
    }

    private static volatile Simd configured;

    /**
     * The width of this process: {@code -Dfinlora.simd} (the launcher sets it from {@code FINLORA_SIMD})
     * when given, else the widest the JVM offers. Resolved on first use; a bad value throws a
     * FinloraException on every call.
     */
    public static Simd configured() {
        Simd s = configured;
        if (s != null) return s;
        String v = System.getProperty("finlora.simd");
        s = v == null || v.isBlank() ? ofBits(nativeBits()) : parse(v);
        configured = s;
        return s;
    }

    /** The scalar references: no vectors at all. */
    static final class Scalar extends Simd {
        @Override
        public int bits() {
            return 0;
        }

        @Override
        public boolean vector() {
            return false;
        }

        private static UnsupportedOperationException none() {
            return new UnsupportedOperationException("the scalar kernels have no vector species");
        }

        @Override
        public VectorSpecies<Float> floats() {
            throw none();
        }

        @Override
        public VectorSpecies<Integer> ints() {
            throw none();
        }

        @Override
        public VectorSpecies<Short> shorts() {
            throw none();
        }

        @Override
        public VectorSpecies<Byte> bytes() {
            throw none();
        }

        @Override
        public VectorSpecies<Short> halfShorts() {
            throw none();
        }

        @Override
        public VectorSpecies<Byte> halfBytes() {
            throw none();
        }

        @Override
        public VectorSpecies<Byte> floatBytes() {
            throw none();
        }

        @Override
        public float hsum(FloatVector v) {
            throw none();
        }

        @Override
        public int gemmRows() {
            return 4;
        }
    }

    /** 128-bit vectors: SSE/AVX xmm, ARM NEON. */
    static final class Bits128 extends Simd {
        static final VectorSpecies<Float> F = FloatVector.SPECIES_128;
        static final VectorSpecies<Integer> I = IntVector.SPECIES_128;
        static final VectorSpecies<Short> S = ShortVector.SPECIES_128, HALF_S = ShortVector.SPECIES_64;
        static final VectorSpecies<Byte> B = ByteVector.SPECIES_128, HALF_B = ByteVector.SPECIES_64, FLOAT_B = ByteVector.SPECIES_64;
        static final VectorShuffle<Float> SWAP2 = VectorShuffle.fromValues(F, 2, 3, 0, 1);

        @Override
        public int bits() {
            return 128;
        }

        @Override
        public boolean vector() {
            return true;
        }

        @Override
        public VectorSpecies<Float> floats() {
            return F;
        }

        @Override
        public VectorSpecies<Integer> ints() {
            return I;
        }

        @Override
        public VectorSpecies<Short> shorts() {
            return S;
        }

        @Override
        public VectorSpecies<Byte> bytes() {
            return B;
        }

        @Override
        public VectorSpecies<Short> halfShorts() {
            return HALF_S;
        }

        @Override
        public VectorSpecies<Byte> halfBytes() {
            return HALF_B;
        }

        @Override
        public VectorSpecies<Byte> floatBytes() {
            return FLOAT_B;
        }

        @Override
        public float hsum(FloatVector v) {
            v = v.add(v.rearrange(SWAP2));
            return v.lane(0) + v.lane(1);
        }

        @Override
        public int gemmRows() {
            return 4;
        }
    }

    /** 256-bit vectors: AVX2 ymm. */
    static final class Bits256 extends Simd {
        static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
        static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
        static final VectorSpecies<Short> S = ShortVector.SPECIES_256, HALF_S = ShortVector.SPECIES_128;
        static final VectorSpecies<Byte> B = ByteVector.SPECIES_256, HALF_B = ByteVector.SPECIES_128, FLOAT_B = ByteVector.SPECIES_64;
        static final VectorShuffle<Float> SWAP4 = VectorShuffle.fromValues(F, 4, 5, 6, 7, 0, 1, 2, 3);
        static final VectorShuffle<Float> SWAP2 = VectorShuffle.fromValues(F, 2, 3, 0, 1, 6, 7, 4, 5);

        @Override
        public int bits() {
            return 256;
        }

        @Override
        public boolean vector() {
            return true;
        }

        @Override
        public VectorSpecies<Float> floats() {
            return F;
        }

        @Override
        public VectorSpecies<Integer> ints() {
            return I;
        }

        @Override
        public VectorSpecies<Short> shorts() {
            return S;
        }

        @Override
        public VectorSpecies<Byte> bytes() {
            return B;
        }

        @Override
        public VectorSpecies<Short> halfShorts() {
            return HALF_S;
        }

        @Override
        public VectorSpecies<Byte> halfBytes() {
            return HALF_B;
        }

        @Override
        public VectorSpecies<Byte> floatBytes() {
            return FLOAT_B;
        }

        @Override
        public float hsum(FloatVector v) {
            v = v.add(v.rearrange(SWAP4));
            v = v.add(v.rearrange(SWAP2));
            return v.lane(0) + v.lane(1);
        }

        @Override
        public int gemmRows() {
            return 4;
        }
    }

    /** 512-bit vectors: AVX-512 zmm (32 registers). */
    static final class Bits512 extends Simd {
        static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
        static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
        static final VectorSpecies<Short> S = ShortVector.SPECIES_512, HALF_S = ShortVector.SPECIES_256;
        static final VectorSpecies<Byte> B = ByteVector.SPECIES_512, HALF_B = ByteVector.SPECIES_256, FLOAT_B = ByteVector.SPECIES_128;
        static final VectorShuffle<Float> SWAP8 = VectorShuffle.fromValues(F, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
        static final VectorShuffle<Float> SWAP4 = VectorShuffle.fromValues(F, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11);
        static final VectorShuffle<Float> SWAP2 = VectorShuffle.fromValues(F, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);

        @Override
        public int bits() {
            return 512;
        }

        @Override
        public boolean vector() {
            return true;
        }

        @Override
        public VectorSpecies<Float> floats() {
            return F;
        }

        @Override
        public VectorSpecies<Integer> ints() {
            return I;
        }

        @Override
        public VectorSpecies<Short> shorts() {
            return S;
        }

        @Override
        public VectorSpecies<Byte> bytes() {
            return B;
        }

        @Override
        public VectorSpecies<Short> halfShorts() {
            return HALF_S;
        }

        @Override
        public VectorSpecies<Byte> halfBytes() {
            return HALF_B;
        }

        @Override
        public VectorSpecies<Byte> floatBytes() {
            return FLOAT_B;
        }

        @Override
        public float hsum(FloatVector v) {
            v = v.add(v.rearrange(SWAP8));
            v = v.add(v.rearrange(SWAP4));
            v = v.add(v.rearrange(SWAP2));
            return v.lane(0) + v.lane(1);
        }

        @Override
        public int gemmRows() {
            return 8;
        }
    }
}
