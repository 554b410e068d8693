package org.finlora.io;

import org.finlora.FinloraException;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Resolves the --model argument of every command: a llama2.c .bin (tokenizer.bin beside it or
 * given), a .gguf file, an HF folder, an HF repo id (local HF cache, else downloaded) or
 * {@code synthetic:<preset>}.
 */
public final class ModelLoader {
    private ModelLoader() {
    }

    public static Checkpoint load(String spec, Path tokenizer) {
        if (spec == null || spec.isBlank()) throw new FinloraException("--model: no model given");
        if (spec.startsWith("synthetic:")) return org.finlora.model.SyntheticModels.create(spec.substring("synthetic:".length()));
        Path p = Path.of(spec);
        if (spec.endsWith(".bin")) {
            if (!Files.exists(p)) throw new FinloraException(spec + ": file not found");
            return Llama2cLoader.load(p, tokenizer);
        }
        throw new FinloraException(spec + ": not a model this build can load (expected a llama2.c .bin, a .gguf, an HF folder, "
                + "an HF repo id or synthetic:<preset>)");
    }
}
