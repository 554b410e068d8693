package org.finlora.cli;

import org.finlora.FinloraException;
import org.finlora.data.JsonlWriter;
import org.finlora.data.SyntheticSentiment;
import org.finlora.io.Checkpoint;
import org.finlora.io.ModelLoader;
import org.finlora.model.LlamaModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code finlora demo}: the whole pipeline offline, on defaults the project makes itself — a small
 * Llama-shaped model with deterministic random weights and a generated financial sentiment data
 * set — quantize (NF4 on load) → QLoRA finetune → evaluate base vs adapter → report. Each step is
 * the same subcommand a user would run, so the demo also shows the commands.
 */
@Command(name = "demo", description = "Run quantize → QLoRA finetune → evaluate → report offline on a generated model and data set.")
final class DemoCommand implements Runnable {
    @Option(names = "--output", defaultValue = "finlora-demo", description = "Folder for data, adapter, evaluation and report (default: ${DEFAULT-VALUE}).")
    Path output;

    @Option(names = "--model", defaultValue = "synthetic:demo", description = "Base model (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--quant", defaultValue = "nf4", description = "Base quantization (default: ${DEFAULT-VALUE}).")
    String quant;

    @Option(names = "--train-examples", defaultValue = "600", description = "Generated training examples (default: ${DEFAULT-VALUE}).")
    int trainExamples;

    @Option(names = "--dev-examples", defaultValue = "150", description = "Generated evaluation examples (default: ${DEFAULT-VALUE}).")
    int devExamples;

    @Option(names = "--epochs", defaultValue = "3", description = "Training epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--rank", defaultValue = "8", description = "LoRA rank (default: ${DEFAULT-VALUE}).")
    int rank;

    @Option(names = "--lr", defaultValue = "3e-3", description = "Learning rate (default: ${DEFAULT-VALUE}).")
    String lr;

    @Option(names = "--seed", defaultValue = "7", description = "Seed for data, init and shuffling (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public void run() {
        long t0 = System.nanoTime();
        Path data = output.resolve("data"), adapter = output.resolve("adapter"), report = output.resolve("report");
        System.err.println("[1/4] data: generating " + trainExamples + " train / " + devExamples
                + " dev financial sentiment examples (FinLoRA FPB format)");
        SyntheticSentiment.Split split = SyntheticSentiment.split(trainExamples, devExamples, seed);
        Path train = data.resolve("train.jsonl"), dev = data.resolve("dev.jsonl");
        JsonlWriter.write(train, split.train());
        JsonlWriter.write(dev, split.dev());

        System.err.println("[2/4] quantize: " + model + " → " + quant);
        try (Checkpoint ck = ModelLoader.load(model, null)) {
            long full = LlamaModel.load(ck, null).weights.byteSize();
            long q = LlamaModel.load(ck, quant).weights.byteSize();
            System.err.printf("      weights %,d bytes stored → %,d bytes in %s (%.2fx smaller)%n", full, q, quant, (double) full / q);
        }

        System.err.println("[3/4] finetune: QLoRA r" + rank + " on the " + quant + " base");
        step("finetune", "--model", model, "--quant", quant, "--train", train.toString(), "--eval-data", dev.toString(),
                "--output", adapter.toString(), "--overwrite", "--rank", String.valueOf(rank), "--alpha", String.valueOf(2 * rank),
                "--dropout", "0.05", "--lr", lr, "--epochs", String.valueOf(epochs), "--batch-size", "8",
                "--max-seq-len", "320", "--lr-schedule", "cosine", "--warmup-ratio", "0.05", "--seed", String.valueOf(seed));

        System.err.println("[4/4] evaluate: base vs adapter on the dev set");
        step("eval", "--model", model, "--quant", quant, "--adapter", adapter.toString(), "--data", dev.toString(),
                "--task", "fpb", "--batch-size", "16", "--output", output.resolve("eval").toString(), "--report", report.toString());

        System.err.printf("demo finished in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        System.out.println("report: " + report.resolve("report.html").toAbsolutePath());
        System.out.println("The same pipeline on a real model and data set:");
        System.out.println("  ./finlora finetune --model meta-llama/Llama-3.1-8B-Instruct --quant nf4 --rank 4 --alpha 32 --dropout 0.1 \\");
        System.out.println("      --lr 1e-4 --train ../shared/data/fpb_train.jsonl --output adapters/fpb-nf4-r4");
        System.out.println("  ./finlora eval --model meta-llama/Llama-3.1-8B-Instruct --quant nf4 --adapter adapters/fpb-nf4-r4 \\");
        System.out.println("      --task fpb --report report/");
        System.out.println("  (or --model a local HF folder, a .gguf file or a llama2.c .bin)");
    }

    private static void step(String... args) {
        List<String> a = new ArrayList<>(List.of(args));
        int rc = Main.run(a.toArray(String[]::new));
        if (rc != 0) throw new FinloraException("demo: step '" + args[0] + "' failed (exit code " + rc + ")");
    }
}
