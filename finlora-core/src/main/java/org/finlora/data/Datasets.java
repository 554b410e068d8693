package org.finlora.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Reads a dataset file by its extension: .csv → CSV, .parquet → Parquet, anything else → JSONL. */
public final class Datasets {
    private Datasets() {
    }

    public static List<Example> read(Path path, int limit) {
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".csv")) return CsvReader.read(path, limit);
        if (name.endsWith(".parquet")) return ParquetReader.read(path, limit);
        return JsonlReader.read(path, limit);
    }

    /**
     * The shared data folder: {@code <finlora.shared>/data} (system property), else
     * {@code $FINLORA_SHARED/data}, else {@code ../shared/data} (the shared folder beside the repo).
     */
    public static Path sharedDataDir() {
        String shared = System.getProperty("finlora.shared");
        if (shared == null || shared.isBlank()) shared = System.getenv("FINLORA_SHARED");
        if (shared == null || shared.isBlank()) shared = "../shared";
        return Path.of(shared, "data");
    }
}
