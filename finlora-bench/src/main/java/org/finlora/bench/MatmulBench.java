package org.finlora.bench;

import org.finlora.kernel.WeightFormats;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;
import org.finlora.tensor.WeightMatrix;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Forward (x·Wᵀ) and input-gradient (dy·W) kernels of every weight format on a Llama-3.2-1B-sized
 * projection (2048 × 2048). T = 1 is decode (bandwidth-bound); T = 64 and 256 are prefill and the
 * LoRA training backward through frozen weights (B·seq tokens, compute-bound).
 * Run (after ./mvnw -q -B install -DskipTests):
 * java --add-modules jdk.incubator.vector -cp "finlora-bench/target/classes:finlora-core/target/classes:finlora-bench/target/lib/*" org.openjdk.jmh.Main MatmulBench
 * Before/after comparisons: copy finlora-core/target/classes of each version aside and run both
 * back to back with the copy in place of finlora-core/target/classes (see docs/performance.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0"})
public class MatmulBench {
    @Param({"f32", "bf16", "q8_0", "q4_0", "nf4"})
    public String format;

    @Param({"1", "64", "256"})
    public int tokens;

    @Param({"2048"})
    public int rows;

    @Param({"2048"})
    public int cols;

    WeightMatrix w;
    float[] x, y, dx;

    @Setup(Level.Trial)
    public void setup() {
        SplittableRandom rnd = new SplittableRandom(42);
        MemorySegment data = Arena.ofAuto().allocate(4L * rows * cols, 64);
        for (long i = 0; i < (long) rows * cols; i++) data.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) (rnd.nextGaussian() * 0.02));
        Tensor t = new Tensor("bench.weight", DType.F32, new long[]{rows, cols}, data);
        w = WeightFormats.parse(format).quantize(t, org.finlora.kernel.Simd.configured());
        x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        y = new float[tokens * rows];
        dx = new float[tokens * cols];
    }

    @Benchmark
    public float[] forward() {
        w.matmul(x, y, tokens);
        return y;
    }

    @Benchmark
    public float[] inputGradient() {
        w.matmulTransposed(y, dx, tokens);
        return dx;
    }
}
