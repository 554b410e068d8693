package org.finlora.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static org.finlora.kernel.Vectors.F;
import static org.finlora.kernel.Vectors.L;

/** Memory streaming probe: the read bandwidth a memory-bound decode step can reach at best. */
public final class Streaming {
    private Streaming() {
    }

    /** Sum of all little-endian floats of seg (byteSize a multiple of 4), read once in parallel contiguous chunks. */
    public static double sumFloats(MemorySegment seg) {
        long n = seg.byteSize() / 4;
        int chunks = (int) Math.max(1, Math.min(1 << 20, n / (1 << 16)));
        long per = (n + chunks - 1) / chunks;
        double[] partial = new double[chunks];
        Parallel.forRange(chunks, 1, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                long s = c * per, e = Math.min(n, s + per);
                FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
                long i = s;
                for (; i + 4 * L <= e; i += 4 * L) {
                    long o = 4 * i;
                    a0 = a0.add(FloatVector.fromMemorySegment(F, seg, o, ByteOrder.LITTLE_ENDIAN));
                    a1 = a1.add(FloatVector.fromMemorySegment(F, seg, o + 4 * L, ByteOrder.LITTLE_ENDIAN));
                    a2 = a2.add(FloatVector.fromMemorySegment(F, seg, o + 8 * L, ByteOrder.LITTLE_ENDIAN));
                    a3 = a3.add(FloatVector.fromMemorySegment(F, seg, o + 12 * L, ByteOrder.LITTLE_ENDIAN));
                }
                double sum = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
                for (; i < e; i++) sum += seg.get(org.finlora.tensor.Floats.F32_LE, 4 * i);
                partial[c] = sum;
            }
        });
        double total = 0;
        for (double p : partial) total += p;
        return total;
    }
}
