package org.finlora.cli;

import org.finlora.FinloraException;
import org.finlora.data.Datasets;
import org.finlora.data.Example;
import org.finlora.data.FinTask;
import org.finlora.eval.Evaluator;
import org.finlora.eval.TaskResult;
import org.finlora.io.Checkpoint;
import org.finlora.io.ModelLoader;
import org.finlora.kernel.Parallel;
import org.finlora.model.BatchGenerator;
import org.finlora.model.LlamaModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;

/**
 * {@code finlora bench eval}: the greedy evaluation of {@code finlora eval} run at several batch
 * sizes in one process (same loaded model, same JIT state), so the ratios to batch size 1 are not
 * skewed by start-up or by load that changes between processes. Every batch size first runs a
 * short warm-up so the kernels are compiled before timing; then --rounds passes alternate the batch
 * sizes and the best pass of each counts. Answers are compared to batch size 1.
 */
@Command(name = "eval", description = "Eval throughput (examples/s, tokens/s) at several batch sizes, with the ratio to batch size 1.")
final class BenchEvalCommand implements Runnable {
    @Option(names = "--model", required = true, description = "Model: folder, .gguf, llama2.c .bin, HF repo id or synthetic:<preset>.")
    String model;

    @Option(names = "--tokenizer", description = "Tokenizer file for llama2.c checkpoints (default: tokenizer.bin beside it).")
    Path tokenizer;

    @Option(names = "--data", required = true, description = "Examples as JSONL {\"context\", \"target\"} (.csv and .parquet by extension).")
    Path data;

    @Option(names = "--task", description = "Task of --data (default: inferred from the file).")
    String task;

    @Option(names = "--limit", defaultValue = "128", description = "First N examples; 0 = all (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--batch-sizes", split = ",", defaultValue = "1,8,32", description = "Batch sizes to time (default: ${DEFAULT-VALUE}).")
    List<Integer> batchSizes;

    @Option(names = "--warmup", defaultValue = "16", description = "Examples run untimed at each batch size first (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--rounds", defaultValue = "2", description = "Timed passes over all batch sizes; the best counts (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--quant", description = "Convert base weights on load: ${COMPLETION-CANDIDATES}.", completionCandidates = QuantNames.class)
    String quant;

    @Option(names = "--threads", description = "Worker threads (default: all processors).")
    Integer threads;

    @Option(names = "--prefix-reuse", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Copy the keys/values of a prompt's common start with the previous call's first prompt "
                    + "(as finlora eval does); --no-prefix-reuse starts every call cold (default: ${DEFAULT-VALUE}).")
    boolean prefixReuse;

    @Override
    public void run() {
        if (limit < 0) throw new FinloraException("--limit " + limit + ": expected a number >= 0");
        if (rounds < 1) throw new FinloraException("--rounds " + rounds + ": expected a number >= 1");
        if (warmup < 0) throw new FinloraException("--warmup " + warmup + ": expected a number >= 0");
        for (int b : batchSizes) if (b < 1) throw new FinloraException("--batch-sizes: " + b + " is not a batch size >= 1");
        if (threads != null) Parallel.setThreads(threads);
        if (!Files.isRegularFile(data)) throw new FinloraException("--data " + data + ": no such file");
        List<Example> examples = Datasets.read(data, limit);
        FinTask t = task == null ? FinTask.infer(data, examples) : FinTask.byName(task);
        Evaluator.validate(t, examples);
        List<Example> warm = examples.subList(0, Math.min(warmup, examples.size()));

        try (Checkpoint ck = ModelLoader.load(model, tokenizer)) {
            LlamaModel m = LlamaModel.load(ck, quant);
            System.out.println(Host.line());
            System.out.printf(Locale.ROOT, "model %s, task %s, %d examples (max %d new tokens), prefix reuse across calls %s%n",
                    ck.source(), t.name(), examples.size(), t.maxNewTokens(), prefixReuse);
            // Batch size 1 first: it is the reference for the ratios and the answers.
            List<Integer> order = new ArrayList<>(new LinkedHashSet<>(batchSizes));
            if (order.remove(Integer.valueOf(1))) order.addFirst(1);
            for (int bs : order) {
                if (!warm.isEmpty()) Evaluator.evaluate("warmup", t, warm, new BatchGenerator(m, ck.tokenizer(), prefixReuse), bs, Evaluator.Progress.NONE);
            }
            // Rounds alternate the batch sizes, so load from other processes hits them alike; the best round counts.
            double[] best = new double[order.size()];
            double[] bestTokens = new double[order.size()];
            List<String> baseOutputs = null;
            for (int round = 1; round <= rounds; round++) {
                for (int i = 0; i < order.size(); i++) {
                    int bs = order.get(i);
                    BatchGenerator g = new BatchGenerator(m, ck.tokenizer(), prefixReuse);
                    long cpu0 = BenchCommand.processCpuNanos(), w0 = System.nanoTime();
                    TaskResult r = Evaluator.evaluate("bench", t, examples, g, bs, Evaluator.Progress.NONE);
                    long wall = System.nanoTime() - w0, cpu = BenchCommand.processCpuNanos();
                    double exPerS = examples.size() / r.seconds();
                    long tokens = g.prefillTokens + g.sharedPrefixTokens + g.decodeTokens;
                    if (exPerS > best[i]) {
                        best[i] = exPerS;
                        bestTokens[i] = tokens / r.seconds();
                    }
                    List<String> outputs = new ArrayList<>();
                    for (TaskResult.Answer a : r.answers()) outputs.add(a.output());
                    if (bs == 1 && baseOutputs == null) baseOutputs = outputs;
                    String same = "";
                    if (baseOutputs != null && baseOutputs != outputs) {
                        int differ = 0;
                        for (int j = 0; j < outputs.size(); j++) if (!outputs.get(j).equals(baseOutputs.get(j))) differ++;
                        same = differ == 0 ? ", answers identical to batch 1" : ", " + differ + " answers DIFFER from batch 1";
                    }
                    System.out.printf(Locale.ROOT,
                            "round %d batch %3d: %.2f s, %.2f examples/s, %.1f tokens/s (prompt %d + shared-prefix %d + decode %d; prefill %.2f s, decode %.2f s), "
                                    + "%s, accuracy %.4f%s%n",
                            round, bs, r.seconds(), exPerS, tokens / r.seconds(), g.prefillTokens, g.sharedPrefixTokens, g.decodeTokens,
                            g.prefillNanos / 1e9, g.decodeNanos / 1e9, BenchCommand.cores(cpu0 < 0 ? -1 : cpu - cpu0, wall), r.accuracy(), same);
                }
            }
            double base = order.getFirst() == 1 ? best[0] : Double.NaN;
            for (int i = 0; i < order.size(); i++) {
                System.out.printf(Locale.ROOT, "batch %3d: %.2f examples/s, %.1f tokens/s, %s x batch 1 (best of %d rounds)%n", order.get(i), best[i],
                        bestTokens[i], Double.isNaN(base) ? "n/a" : String.format(Locale.ROOT, "%.2f", best[i] / base), rounds);
            }
            System.out.println("peak RSS: " + BenchCommand.mib(BenchCommand.peakRssBytes()));
        }
    }
}
