package org.finlora.cli;

import org.finlora.FinloraException;
import org.finlora.lora.AdaptedWeights;
import org.finlora.lora.PeftAdapterIO;
import org.finlora.model.LlamaModel;

import java.nio.file.Files;
import java.nio.file.Path;

/** --adapter DIR: a PEFT LoRA folder put on a loaded base model (the base weights are shared, not copied). */
final class Adapters {
    private Adapters() {
    }

    static void checkFolder(Path dir) {
        if (!Files.isDirectory(dir)) throw new FinloraException("--adapter " + dir + ": not a folder (expected a PEFT adapter folder)");
    }

    /** The base with the adapter of {@code dir}; names, shapes and config are checked against the base. */
    static LlamaModel apply(LlamaModel base, Path dir) {
        checkFolder(dir);
        return new LlamaModel(AdaptedWeights.with(base.weights, PeftAdapterIO.load(dir, base.config)));
    }
}
