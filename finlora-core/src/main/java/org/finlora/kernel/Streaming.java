package org.finlora.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.List;

/** Memory streaming probe: the read bandwidth a memory-bound decode step can reach at best. */
public final class Streaming {
    private Streaming() {
    }

    /**
     * Reads every segment once, in order, each by {@link #sumFloats}: the streaming bandwidth of exactly
     * this memory (a model's weights, say). Returns a checksum, which the caller should use so the reads
     * cannot be optimized away.
     */
    public static double sumAll(Simd simd, List<MemorySegment> segments) {
        double s = 0;
        for (MemorySegment seg : segments) s += sumFloats(simd, seg);
        return s;
    }

    /**
     * Sum of the little-endian floats of seg (up to 3 trailing bytes, past the last whole float, are not
     * read), read once in parallel contiguous chunks.
     */
    public static double sumFloats(Simd simd, MemorySegment seg) {
        long n = seg.byteSize() / 4;
        int chunks = (int) Math.max(1, Math.min(1 << 20, n / (1 << 16)));
        long per = (n + chunks - 1) / chunks;
        double[] partial = new double[chunks];
        Parallel.forRange(chunks, 1, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                long s = c * per;
                MemorySegment part = seg.asSlice(4 * s, 4 * (Math.min(n, s + per) - s));
                partial[c] = simd.vector() ? sumChunk(simd, part) : sumChunkScalar(part);
            }
        });
        double total = 0;
        for (double p : partial) total += p;
        return total;
    }

    /** One chunk in its own small method, so it is JIT-compiled as a whole rather than only via OSR. */
    private static double sumChunk(Simd simd, MemorySegment part) {
        VectorSpecies<Float> F = simd.floats();
        int L = F.length();
        int cnt = (int) (part.byteSize() / 4);
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i + 4 * L <= cnt; i += 4 * L) {
            long o = 4L * i;
            a0 = a0.add(FloatVector.fromMemorySegment(F, part, o, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(F, part, o + 4 * L, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(F, part, o + 8 * L, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(F, part, o + 12 * L, ByteOrder.LITTLE_ENDIAN));
        }
        double sum = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        for (; i < cnt; i++) sum += part.get(org.finlora.tensor.Floats.F32_LE, 4L * i);
        return sum;
    }

    private static double sumChunkScalar(MemorySegment part) {
        int cnt = (int) (part.byteSize() / 4);
        float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        int i = 0;
        for (; i + 4 <= cnt; i += 4) {
            a0 += part.get(org.finlora.tensor.Floats.F32_LE, 4L * i);
            a1 += part.get(org.finlora.tensor.Floats.F32_LE, 4L * i + 4);
            a2 += part.get(org.finlora.tensor.Floats.F32_LE, 4L * i + 8);
            a3 += part.get(org.finlora.tensor.Floats.F32_LE, 4L * i + 12);
        }
        double sum = (a0 + a1) + (a2 + a3);
        for (; i < cnt; i++) sum += part.get(org.finlora.tensor.Floats.F32_LE, 4L * i);
        return sum;
    }
}
