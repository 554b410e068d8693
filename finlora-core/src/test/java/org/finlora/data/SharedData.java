package org.finlora.data;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the shared data folder for tests (system property finlora.shared, else /work/shared). */
final class SharedData {
    private SharedData() {
    }

    static Path dir() {
        String shared = System.getProperty("finlora.shared");
        Path p = Path.of(shared == null || shared.isBlank() ? "/work/shared" : shared, "data");
        if (!Files.isDirectory(p) && shared != null) p = Path.of("/work/shared", "data");
        Assumptions.assumeTrue(Files.isDirectory(p), "shared data folder not found: " + p);
        return p;
    }
}
