package org.finlora.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.Random;

/**
 * Scratch timing (not a test, not JMH): what bounds the NF4 decode on 256-bit hardware. The same
 * one-thread dot loop over packed 4-bit codes (in L2) with three lookups: the kernel's (two 8-lane
 * permutes of the table halves and a blend per 8 codes), the blend written as and-not/and/or, and a
 * single permute per 8 codes (wrong values, the permute cost alone). Run from the test classpath:
 * java --add-modules jdk.incubator.vector -cp finlora-core/target/classes:finlora-core/target/test-classes org.finlora.kernel.Nf4LookupBench
 */
public final class Nf4LookupBench {
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    private static IntVector tLo, tHi;
    /** The kernel whose lookup is the baseline (Bnb4bitMatrix.lookup: two permutes and a blend). */
    private static Bnb4bitMatrix kernel;

    private static FloatVector bitwise(IntVector code, IntVector bit3AtSign) {
        IntVector m = bit3AtSign.lanewise(VectorOperators.ASHR, 31);
        return code.selectFrom(tLo).lanewise(VectorOperators.AND_NOT, m).or(code.selectFrom(tHi).and(m)).reinterpretAsFloats();
    }

    private static float run(int variant, MemorySegment codes, float[] x, int rows, int cols) {
        Bnb4bitMatrix m = kernel;
        float total = 0;
        long rowBytes = cols / 2;
        for (int r = 0; r < rows; r++) {
            long o = r * rowBytes;
            FloatVector acc0 = FloatVector.zero(F8), acc1 = acc0;
            for (int c = 0; c < cols; c += 16, o += 8) {
                IntVector iv = (IntVector) ByteVector.fromMemorySegment(B8, codes, o, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
                IntVector ih = iv.lanewise(VectorOperators.LSHR, 4);
                FloatVector lo, hi;
                if (variant == 0) {
                    lo = m.lookup(iv, iv.lanewise(VectorOperators.LSHL, 28));
                    hi = m.lookup(ih, iv.lanewise(VectorOperators.LSHL, 24));
                } else if (variant == 1) {
                    lo = bitwise(iv, iv.lanewise(VectorOperators.LSHL, 28));
                    hi = bitwise(ih, iv.lanewise(VectorOperators.LSHL, 24));
                } else {
                    lo = iv.selectFrom(tLo).reinterpretAsFloats();
                    hi = ih.selectFrom(tLo).reinterpretAsFloats();
                }
                acc0 = lo.fma(FloatVector.fromArray(F8, x, c), acc0);
                acc1 = hi.fma(FloatVector.fromArray(F8, x, c + 8), acc1);
            }
            total += acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        }
        return total;
    }

    public static void main(String[] args) {
        int rows = 1024, cols = 2048;   // 1 MiB of codes
        float[] table = org.finlora.quant.Bnb4bit.Type.NF4.table();
        kernel = Bnb4bitMatrix.quantize(DequantKernelChecks.tensor("w", org.finlora.tensor.DType.F32, 1, 64, 1), org.finlora.quant.Bnb4bit.Type.NF4, 64, false);
        tLo = FloatVector.fromArray(F8, table, 0).reinterpretAsInts();
        tHi = FloatVector.fromArray(F8, table, 8).reinterpretAsInts();
        MemorySegment codes = Arena.ofAuto().allocate((long) rows * cols / 2, 64);
        Random rnd = new Random(1);
        for (long i = 0; i < codes.byteSize(); i++) codes.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt());
        float[] x = new float[cols];
        for (int i = 0; i < cols; i++) x[i] = (float) rnd.nextGaussian();
        String[] names = {"2 permutes + blendv per 8", "2 permutes + and-not/and/or", "1 permute per 8 (cost only)"};
        double[] best = new double[3];
        float sink = 0;
        for (int round = 0; round < 4; round++) {
            for (int v = 0; v < 3; v++) {
                for (int k = 0; k < 20; k++) {
                    long t0 = System.nanoTime();
                    sink += run(v, codes, x, rows, cols);
                    double gcodes = (double) rows * cols / (System.nanoTime() - t0);
                    if (round > 0) best[v] = Math.max(best[v], gcodes);
                }
            }
        }
        for (int v = 0; v < 3; v++) System.out.printf(Locale.ROOT, "%-30s %6.2f G codes/s (1 thread)%n", names[v], best[v]);
        System.out.println(sink == 0 ? "" : "(checksum " + sink + ")");
    }
}
