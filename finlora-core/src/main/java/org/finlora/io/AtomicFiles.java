package org.finlora.io;

import org.finlora.FinloraException;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Helpers for writing outputs to a temp file beside the target and moving it into place. */
final class AtomicFiles {
    /** Largest slice handed to one FileChannel.write (a ByteBuffer view is limited to 2 GiB). */
    private static final long CHUNK = 64L << 20;

    private AtomicFiles() {
    }

    static Path tempBeside(Path target) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        return Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
    }

    static void moveIntoPlace(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    static void deleteQuietly(Path p) {
        try {
            if (p != null) Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: the temp file is hidden and named after the target
        }
    }

    /** Writes all bytes of a segment (any size, heap or native) at the channel's position. */
    static void writeFully(FileChannel ch, MemorySegment data) throws IOException {
        for (long off = 0; off < data.byteSize(); off += CHUNK) {
            ByteBuffer b = data.asSlice(off, Math.min(CHUNK, data.byteSize() - off)).asByteBuffer();
            while (b.hasRemaining()) ch.write(b);
        }
    }

    static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    static FinloraException writeError(Path target, IOException e) {
        return new FinloraException(target + ": cannot write (" + e.getMessage() + ")", e);
    }
}
