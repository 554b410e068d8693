package org.finlora.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API setup shared by the kernels: 256-bit float lanes (8 floats), with the matching byte
 * and short species used to widen packed weights. {@code -Dfinlora.vector=false} (or hardware with
 * less than 256-bit vectors) selects the scalar reference kernels everywhere.
 */
public final class Vectors {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    /** 8 bytes: one float vector's worth of int8 / nibble-pairs. */
    static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    /** 8 shorts: one float vector's worth of bf16/f16. */
    static final VectorSpecies<Short> S8 = ShortVector.SPECIES_128;
    /** 16 bytes: int8 codes (or nibble pairs) widened to 16 short lanes. */
    static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    /** 16 shorts: the lanes of the integer dot products of the int8-activation decodes. */
    static final VectorSpecies<Short> S16 = ShortVector.SPECIES_256;
    /** 8 ints: packed values widened before conversion to floats. */
    static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    static final int L = F.length();
    /** Lane swaps for a fixed-order horizontal sum: halves, then pairs within halves. */
    static final VectorShuffle<Float> SWAP4 = VectorShuffle.fromValues(F, 4, 5, 6, 7, 0, 1, 2, 3);
    static final VectorShuffle<Float> SWAP2 = VectorShuffle.fromValues(F, 2, 3, 0, 1, 6, 7, 4, 5);

    /** Whether the kernels take their Vector API paths. */
    public static final boolean ENABLED = !"false".equalsIgnoreCase(System.getProperty("finlora.vector", "true"))
            && FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256;

    static {
        // Before any kernel is hot enough for C2: the directive applies to compiles that start after it.
        if (ENABLED) C2Directives.installed();
    }

    private Vectors() {
    }
}
