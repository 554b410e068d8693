package org.finlora.cli;

import org.finlora.FinloraException;
import org.finlora.data.Datasets;
import org.finlora.data.Example;
import org.finlora.io.AtomicFiles;
import org.finlora.io.Checkpoint;
import org.finlora.io.ModelLoader;
import org.finlora.io.OptionsFile;
import org.finlora.kernel.Parallel;
import org.finlora.lora.LoraAdapter;
import org.finlora.lora.LoraConfig;
import org.finlora.lora.PeftAdapterIO;
import org.finlora.model.LlamaWeights;
import org.finlora.train.BaseWeights;
import org.finlora.train.MemoryBudget;
import org.finlora.train.MemoryPlan;
import org.finlora.train.TrainCheckpoint;
import org.finlora.train.TrainData;
import org.finlora.train.Trainer;
import org.finlora.train.TrainerOptions;
import org.finlora.train.optim.LrSchedule;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** {@code finlora finetune}: LoRA/QLoRA training of an adapter, written in PEFT layout. */
@Command(name = "finetune", description = "Train a LoRA adapter (PEFT layout) on FinLoRA JSONL data.")
final class FinetuneCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", description = "Model: folder, .gguf, llama2.c .bin, HF repo id or synthetic:<preset>.")
    String model;
    @Option(names = "--tokenizer", description = "Tokenizer file for llama2.c checkpoints (default: tokenizer.bin beside it).")
    Path tokenizer;
    @Option(names = "--train", description = "Training data (JSONL with context/target; repeat to mix several files).")
    List<Path> train;
    @Option(names = "--output", description = "Adapter output folder: new or empty, unless --overwrite or --resume.")
    Path output;
    @Option(names = "--overwrite", description = "Replace the adapter, metrics, plot and checkpoints of an earlier run in a non-empty --output.")
    boolean overwrite;
    @Option(names = "--config", description = "YAML or JSON file of options (keys as the flags, without --); flags on the command line win.")
    Path config;
    @Option(names = "--quant", defaultValue = "none", description = "Base weights: nf4, fp4, int8, none, ... (default: ${DEFAULT-VALUE}).")
    String quant;
    @Option(names = "--rank", defaultValue = "8", description = "LoRA rank (default: ${DEFAULT-VALUE}).")
    int rank;
    @Option(names = "--alpha", defaultValue = "16", description = "LoRA alpha (default: ${DEFAULT-VALUE}).")
    float alpha;
    @Option(names = "--dropout", defaultValue = "0.05", description = "LoRA dropout (default: ${DEFAULT-VALUE}).")
    float dropout;
    @Option(names = "--target-modules", split = ",", description = "Projections to adapt: q,k,v,o,gate,up,down (or *_proj, or all; default: all seven).")
    List<String> targetModules;
    @Option(names = "--rslora", description = "Scale by alpha/sqrt(r).")
    boolean rslora;
    @Option(names = "--dora", description = "Weight-decomposed LoRA (DoRA).")
    boolean dora;
    @Option(names = "--lr", defaultValue = "1e-4", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
    double lr;
    @Option(names = "--epochs", defaultValue = "1", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;
    @Option(names = "--max-steps", defaultValue = "0", description = "Stop after this many optimizer steps (0 = all epochs).")
    int maxSteps;
    @Option(names = "--batch-size", defaultValue = "4", description = "Sequences per micro-batch (default: ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--grad-accum", defaultValue = "1", description = "Micro-batches per optimizer step (default: ${DEFAULT-VALUE}).")
    int gradAccum;
    @Option(names = "--max-seq-len", defaultValue = "512", description = "Longest sequence in tokens (default: ${DEFAULT-VALUE}).")
    int maxSeqLen;
    @Option(names = "--skip-long", description = "Skip examples longer than --max-seq-len instead of truncating them.")
    boolean skipLong;
    @Option(names = "--train-on-inputs", description = "Take the loss on the prompt tokens too.")
    boolean trainOnInputs;
    @Option(names = "--optimizer", defaultValue = "adamw", description = "adamw, adamw8bit or zero-one-adam (default: ${DEFAULT-VALUE}).")
    String optimizer;
    @Option(names = "--lr-schedule", defaultValue = "linear", description = "constant, linear or cosine (default: ${DEFAULT-VALUE}).")
    String lrSchedule;
    @Option(names = "--warmup-steps", defaultValue = "0", description = "Warmup steps (default: ${DEFAULT-VALUE}).")
    int warmupSteps;
    @Option(names = "--warmup-ratio", defaultValue = "0", description = "Warmup as a fraction of all steps when --warmup-steps is 0.")
    double warmupRatio;
    @Option(names = "--max-grad-norm", defaultValue = "1.0", description = "Global gradient-norm clip; 0 = off (default: ${DEFAULT-VALUE}).")
    double maxGradNorm;
    @Option(names = "--weight-decay", defaultValue = "0", description = "Weight decay (default: ${DEFAULT-VALUE}).")
    double weightDecay;
    @Option(names = "--bf16", description = "Keep unquantized base projections in bf16 (LoRA weights, grads and activations stay f32).")
    boolean bf16;
    @Option(names = "--checkpointing", description = "Activation recomputation per layer (less memory, one more forward).")
    boolean checkpointing;
    @Option(names = "--eval-data", description = "Held-out JSONL; its loss is computed every --eval-every steps and at the end.")
    Path evalData;
    @Option(names = "--eval-every", defaultValue = "0", description = "Evaluate every N steps (0 = at the end only).")
    int evalEvery;
    @Option(names = "--save-every", defaultValue = "0", description = "Checkpoint every N steps into OUTPUT/checkpoints (0 = only on Ctrl-C / NaN).")
    int saveEvery;
    @Option(names = "--resume", description = "Continue from a checkpoint folder (or an output folder: its newest checkpoint).")
    Path resume;
    @Option(names = "--seed", defaultValue = "42", description = "Seed for LoRA init, shuffling and dropout (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--no-shuffle", description = "Visit examples in file order every epoch.")
    boolean noShuffle;
    @Option(names = "--threads", description = "Worker threads (default: all processors).")
    Integer threads;
    @Option(names = "--no-plot", description = "Do not write loss_curve.png.")
    boolean noPlot;

    @Override
    public void run() {
        if (config != null) applyConfigFile();
        if (model == null) throw new FinloraException("--model is required");
        if (train == null || train.isEmpty()) throw new FinloraException("--train is required");
        if (output == null) throw new FinloraException("--output is required");
        if (threads != null) Parallel.setThreads(threads);
        TrainerOptions o = new TrainerOptions(lr, epochs, batchSize, gradAccum, maxGradNorm, weightDecay, optimizer,
                LrSchedule.parse(lrSchedule), warmupSteps, warmupRatio, evalEvery, saveEvery, seed, maxSteps, !noShuffle);
        LoraConfig lc = new LoraConfig(rank, alpha, dropout, targets(targetModules), rslora, dora, "default", model);
        // data first: a bad file fails before the model is loaded
        List<List<Example>> files = new ArrayList<>();
        for (Path p : train) files.add(Datasets.read(p, 0));
        List<Example> evalExamples = evalData == null ? null : Datasets.read(evalData, 0);
        Path resumeDir = resume == null ? null : TrainCheckpoint.resolve(resume);
        prepareOutput(resumeDir != null);
        long t0 = System.nanoTime();
        try (Checkpoint ck = ModelLoader.load(model, tokenizer)) {
            TrainData.LengthPolicy policy = skipLong ? TrainData.LengthPolicy.SKIP : TrainData.LengthPolicy.TRUNCATE;
            TrainData data = TrainData.build(files, ck.tokenizer(), maxSeqLen, trainOnInputs, policy);
            TrainData eval = evalExamples == null ? null : TrainData.build(List.of(evalExamples), ck.tokenizer(), maxSeqLen, trainOnInputs, policy);
            System.err.printf(Locale.ROOT, "data: %d training sequences from %d file(s), %d tokens, longest %d%s%n", data.size(), files.size(),
                    data.tokenCount(), data.maxLength(), eval == null ? "" : ", " + eval.size() + " eval sequences");
            // the heap a run needs follows from the shapes: refuse before quantizing or allocating anything
            int maxT = Math.max(data.maxLength(), eval == null ? 0 : eval.maxLength());
            MemoryPlan need = MemoryBudget.estimate(ck.config(), lc, batchSize, maxT, checkpointing, optimizer, 0);
            MemoryBudget.check(need, batchSize, maxT, rank);
            LlamaWeights w = BaseWeights.load(ck, quant, bf16);
            MemoryBudget.check(need, batchSize, maxT, rank);
            LoraAdapter adapter = LoraAdapter.init(lc, w, seed);
            Files.createDirectories(output);
            int resumeStep = resumeDir == null ? 0 : TrainCheckpoint.readState(resumeDir).step();
            try (TrainProgress progress = new TrainProgress(output.resolve("metrics.jsonl"), resumeStep, System.err)) {
                Trainer trainer = new Trainer(w, adapter, data, eval, o, checkpointing, output.resolve("checkpoints"), resumeDir, progress);
                Thread hook = new Thread(() -> {
                    trainer.requestStop();
                    try {
                        if (!trainer.awaitFinished(300_000)) System.err.println("interrupted: the current step did not finish in time; no checkpoint");
                    } catch (InterruptedException ignored) {
                        Thread.currentThread().interrupt();
                    }
                }, "finetune-ctrl-c");
                Runtime.getRuntime().addShutdownHook(hook);
                Trainer.Result r;
                try {
                    r = trainer.run();
                } finally {
                    try {
                        Runtime.getRuntime().removeShutdownHook(hook);
                    } catch (IllegalStateException ignored) {
                        // already shutting down (Ctrl-C): the hook is waiting for us
                    }
                }
                if (r.stoppedEarly()) {
                    System.err.println("stopped at step " + r.steps() + "/" + r.totalSteps() + "; resume with --resume " + r.lastCheckpoint());
                    return;
                }
                writeAdapter(trainer, adapter, r);
                if (!noPlot) LossCurvePlot.write(output.resolve("loss_curve.png"), r.trainCurve(), r.evalCurve(), "finetune " + model);
                double wall = (System.nanoTime() - t0) / 1e9;
                String evalPart = r.evalCurve().isEmpty() ? "" : String.format(Locale.ROOT, ", eval loss %.4f", r.evalCurve().getLast()[1]);
                System.out.printf(Locale.ROOT, "finetune done: %d steps, final loss %.4f%s, %d tokens, %.1f s wall (training %.0f tok/s); "
                                + "%d truncated, %d skipped (longer than --max-seq-len %d); adapter in %s%n",
                        r.steps(), r.lastLoss(), evalPart, r.tokens(), wall, r.tokensPerSecond(),
                        data.truncated + (eval == null ? 0 : eval.truncated), data.skipped + (eval == null ? 0 : eval.skipped), maxSeqLen, output);
            }
        } catch (IOException e) {
            throw new FinloraException(output + ": " + e.getMessage(), e);
        }
    }

    /** What a finetune run writes into --output; --overwrite removes exactly these. */
    static final List<String> OUTPUTS = List.of(PeftAdapterIO.MANIFEST_FILE, PeftAdapterIO.CONFIG_FILE, PeftAdapterIO.WEIGHTS_FILE,
            "metrics.jsonl", "loss_curve.png", "checkpoints");

    /**
     * --output must be new or empty, unless the run resumes (its checkpoints live there) or
     * --overwrite asks to replace an earlier run's files. Temp files of killed runs are removed.
     */
    private void prepareOutput(boolean resuming) {
        try {
            if (Files.exists(output) && !Files.isDirectory(output)) throw new FinloraException("--output " + output + ": exists and is not a folder");
            if (Files.isDirectory(output) && !AtomicFiles.isEmptyDir(output) && !resuming) {
                if (!overwrite) {
                    throw new FinloraException("--output " + output + ": the folder is not empty; pass --overwrite to replace the earlier run's adapter, "
                            + "--resume " + output + " to continue it, or choose a new folder");
                }
                for (String f : OUTPUTS) AtomicFiles.deleteTreeQuietly(output.resolve(f));
                for (String f : OUTPUTS) {
                    if (Files.exists(output.resolve(f))) throw new FinloraException(output.resolve(f) + ": cannot remove it for --overwrite");
                }
            }
            Files.createDirectories(output);
            for (String f : OUTPUTS) AtomicFiles.cleanStale(output.resolve(f));
            AtomicFiles.checkWritable(output, "the adapter");
        } catch (IOException e) {
            throw new FinloraException("--output " + output + ": " + e.getMessage(), e);
        }
    }

    /**
     * The final adapter, written while a checkpoint of the trained state exists: if writing fails
     * (disk full) the run is not lost. The checkpoint goes once the adapter is safely written,
     * unless the user asked for checkpoints (--save-every).
     */
    private void writeAdapter(Trainer trainer, LoraAdapter adapter, Trainer.Result r) {
        Path kept;
        try {
            kept = r.lastCheckpoint() != null && r.lastCheckpoint().equals(TrainCheckpoint.dirFor(output.resolve("checkpoints"), r.steps()))
                    ? r.lastCheckpoint() : trainer.saveCheckpoint();
        } catch (FinloraException e) {
            kept = null;   // the safety net failed (a full disk?); the adapter may still fit
            System.err.println("warning: no checkpoint of the trained state could be kept (" + e.getMessage() + ")");
        }
        try {
            PeftAdapterIO.save(adapter, output);
        } catch (FinloraException e) {
            if (kept == null) throw e;
            throw new FinloraException(e.getMessage() + "; the trained state is kept in " + kept
                    + " (free space, then run the same command with --resume " + kept + ")", e);
        }
        if (saveEvery == 0 && kept != null) {
            AtomicFiles.deleteTreeQuietly(kept);
            try (var s = Files.list(kept.getParent())) {
                if (s.findAny().isEmpty()) Files.deleteIfExists(kept.getParent());
            } catch (IOException ignored) {
                // an empty checkpoints folder left behind is harmless
            }
        }
    }

    /** --target-modules values: q/k/v/o/gate/up/down or the *_proj names, or "all". */
    static List<String> targets(List<String> names) {
        if (names == null || names.isEmpty()) return LoraConfig.ALL_TARGETS;
        List<String> out = new ArrayList<>();
        for (String n : names) {
            String s = n.strip().toLowerCase(Locale.ROOT);
            if (s.equals("all") || s.equals("all-linear")) return LoraConfig.ALL_TARGETS;
            if (!s.endsWith("_proj")) s = s + "_proj";
            if (!LoraConfig.ALL_TARGETS.contains(s)) throw new FinloraException("--target-modules " + n + ": expected q, k, v, o, gate, up, down or all");
            if (!out.contains(s)) out.add(s);
        }
        return out;
    }

    /**
     * Options from --config: each key names a flag (dashes or underscores); values are scalars or lists.
     * The file's values fill only the options not given on the command line.
     */
    private void applyConfigFile() {
        Map<String, Object> map = OptionsFile.read(config);
        Set<String> given = new HashSet<>();
        for (OptionSpec os : spec.commandLine().getParseResult().matchedOptions()) given.add(os.longestName());
        List<String> args = new ArrayList<>();
        Set<String> fromFile = new HashSet<>();
        for (var e : map.entrySet()) {
            String name = "--" + String.valueOf(e.getKey()).replace('_', '-');
            OptionSpec os = spec.findOption(name);
            if (os == null || name.equals("--config")) throw new FinloraException(config + ": unknown option '" + e.getKey() + "'");
            if (given.contains(os.longestName())) continue;
            fromFile.add(os.longestName());
            Object v = e.getValue();
            if (os.arity().max() == 0) {
                if (!(v instanceof Boolean b)) throw new FinloraException(config + ": option '" + e.getKey() + "' must be true or false");
                if (b) args.add(name);
            } else if (v instanceof List<?> list) {
                for (Object x : list) {
                    args.add(name);
                    args.add(String.valueOf(x));
                }
            } else {
                args.add(name);
                args.add(String.valueOf(v));
            }
        }
        FinetuneCommand fromConfig = new FinetuneCommand();
        CommandLine cl = new CommandLine(fromConfig);
        try {
            cl.parseArgs(args.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            throw new FinloraException(config + ": " + e.getMessage());
        }
        for (String name : fromFile) spec.findOption(name).setValue(cl.getCommandSpec().findOption(name).getValue());
    }
}
