package org.finlora.cli;

import org.finlora.FinloraException;
import org.finlora.io.Checkpoint;
import org.finlora.io.ModelLoader;
import org.finlora.kernel.Parallel;
import org.finlora.model.Generator;
import org.finlora.model.LlamaModel;
import org.finlora.model.Sampler;
import org.finlora.model.TextStream;
import org.finlora.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** {@code finlora generate}: streams only the continuation of a prompt to stdout. */
@Command(name = "generate", description = "Continue a prompt; prints only the generated text.")
final class GenerateCommand implements Runnable {
    @Option(names = "--model", required = true, description = "Model: folder, .gguf, llama2.c .bin, HF repo id or synthetic:<preset>.")
    String model;

    @Option(names = "--tokenizer", description = "Tokenizer file for llama2.c checkpoints (default: tokenizer.bin beside it).")
    Path tokenizer;

    @Option(names = "--prompt", required = true, description = "Text to continue.")
    String prompt;

    @Option(names = "--max-tokens", defaultValue = "256", description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "Sampling temperature; 0 = greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-p", defaultValue = "0.9", description = "Nucleus sampling mass when temperature > 0 (default: ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--seed", defaultValue = "0", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--quant", description = "Convert weights on load: ${COMPLETION-CANDIDATES}.", completionCandidates = QuantNames.class)
    String quant;

    @Option(names = "--threads", description = "Worker threads (default: all processors).")
    Integer threads;

    @Option(names = "--adapter", description = "LoRA adapter folder (PEFT layout).")
    Path adapter;

    @Override
    public void run() {
        if (maxTokens < 0) throw new FinloraException("--max-tokens " + maxTokens + ": expected a number >= 0");
        if (adapter != null) Adapters.checkFolder(adapter);
        if (threads != null) Parallel.setThreads(threads);
        Sampler sampler = new Sampler(temperature, topP, seed);
        try (Checkpoint ck = ModelLoader.load(model, tokenizer)) {
            Tokenizer tok = ck.tokenizer();
            LlamaModel m = LlamaModel.load(ck, quant);
            if (adapter != null) m = Adapters.apply(m, adapter);
            int[] ids = tok.encode(prompt, tok.addsBosByDefault());
            PrintStream o = new PrintStream(System.out, false, StandardCharsets.UTF_8);   // UTF-8 whatever the platform charset
            TextStream text = new TextStream(tok, ids.length > 0 ? ids[ids.length - 1] : -1);
            new Generator(m, tok).generate(ids, maxTokens, sampler, id -> {
                o.print(text.push(id));
                o.flush();
            });
            o.print(text.finish());
            o.println();
            o.flush();
        }
    }
}
