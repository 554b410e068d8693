package org.finlora.cli;

import org.finlora.io.Checkpoint;
import org.finlora.io.ModelLoader;
import org.finlora.model.LlamaConfig;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/** {@code finlora info}: architecture, parameter count, dtypes and bytes of a model. */
@Command(name = "info", description = "Print a model's architecture, parameter count, dtypes and bytes.")
final class InfoCommand implements Runnable {
    @Option(names = "--model", required = true, description = "Model: folder, .gguf, llama2.c .bin, HF repo id or synthetic:<preset>.")
    String model;

    @Option(names = "--tokenizer", description = "Tokenizer file for llama2.c checkpoints (default: tokenizer.bin beside it).")
    Path tokenizer;

    @Override
    public void run() {
        System.out.println("machine:      " + Host.line());
        if (model.startsWith("synthetic:")) {
            // synthetic weights are built on access: describe them from the preset, without building 70B of tensors
            String preset = model.substring("synthetic:".length());
            LlamaConfig c = org.finlora.model.SyntheticModels.config(preset);
            printConfig(model, "synthetic (deterministic random weights, built on access)", c);
            long params = c.parameterCount();
            DType dt = preset.equals("tiny") || preset.equals("demo") ? DType.F32 : DType.BF16;   // as SyntheticModels.create(preset)
            System.out.println("parameters:   " + params + " (" + String.format("%.3f", params / 1e9) + " B)");
            System.out.println("bytes:        " + dt.byteSize(params) + " (" + String.format("%.2f", dt.byteSize(params) / (1024.0 * 1024 * 1024)) + " GiB)");
            System.out.println("  " + dt + ": " + params + " params, " + dt.byteSize(params) + " bytes");
            return;
        }
        try (Checkpoint ck = ModelLoader.load(model, tokenizer)) {
            LlamaConfig c = ck.config();
            printConfig(ck.source(), ck.format(), c);
            long params = 0, bytes = 0;
            Map<DType, long[]> byType = new TreeMap<>();
            for (Tensor t : ck.tensors().values()) {
                params += t.elementCount();
                bytes += t.data().byteSize();
                long[] acc = byType.computeIfAbsent(t.dtype(), k -> new long[2]);
                acc[0] += t.elementCount();
                acc[1] += t.data().byteSize();
            }
            System.out.println("parameters:   " + params + " (" + String.format("%.3f", params / 1e9) + " B)");
            System.out.println("bytes:        " + bytes + " (" + String.format("%.2f", bytes / (1024.0 * 1024 * 1024)) + " GiB)");
            for (var e : byType.entrySet()) {
                System.out.println("  " + e.getKey() + ": " + e.getValue()[0] + " params, " + e.getValue()[1] + " bytes");
            }
        }
    }

    private static void printConfig(String source, String format, LlamaConfig c) {
        System.out.println("model:        " + source);
        System.out.println("format:       " + format);
        System.out.println("architecture: llama (dim " + c.dim() + ", hidden " + c.hiddenDim() + ", layers " + c.nLayers()
                + ", heads " + c.nHeads() + ", kv heads " + c.nKvHeads() + ", head dim " + c.headDim() + ")");
        System.out.println("vocab:        " + c.vocabSize() + (c.tiedEmbeddings() ? " (tied embeddings)" : " (untied lm_head)"));
        System.out.println("context:      " + c.maxSeqLen());
        System.out.println("rope:         theta " + c.ropeTheta() + (c.ropeScaling() != null ? ", llama3 scaling x" + c.ropeScaling().factor() : "")
                + (c.ropeInterleaved() ? ", interleaved pairs" : ", half-split pairs"));
        System.out.println("rms eps:      " + c.rmsEps());
    }
}
