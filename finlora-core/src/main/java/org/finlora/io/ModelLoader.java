package org.finlora.io;

import org.finlora.FinloraException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Resolves the --model argument of every command: a llama2.c .bin (tokenizer.bin beside it or
 * given), a .gguf file (or {@code org/name/file.gguf} in a Hub repo), an HF folder, an HF repo id
 * (local HF cache, else downloaded) or
 * {@code synthetic:<preset>}.
 */
public final class ModelLoader {
    private ModelLoader() {
    }

    public static Checkpoint load(String spec, Path tokenizer) {
        return load(spec, tokenizer, HubClient.Progress.NONE);
    }

    /** As {@link #load(String, Path)}, reporting Hub download progress when the model has to be fetched. */
    public static Checkpoint load(String spec, Path tokenizer, HubClient.Progress progress) {
        if (spec == null || spec.isBlank()) throw new FinloraException("--model: no model given");
        if (spec.startsWith("synthetic:")) return org.finlora.model.SyntheticModels.create(spec.substring("synthetic:".length()));
        Path p = Path.of(spec);
        if (spec.endsWith(".bin")) {
            if (!Files.exists(p)) throw new FinloraException(spec + ": file not found");
            return Llama2cLoader.load(p, tokenizer);
        }
        if (spec.endsWith(".gguf")) {
            if (Files.exists(p)) return GgufLoader.load(p);
            String[] repoFile = splitRepoFile(spec);
            if (repoFile == null) throw new FinloraException(spec + ": file not found");
            return GgufLoader.load(HubClient.fromEnvironment().download(HfCache.RepoType.MODEL, repoFile[0], "main", repoFile[1], progress));
        }
        if (Files.isDirectory(p)) return HfFolderLoader.load(p, tokenizer);
        if (!Files.exists(p) && HfCache.isRepoId(spec) && spec.contains("/")) {
            return HfFolderLoader.load(resolveRepo(spec, HubClient.fromEnvironment(), progress));
        }
        if (Files.exists(p)) throw new FinloraException(spec + ": not a model this build can load (expected a llama2.c .bin, a .gguf or an HF folder)");
        if (spec.indexOf('/') > 0 && spec.indexOf('/') == spec.lastIndexOf('/') && !spec.startsWith(".")) {
            throw new FinloraException(spec + ": no such file, and not a valid HF repo id (huggingface_hub's rules: org/name of letters, digits, "
                    + "'_', '-' and '.', no \"--\" or \"..\", no \".git\" ending)");
        }
        throw new FinloraException(spec + ": not found, and not a model this build can load (expected a llama2.c .bin, a .gguf, "
                + "an HF folder, an HF repo id org/name or synthetic:<preset>)");
    }

    /**
     * {@code org/name/file.gguf} (a relative spec with at least three segments whose first two form a
     * repo id) → {repo, file}; null when the spec cannot name a file of a Hub repo.
     */
    static String[] splitRepoFile(String spec) {
        if (spec.startsWith("/") || spec.startsWith(".") || spec.contains("\\")) return null;
        String[] parts = spec.split("/", 3);
        if (parts.length < 3 || !HfCache.isRepoId(parts[0] + "/" + parts[1])) return null;
        try {
            HfCache.checkFileName(parts[0] + "/" + parts[1], parts[2]);
        } catch (FinloraException e) {
            return null;
        }
        return new String[]{parts[0] + "/" + parts[1], parts[2]};
    }

    /** Files of an HF model repo the loaders read: config, tokenizer files, top-level safetensors and index. */
    public static final Predicate<String> MODEL_FILES = f -> !f.contains("/") && (f.equals("config.json")
            || f.equals("generation_config.json") || f.equals("tokenizer.json") || f.equals("tokenizer_config.json")
            || f.equals("special_tokens_map.json") || f.equals("tokenizer.model") || f.endsWith(".safetensors")
            || f.equals("model.safetensors.index.json"));

    /**
     * The local folder of a repo id: the cached snapshot of main when it has config.json and weights (no
     * network), else a fresh download of {@link #MODEL_FILES}.
     */
    public static Path resolveRepo(String repo, HubClient hub, HubClient.Progress progress) {
        Optional<Path> cached = hub.cache().snapshot(HfCache.RepoType.MODEL, repo, "main")
                .filter(s -> Files.isRegularFile(s.resolve("config.json")) && (Files.isRegularFile(s.resolve("model.safetensors"))
                        || Files.isRegularFile(s.resolve("model.safetensors.index.json"))));
        if (cached.isPresent()) return cached.get();
        Path snap = hub.downloadSnapshot(HfCache.RepoType.MODEL, repo, "main", MODEL_FILES, progress);
        if (!Files.isRegularFile(snap.resolve("config.json"))) {
            throw new FinloraException(repo + ": the repo has no config.json (not a transformers model?)");
        }
        return snap;
    }
}
