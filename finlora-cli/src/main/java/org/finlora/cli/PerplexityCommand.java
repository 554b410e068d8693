package org.finlora.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.finlora.FinloraException;
import org.finlora.io.Checkpoint;
import org.finlora.io.InputFiles;
import org.finlora.model.NonFiniteWeights;
import org.finlora.io.ModelLoader;
import org.finlora.kernel.Parallel;
import org.finlora.model.LlamaModel;
import org.finlora.model.Perplexity;
import org.finlora.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * {@code finlora perplexity}: GPTQ-convention perplexity of a text file (non-overlapping windows of
 * --ctx tokens, each scored from position 0). Progress goes to stderr; the last stdout line is
 * {@code perplexity: <number>}.
 */
@Command(name = "perplexity", description = "Perplexity of a text file (GPTQ convention: non-overlapping --ctx windows).")
final class PerplexityCommand implements Runnable {
    @Option(names = "--model", required = true, description = "Model: folder, .gguf, llama2.c .bin, HF repo id or synthetic:<preset>.")
    String model;

    @Option(names = "--tokenizer", description = "Tokenizer file for llama2.c checkpoints (default: tokenizer.bin beside it).")
    Path tokenizer;

    @Option(names = "--file", required = true, description = "UTF-8 text file.")
    Path file;

    @Option(names = "--quant", description = "Convert weights on load: ${COMPLETION-CANDIDATES}.", completionCandidates = QuantNames.class)
    String quant;

    @Option(names = "--ctx", defaultValue = "2048", description = "Window length in tokens, capped by the model context (default: ${DEFAULT-VALUE}).")
    int ctx;

    @Option(names = "--threads", description = "Worker threads (default: all processors).")
    Integer threads;

    @Option(names = "--adapter", description = "LoRA adapter folder (PEFT layout).")
    Path adapter;

    @Override
    public void run() {
        if (threads != null) Parallel.setThreads(threads);
        if (adapter != null) Adapters.checkFolder(adapter);
        String text = InputFiles.readString(file, InputFiles.TEXT, "--file text");
        try (Checkpoint ck = ModelLoader.load(model, tokenizer)) {
            Tokenizer tok = ck.tokenizer();
            LlamaModel m = LlamaModel.load(ck, quant);
            if (adapter != null) m = Adapters.apply(m, adapter);
            int[] ids = tok.encode(text, tok.addsBosByDefault());
            int w = Perplexity.windowLength(ids.length, ctx, m.config.maxSeqLen());
            if (ids.length >= 2 && w < ctx) {
                System.err.println("perplexity: window is " + w + " tokens (text has " + ids.length + " tokens, model context "
                        + m.config.maxSeqLen() + ")");
            }
            int windows = ids.length >= 2 ? ids.length / w : 0;
            Perplexity.Result r;
            try (ProgressBar pb = new ProgressBarBuilder().setTaskName("perplexity").setInitialMax(windows)
                    .setStyle(ProgressBarStyle.ASCII).setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err))
                    .setUnit(" windows", 1).build()) {
                r = Perplexity.compute(m, ids, ctx, (done, total, meanNll) -> {
                    pb.stepTo(done);
                    pb.setExtraMessage(String.format(" ppl %.4f", Math.exp(meanNll)));
                });
            }
            if (!Double.isFinite(r.perplexity())) {
                String bad = NonFiniteWeights.find(m.weights);
                throw new FinloraException("perplexity is " + r.perplexity() + ": " + (bad != null ? "the model's weights are not finite ("
                        + bad + "); the model file is corrupt" : "the model's output overflows (mean NLL " + r.meanNll() + ")"));
            }
            System.err.println("tokens: " + ids.length + ", windows: " + r.windows() + " x " + r.ctx() + ", predicted: " + r.predictedTokens());
            System.out.println("perplexity: " + String.format(java.util.Locale.ROOT, "%.4f", r.perplexity()));
        }
    }
}
