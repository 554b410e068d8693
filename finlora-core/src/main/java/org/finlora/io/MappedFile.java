package org.finlora.io;

import org.finlora.FinloraException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Memory-maps whole files read-only (no 2 GiB limit with FFM). */
public final class MappedFile {
    private MappedFile() {
    }

    public static MemorySegment map(Path file, Arena arena) {
        InputFiles.check(file, Long.MAX_VALUE, "model file");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        } catch (NoSuchFileException e) {
            throw new FinloraException(file + ": file not found");
        } catch (IOException e) {
            throw new FinloraException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }
}
