package org.finlora.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Compute probe: register-resident vector FMA throughput on one thread and on every pool thread.
 * The ratio says whether the processors the OS reports compute independently: about N on N real cores,
 * far less when virtual CPUs are hyper-thread siblings of one core (then compute-bound kernels such as
 * 4-bit decode gain little from a second thread while memory-bound ones still do).
 */
public final class ComputeProbe {
    /** FMAs per chain per call: long enough to swamp the dispatch, short enough to repeat. */
    private static final int STEPS = 1 << 22;
    /** Where results go, so the JIT cannot drop the loops. */
    private static volatile float sink;

    private ComputeProbe() {
    }

    /** Floating-point operations of one {@link #fmaChains()} call. */
    public static double flopsPerCall(Simd simd) {
        return 2.0 * STEPS * 8 * simd.floatLanes();
    }

    /** 8 independent FMA chains (enough to cover the FMA latency) over vectors of the width (needs a vector width). */
    public static void fmaChains(Simd simd) {
        VectorSpecies<Float> F = simd.floats();
        FloatVector m = FloatVector.broadcast(F, 0.999999f), c = FloatVector.broadcast(F, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(F, 1f), a1 = a0.add(c), a2 = a1.add(c), a3 = a2.add(c);
        FloatVector a4 = a3.add(c), a5 = a4.add(c), a6 = a5.add(c), a7 = a6.add(c);
        for (int i = 0; i < STEPS; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
        }
        sink = a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(a6.add(a7))).lane(0);
    }

    /** One {@link #fmaChains()} per pool thread, all at once. */
    public static void fmaChainsOnEveryThread(Simd simd) {
        Parallel.forRange(Parallel.threads(), 1, (s, e) -> {
            for (int i = s; i < e; i++) fmaChains(simd);
        });
    }
}
