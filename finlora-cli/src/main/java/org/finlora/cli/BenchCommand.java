package org.finlora.cli;

import org.finlora.FinloraException;
import org.finlora.io.Checkpoint;
import org.finlora.io.ModelLoader;
import org.finlora.kernel.F32Matrix;
import org.finlora.kernel.Parallel;
import org.finlora.kernel.Simd;
import org.finlora.kernel.Streaming;
import org.finlora.model.KvCache;
import org.finlora.model.LlamaModel;
import org.finlora.model.LlamaWeights;
import org.finlora.model.Sampler;
import org.finlora.tensor.Floats;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/** {@code finlora bench}: throughput figures (tokens/s, GFLOPS, GB/s) and peak memory. */
@Command(name = "bench", description = "Throughput benchmarks.",
        subcommands = {BenchCommand.Generate.class, BenchCommand.Matmul.class, BenchTrainCommand.class, BenchQuantCommand.class, BenchEvalCommand.class})
final class BenchCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.err);
    }

    /** Peak resident set size (VmHWM of /proc/self/status) in bytes, or -1 where unavailable. */
    static long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** CPU time of the whole process in ns (all threads), or -1. */
    static long processCpuNanos() {
        var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : -1;
    }

    /** Bytes allocated on the heap so far by all live threads, or -1 where the JVM does not count them. */
    static long heapAllocatedBytes() {
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        return threads instanceof com.sun.management.ThreadMXBean sun && sun.isThreadAllocatedMemorySupported()
                && sun.isThreadAllocatedMemoryEnabled() ? sun.getTotalThreadAllocatedBytes() : -1;
    }

    /** "x.xx cores busy": how much CPU this process actually got over an interval (other load steals the rest). */
    static String cores(long cpuNanos, long wallNanos) {
        return cpuNanos < 0 ? "cpu n/a" : String.format(Locale.ROOT, "%.2f cores busy", (double) cpuNanos / wallNanos);
    }

    static String mib(long bytes) {
        return bytes < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    @Command(name = "generate", description = "Prefill and decode tokens/s of a model (random prompt ids, greedy, no early stop).")
    static final class Generate implements Runnable {
        @Option(names = "--model", defaultValue = "synthetic:llama-3.2-1b", description = "Model (default: ${DEFAULT-VALUE}).")
        String model;

        @Option(names = "--tokenizer", description = "Tokenizer file for llama2.c checkpoints.")
        Path tokenizer;

        @Option(names = "--quant", description = "Convert weights on load: ${COMPLETION-CANDIDATES}.", completionCandidates = QuantNames.class)
        String quant;

        @Option(names = "--prompt-tokens", defaultValue = "128", description = "Prompt length (default: ${DEFAULT-VALUE}).")
        int promptTokens;

        @Option(names = "--gen-tokens", defaultValue = "64", description = "Tokens decoded (default: ${DEFAULT-VALUE}).")
        int genTokens;

        @Option(names = "--threads", description = "Worker threads (default: all processors).")
        Integer threads;

        // Off by default, so that peak RSS stays comparable with runs without it: the reads make the run
        // longer, and peak RSS then more often includes more of the young generation that load and prefill
        // grew (-Xlog:gc: eden at about 1.2 GB in every run; peak RSS 1728-2205 MiB depending on how much
        // of it was touched before the end; 3 of 10 runs above 1.8 GB with probes, 0 of 10 without).
        @Option(names = "--probes", defaultValue = "0", description = "Cut decode into this many parts, with a read of "
                + "all the weights it streams before each part and after the last: the memory bandwidth limit, measured "
                + "alongside (may raise peak RSS; default: ${DEFAULT-VALUE}, no probe).")
        int probes;

        /** Keeps the probe's checksum alive. */
        private static volatile double sink;

        @Override
        public void run() {
            if (promptTokens < 1 || genTokens < 1) throw new FinloraException("--prompt-tokens and --gen-tokens must be >= 1");
            if (probes < 0) throw new FinloraException("--probes must be >= 0, got " + probes);
            if (threads != null) Parallel.setThreads(threads);
            long t0 = System.nanoTime();
            try (Checkpoint ck = ModelLoader.load(model, tokenizer)) {
                LlamaModel m = LlamaModel.load(ck, quant);
                double loadS = (System.nanoTime() - t0) / 1e9;
                LlamaWeights w = m.weights;
                int vocab = m.config.vocabSize();
                if (promptTokens + genTokens > m.config.maxSeqLen()) {
                    throw new FinloraException("--prompt-tokens + --gen-tokens = " + (promptTokens + genTokens)
                            + " exceeds the model context " + m.config.maxSeqLen());
                }
                // Bytes one decode step streams: every block linear plus lm_head (an embedding lookup reads one row).
                long perToken = w.byteSize() - (w.lmHead == w.tokenEmbedding ? 0 : w.tokenEmbedding.byteSize());
                System.out.println(Host.line());
                System.out.println("model: " + ck.source() + ", weights " + w.lmHead.format() + "/" + w.layers[0].wq().format()
                        + " " + mib(w.byteSize()));
                System.out.printf(Locale.ROOT, "load: %.2f s%n", loadS);

                SplittableRandom rnd = new SplittableRandom(1);
                int[] prompt = new int[promptTokens];
                for (int i = 0; i < promptTokens; i++) prompt[i] = rnd.nextInt(Math.min(vocab, 256));

                // Warm-up (JIT) with the measured shapes: one prefill chunk as long as the measured ones (the
                // many-token paths differ from the few-token ones) and a few decode steps; then the measured
                // run on a fresh cache.
                int warmLen = Math.min(256, promptTokens);
                KvCache warm = m.newCache(warmLen + 3);
                m.forward(warm, prompt, 0, warmLen, 0, false);
                int[] one = {0};
                for (int i = 0; i < 3; i++) m.forward(warm, one, 0, 1, warmLen + i, false);
                List<MemorySegment> streamed = w.decodeStorage();
                long probeBytes = 0;
                for (MemorySegment s : streamed) probeBytes += s.byteSize();
                int parts = Math.min(probes, genTokens);
                for (int i = 0; i < (parts > 0 ? 3 : 0); i++) sink += Streaming.sumAll(w.simd, streamed);

                KvCache cache = m.newCache(promptTokens + genTokens);
                long c0 = processCpuNanos();
                long p0 = System.nanoTime();
                float[] logits = null;
                for (int p = 0; p < promptTokens; p += 256) {
                    int n = Math.min(256, promptTokens - p);
                    logits = m.forward(cache, prompt, p, n, p, false);
                }
                long p1 = System.nanoTime();
                long c1 = processCpuNanos();
                int pos = promptTokens;
                // Decode in parts; with probes, a timed read of the streamed weights before each part and after
                // the last, so the limit is measured within seconds of the decode it bounds (on this VM the
                // bandwidth has drifted by 1.5x within minutes). Probe time is not decode time.
                double[] probeS = new double[parts + 1], partS = new double[Math.max(1, parts)];
                int[] partTokens = new int[partS.length];
                long probeCpu = 0, probeWall = 0, decodeCpu = 0, decodeWall = 0, decodeAlloc = 0;
                for (int k = 0, done = 0, nParts = Math.max(1, parts); k <= nParts; k++) {
                    if (parts > 0) {   // the read before part k, or after the last one when k = parts
                        long q0 = System.nanoTime(), qc0 = processCpuNanos();
                        sink += Streaming.sumAll(w.simd, streamed);
                        probeS[k] = (System.nanoTime() - q0) / 1e9;
                        probeCpu += processCpuNanos() - qc0;
                        probeWall += System.nanoTime() - q0;
                    }
                    if (k == nParts) break;
                    int end = (int) ((long) genTokens * (k + 1) / nParts);
                    partTokens[k] = end - done;
                    long s0 = System.nanoTime(), sc0 = processCpuNanos(), sa0 = heapAllocatedBytes();
                    for (; done < end; done++) {
                        one[0] = Sampler.argmax(logits, 0, vocab);
                        logits = m.forward(cache, one, 0, 1, pos++, false);
                    }
                    partS[k] = (System.nanoTime() - s0) / 1e9;
                    decodeCpu += processCpuNanos() - sc0;
                    decodeWall += System.nanoTime() - s0;
                    decodeAlloc = decodeAlloc < 0 || sa0 < 0 ? -1 : decodeAlloc + heapAllocatedBytes() - sa0;
                }
                double prefillS = (p1 - p0) / 1e9, decodeS = decodeWall / 1e9;
                System.out.printf(Locale.ROOT, "prefill: %d tokens in %.3f s = %.2f tok/s (%s)%n", promptTokens, prefillS, promptTokens / prefillS,
                        cores(c1 - c0, p1 - p0));
                System.out.printf(Locale.ROOT, "decode: %d tokens in %.3f s = %.2f tok/s (%.2f GB/s of weights streamed, %s)%n",
                        genTokens, decodeS, genTokens / decodeS, perToken * (genTokens / decodeS) / 1e9, cores(decodeCpu, decodeWall));
                // A kernel compiled with boxed vectors allocates megabytes per token on top of the usual (about 0.7 MiB
                // per token for the 1B model, mostly the new logits array).
                if (decodeAlloc >= 0) System.out.printf(Locale.ROOT, "decode heap allocation: %.1f KiB/token%n", decodeAlloc / 1024.0 / genTokens);
                if (parts > 0) printBandwidthLimit(genTokens, parts, perToken, decodeS, partTokens, partS, probeS, probeBytes, cores(probeCpu, probeWall));
                System.out.println("peak RSS: " + mib(peakRssBytes()));
            }
        }
    }

    /**
     * The decode's bandwidth limit: weight bytes per token over the median read bandwidth of the probes
     * taken between its parts, and decode as a share of it; also the lowest and highest share of a single
     * part, against the mean of the two probes around it.
     */
    static void printBandwidthLimit(int genTokens, int parts, long perToken, double decodeS, int[] partTokens, double[] partS,
                                    double[] probeS, long probeBytes, String probeCores) {
        double[] gbs = new double[parts + 1];
        for (int k = 0; k <= parts; k++) gbs[k] = probeBytes / probeS[k] / 1e9;
        double[] sorted = gbs.clone();
        java.util.Arrays.sort(sorted);
        double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        double limit = median * 1e9 / perToken;
        double share = genTokens / decodeS / limit;
        double lo = Double.MAX_VALUE, hi = 0;
        for (int k = 0; k < parts; k++) {
            double partGbs = perToken * (partTokens[k] / partS[k]) / 1e9;
            double r = partGbs / ((gbs[k] + gbs[k + 1]) / 2);
            lo = Math.min(lo, r);
            hi = Math.max(hi, r);
        }
        System.out.printf(Locale.ROOT, "weights read bandwidth (%d reads of %s, around %d decode parts): median %.2f GB/s, %.2f-%.2f (%s)%n",
                parts + 1, mib(probeBytes), parts, median, sorted[0], sorted[sorted.length - 1], probeCores);
        System.out.printf(Locale.ROOT, "decode vs bandwidth limit: %.2f of %.2f tok/s (parts %.2f-%.2f)%n", share, limit, lo, hi);
    }

    @Command(name = "matmul", description = "f32 matmul GFLOPS (prefill-shaped, through the kernel prefill uses), f32 matvec GB/s and memory read bandwidth GB/s.")
    static final class Matmul implements Runnable {
        @Option(names = "--rows", defaultValue = "4096", description = "Weight rows (default: ${DEFAULT-VALUE}).")
        int rows;

        @Option(names = "--cols", defaultValue = "4096", description = "Weight columns (default: ${DEFAULT-VALUE}).")
        int cols;

        @Option(names = "--tokens", defaultValue = "128", description = "Tokens per matmul (default: ${DEFAULT-VALUE}).")
        int tokens;

        @Option(names = "--stream-mib", defaultValue = "1024", description = "Buffer streamed for the bandwidth probe (default: ${DEFAULT-VALUE}).")
        int streamMib;

        @Option(names = "--seconds", defaultValue = "2", description = "Minimum time per measurement (default: ${DEFAULT-VALUE}).")
        double seconds;

        @Option(names = "--threads", description = "Worker threads (default: all processors).")
        Integer threads;

        @Option(names = "--formats", split = ",", defaultValue = "q8_0,q4_0",
                description = "Other weight formats whose decode-shaped matvec is measured too (default: ${DEFAULT-VALUE}).")
        java.util.List<String> formats;

        @Override
        public void run() {
            if (threads != null) Parallel.setThreads(threads);
            SplittableRandom rnd = new SplittableRandom(2);
            MemorySegment wSeg = Arena.ofAuto().allocate(4L * rows * cols, 64);
            for (long i = 0; i < (long) rows * cols; i++) wSeg.setAtIndex(Floats.F32_LE, i, (float) (rnd.nextDouble() - 0.5));
            Simd simd = Simd.configured();
            F32Matrix w = new F32Matrix(rows, cols, wSeg, simd);
            float[] x = new float[tokens * cols];
            for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextDouble() - 0.5);
            float[] y = new float[tokens * rows];
            System.out.println(Host.line());

            double s = time(() -> w.matmul(x, y, tokens));
            System.out.printf(Locale.ROOT, "f32 matmul [%d x %d] x %d tokens: %.2f GFLOPS (%s)%n", rows, cols, tokens, 2.0 * rows * cols * tokens / s / 1e9, lastCores);
            double sv = time(() -> w.matmul(x, y, 1));
            System.out.printf(Locale.ROOT, "f32 matvec [%d x %d] (decode shape): %.2f GB/s of weights (%s)%n", rows, cols, 4.0 * rows * cols / sv / 1e9, lastCores);

            org.finlora.tensor.Tensor wt = new org.finlora.tensor.Tensor("bench", org.finlora.tensor.DType.F32, new long[]{rows, cols}, wSeg);
            for (String f : formats) {
                org.finlora.tensor.WeightMatrix q = org.finlora.kernel.WeightFormats.parse(f).quantize(wt, simd);
                double sq = time(() -> q.matmul(x, y, 1));
                System.out.printf(Locale.ROOT, "%s matvec [%d x %d]: %.2f GB/s of weights, %.2f G weights/s (%s)%n", f, rows, cols,
                        q.byteSize() / sq / 1e9, (double) rows * cols / sq / 1e9, lastCores);
                double sp = time(() -> q.matmul(x, y, tokens));
                System.out.printf(Locale.ROOT, "%s matmul x %d tokens: %.2f GFLOPS (%s)%n", f, tokens, 2.0 * rows * cols * tokens / sp / 1e9, lastCores);
            }

            MemorySegment buf = Arena.ofAuto().allocate((long) streamMib << 20, 64);
            buf.fill((byte) 1);
            double ss = time(() -> Streaming.sumFloats(simd, buf));
            System.out.printf(Locale.ROOT, "memory read bandwidth (%d MiB stream): %.2f GB/s (%s)%n", streamMib, buf.byteSize() / ss / 1e9, lastCores);

            if (!simd.vector()) {
                System.out.println("peak RSS: " + mib(peakRssBytes()));
                return;
            }
            double c1 = time(() -> org.finlora.kernel.ComputeProbe.fmaChains(simd));
            double cn = time(() -> org.finlora.kernel.ComputeProbe.fmaChainsOnEveryThread(simd));
            double g1 = org.finlora.kernel.ComputeProbe.flopsPerCall(simd) / c1 / 1e9;
            double gn = Parallel.threads() * org.finlora.kernel.ComputeProbe.flopsPerCall(simd) / cn / 1e9;
            System.out.printf(Locale.ROOT, "vector FMA throughput: 1 thread %.1f GFLOPS, %d threads %.1f GFLOPS = %.2fx (%s)%n", g1,
                    Parallel.threads(), gn, gn / g1, lastCores);
            System.out.println("peak RSS: " + mib(peakRssBytes()));
        }

        private String lastCores = "";

        /**
         * Mean seconds per call over a window of --seconds, after a warm-up as long (and of at least 3
         * calls); notes the CPU share in lastCores. The warm-up is that long because a kernel runs its slow
         * profiled tier-3 code until C2 has compiled it, which for the q4_0 tile kernel on a [2048 x 2048]
         * matvec took over a second (its first window read 26-29 G weights/s, a second one in the same
         * process 40-42).
         */
        private double time(Runnable body) {
            long warm = System.nanoTime();
            for (int i = 0; i < 3 || System.nanoTime() - warm < seconds * 1e9; i++) body.run();
            int iters = 0;
            long cpu0 = processCpuNanos();
            long start = System.nanoTime();
            do {
                body.run();
                iters++;
            } while (System.nanoTime() - start < seconds * 1e9);
            long wall = System.nanoTime() - start;
            lastCores = cores(processCpuNanos() - cpu0, wall);
            return wall / 1e9 / iters;
        }
    }
}
