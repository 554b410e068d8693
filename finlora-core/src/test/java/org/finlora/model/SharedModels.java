package org.finlora.model;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates /work/shared assets for tests (system property finlora.shared, else /work/shared). */
final class SharedModels {
    private SharedModels() {
    }

    static Path path(String relative) {
        Path root = Path.of(System.getProperty("finlora.shared", "/work/shared"));
        if (!Files.isDirectory(root)) root = Path.of("/work/shared");   // e.g. a worktree whose ../shared is absent
        Assumptions.assumeTrue(Files.isDirectory(root), "shared assets directory " + root + " does not exist");
        return root.resolve(relative);
    }
}
