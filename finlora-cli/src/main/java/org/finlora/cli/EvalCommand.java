package org.finlora.cli;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.finlora.FinloraException;
import org.finlora.data.Datasets;
import org.finlora.data.Example;
import org.finlora.data.FinTask;
import org.finlora.eval.EvalSuite;
import org.finlora.eval.NewTokenBudget;
import org.finlora.eval.Report;
import org.finlora.eval.TaskResult;
import org.finlora.eval.TextGenerator;
import org.finlora.io.AtomicFiles;
import org.finlora.io.Checkpoint;
import org.finlora.io.InputFiles;
import org.finlora.io.ModelLoader;
import org.finlora.kernel.Parallel;
import org.finlora.model.BatchGenerator;
import org.finlora.model.LlamaModel;
import org.finlora.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code finlora eval}: the base model and every --adapter on every task, FinLoRA's convention
 * (raw context after BOS, greedy, the task's max new tokens unless --max-new-tokens, answer after the last "Answer:").
 * The base weights are loaded once and shared by all adapters. Prints one line per model × task
 * with accuracy and weighted F1; writes per-example answers, summaries and report files.
 */
@Command(name = "eval", description = "Accuracy and weighted F1 of a model and its LoRA adapters on FinLoRA tasks.")
final class EvalCommand implements Runnable {
    @Option(names = "--model", required = true, description = "Model: folder, .gguf, llama2.c .bin, HF repo id or synthetic:<preset>.")
    String model;

    @Option(names = "--tokenizer", description = "Tokenizer file for llama2.c checkpoints (default: tokenizer.bin beside it).")
    Path tokenizer;

    @Option(names = "--adapter", description = "LoRA adapter folder (PEFT layout); repeat to compare several. The base is evaluated too unless --no-base.")
    List<Path> adapters = new ArrayList<>();

    @Option(names = "--no-base", description = "With --adapter: skip the base model.")
    boolean noBase;

    @Option(names = "--data", description = "Examples as JSONL {\"context\", \"target\"} (.csv and .parquet by extension).")
    Path data;

    @Option(names = "--task", description = "Task of --data, or the task whose shared dev file to use (see `finlora tasks`); default: inferred from --data.")
    String task;

    @Option(names = "--tasks", split = ",", description = "Several tasks, each on its shared dev file (comma-separated).")
    List<String> tasks = new ArrayList<>();

    @Option(names = "--limit", defaultValue = "0", description = "First N examples of each task; 0 = all (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--batch-size", defaultValue = "8", description = "Prompts generated together (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--max-new-tokens", paramLabel = "N|auto",
            description = "Tokens generated per answer: a number for every task, or auto = max(the task's FinLoRA value, "
                    + "tokens of its longest label + 1 for EOS), for tokenizers that need more than FinLoRA's budget to spell a label "
                    + "(default: each task's FinLoRA value, see `finlora tasks`).")
    String maxNewTokens;

    @Option(names = "--quant", description = "Convert base weights on load: ${COMPLETION-CANDIDATES}.", completionCandidates = QuantNames.class)
    String quant;

    @Option(names = "--output", defaultValue = "eval-results", description = "Folder for answers, summaries and report (default: ${DEFAULT-VALUE}).")
    Path output;

    @Option(names = "--report", description = "Also write report.md/.csv/.html and report.png (bar charts) to this folder.")
    Path report;

    @Option(names = "--threads", description = "Worker threads (default: all processors).")
    Integer threads;

    @Override
    public void run() {
        if (limit < 0) throw new FinloraException("--limit " + limit + ": expected a number >= 0");
        if (batchSize < 1) throw new FinloraException("--batch-size " + batchSize + ": expected a number >= 1");
        if (noBase && adapters.isEmpty()) throw new FinloraException("--no-base needs at least one --adapter");
        NewTokenBudget budget = NewTokenBudget.parse(maxNewTokens);
        for (Path a : adapters) Adapters.checkFolder(a);
        if (threads != null) Parallel.setThreads(threads);
        Map<FinTask, List<Example>> examples = readTasks();
        // answers and reports are written after the whole evaluation: a folder that cannot take them fails now
        AtomicFiles.checkWritable(output, "answers and summaries");
        if (report != null) AtomicFiles.checkWritable(report, "the report");

        try (Checkpoint ck = ModelLoader.load(model, tokenizer)) {
            Tokenizer tok = ck.tokenizer();
            LlamaModel base = LlamaModel.load(ck, quant);
            // Every adapter is read and checked against the base before any generation starts.
            Map<String, LlamaModel> models = new LinkedHashMap<>();
            if (!noBase) models.put("base", base);
            for (Path dir : adapters) {
                models.put(uniqueLabel(dir, models.keySet()), Adapters.apply(base, dir));
            }
            List<String> labels = new ArrayList<>(models.keySet());
            List<FinTask> taskList = new ArrayList<>(examples.keySet());
            Map<String, BatchGenerator> generators = new LinkedHashMap<>();
            Bars bars = new Bars();
            List<TaskResult> results;
            try {
                results = EvalSuite.run(labels, label -> {
                    BatchGenerator g = new BatchGenerator(models.get(label), tok);
                    generators.put(label, g);
                    return (TextGenerator) g;
                }, taskList, examples::get, batchSize, (t, ex) -> {
                    int n = budget.forTask(t, ex, label -> tok.encode(label, false).length);
                    if (budget != NewTokenBudget.FINLORA) {
                        System.err.println("max new tokens " + t.name() + ": " + n + " (" + budget.describe() + "; FinLoRA's value "
                                + t.maxNewTokens() + ")");
                    }
                    return n;
                }, bars::update, output);
            } finally {
                bars.close();
            }
            for (TaskResult r : results) {
                System.out.println(line(r));
                System.err.printf(Locale.ROOT, "%s %s: %d examples in %.1f s (%.2f examples/s, batch size %d)%n", r.task(), r.model(),
                        r.answers().size(), r.seconds(), r.seconds() > 0 ? r.answers().size() / r.seconds() : 0.0, r.batchSize());
            }
            for (var e : generators.entrySet()) {
                if (e.getValue().truncatedPrompts > 0) {
                    System.err.println("warning: " + e.getKey() + ": " + e.getValue().truncatedPrompts + " prompts were longer than the context ("
                            + base.config.maxSeqLen() + " tokens) allows and kept only BOS and their last tokens");
                }
            }
            System.err.println("wrote answers, summaries and report to " + output);
            if (report != null) {
                Report.write(report, Report.rows(results));
                ReportChart.writePng(report.resolve("report.png"), results);
                System.err.println("wrote report.md, report.csv, report.html and report.png to " + report);
            }
        }
    }

    /** The examples of each task, read once, in the order asked. */
    private Map<FinTask, List<Example>> readTasks() {
        Set<String> names = new LinkedHashSet<>();
        if (task != null) names.add(task);
        names.addAll(tasks);
        Map<FinTask, List<Example>> out = new LinkedHashMap<>();
        if (data != null) {
            if (names.size() > 1) throw new FinloraException("--data reads one file for one task; drop --data to run several tasks on their dev files");
            InputFiles.check(data, InputFiles.DATA, "--data examples");
            List<Example> rows = Datasets.read(data, limit);
            FinTask t = names.isEmpty() ? FinTask.infer(data, rows) : FinTask.byName(names.iterator().next());
            out.put(t, rows);
            return out;
        }
        if (names.isEmpty()) throw new FinloraException("pass --data FILE (with --task T), or --task/--tasks to use the shared dev files");
        List<FinTask> list = new ArrayList<>();
        for (String n : names) {
            FinTask t = FinTask.byName(n);
            if (!list.contains(t)) list.add(t);
        }
        Path dir = Datasets.sharedDataDir();
        for (FinTask t : list) {
            Path f = t.devPath(dir);
            if (!Files.isRegularFile(f)) throw new FinloraException("task " + t.name() + ": dev file " + f + " not found; pass --data FILE");
            out.put(t, Datasets.read(f, limit));
        }
        return out;
    }

    /** The adapter's folder name, made unique among the labels so far ("base" is taken by the base model). */
    static String uniqueLabel(Path dir, Set<String> taken) {
        Path name = dir.toAbsolutePath().normalize().getFileName();
        String label = name == null ? "adapter" : name.toString();
        if (label.equals("base")) label = "adapter_base";
        String l = label;
        for (int i = 2; taken.contains(l) || l.equals("base"); i++) l = label + "_" + i;
        return l;
    }

    /** "fpb base: accuracy 0.6281 f1 0.5123 (363 examples)", plus the 3-label scores of NWGI and a note for text tasks. */
    static String line(TaskResult r) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%s %s: accuracy %.4f f1 %.4f (%d examples)",
                r.task(), r.model(), r.accuracy(), r.f1(), r.examples()));
        if (r.hasThreeClass()) b.append(String.format(Locale.ROOT, "; 3 labels: accuracy %.4f f1 %.4f", r.accuracy3(), r.f13()));
        if (FinTask.Metric.TEXT_SIMILARITY.name().equals(r.metric())) b.append("; accuracy = exact match, f1 = mean token F1");
        return b.toString();
    }

    /** One progress bar per (model, task) pair on stderr, with examples/s and ETA. */
    private static final class Bars {
        private ProgressBar bar;
        private int pair = -1;

        void update(String model, FinTask task, int done, int total, int pair, int pairs) {
            if (pair != this.pair) {
                close();
                this.pair = pair;
                String name = (pairs > 1 ? "[" + (pair + 1) + "/" + pairs + "] " : "") + task.name() + " " + model;
                bar = new ProgressBarBuilder().setTaskName(name).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                        .setConsumer(new ConsoleProgressBarConsumer(System.err)).setUnit(" ex", 1).showSpeed().build();
            }
            bar.stepTo(done);
            if (done == total) close();
        }

        void close() {
            if (bar != null) bar.close();
            bar = null;
        }
    }
}
