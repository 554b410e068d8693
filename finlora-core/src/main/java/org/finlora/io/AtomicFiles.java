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

/**
 * Every output file goes through here: written to a hidden temp file beside the target, then moved
 * into place atomically, so a crash or Ctrl-C never leaves a half-written file. Temp files and
 * folders are named {@code .<target>.finlora-tmp-<pid>-<random>} so a user sees whose they are
 * and a later run can remove those of processes that died ({@link #cleanStale}). They are created
 * with plain createFile/createDirectory, so every output gets the user's umask (one policy for
 * models, adapters and checkpoints alike; createTempFile would make them owner-only).
 */
public final class AtomicFiles {
    /** Largest slice handed to one FileChannel.write (a ByteBuffer view is limited to 2 GiB). */
    private static final long CHUNK = 64L << 20;

    private AtomicFiles() {
    }

    /** Something that writes the whole content of a text file. */
    public interface Content {
        void writeTo(java.io.Writer w) throws IOException;
    }

    /** Writes a UTF-8 text file atomically. */
    public static void write(Path target, String text) {
        write(target, w -> w.write(text));
    }

    /** Writes a UTF-8 text file atomically; a failure leaves no temp file and the old target intact. */
    public static void write(Path target, Content content) {
        Path tmp = null;
        try {
            tmp = tempBeside(target);
            try (java.io.Writer w = Files.newBufferedWriter(tmp, java.nio.charset.StandardCharsets.UTF_8)) {
                content.writeTo(w);
            }
            moveIntoPlace(tmp, target);
            tmp = null;
        } catch (IOException e) {
            throw writeError(target, e);
        } finally {
            deleteQuietly(tmp);
        }
    }

    static final String TMP_MARK = ".finlora-tmp-";

    /** A new empty temp file beside {@code target} (same folder, so the final move is a rename). */
    public static Path tempBeside(Path target) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        for (int attempt = 0; ; attempt++) {
            try {
                return Files.createFile(dir.resolve(tempName(target)));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt > 100) throw e;
            }
        }
    }

    /** A new empty temp folder beside {@code target}, for outputs written whole and renamed into place. */
    public static Path tempFolderBeside(Path target) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        for (int attempt = 0; ; attempt++) {
            try {
                return Files.createDirectory(dir.resolve(tempName(target)));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt > 100) throw e;
            }
        }
    }

    private static String tempName(Path target) {
        return "." + target.getFileName() + TMP_MARK + ProcessHandle.current().pid() + "-"
                + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong() & 0xffffffffffL);
    }

    /**
     * Removes temp files and folders beside {@code target} left by runs that died (killed before
     * they could clean up): those whose process is gone. Returns how many were removed.
     */
    public static int cleanStale(Path target) {
        Path dir = target.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) return 0;
        String prefix = "." + target.getFileName() + TMP_MARK;
        int removed = 0;
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (!n.startsWith(prefix)) continue;
                String rest = n.substring(prefix.length());
                int dash = rest.indexOf('-');
                long pid;
                try {
                    pid = Long.parseLong(dash < 0 ? rest : rest.substring(0, dash));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) continue;
                deleteTreeQuietly(p);
                removed++;
            }
        } catch (IOException ignored) {
            // best effort: a leftover keeps its telling name
        }
        return removed;
    }

    /**
     * Fails now, naming the folder, when {@code dir} cannot take new files (read-only, not a folder,
     * no permission): a long job then stops before it starts instead of after it has run.
     */
    public static void checkWritable(Path dir, String what) {
        try {
            Files.createDirectories(dir);
            Path probe = tempBeside(dir.resolve("write-probe"));
            Files.delete(probe);
        } catch (IOException e) {
            throw new FinloraException(dir + ": cannot write " + what + " there (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
        }
    }

    public static void moveIntoPlace(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    public static void deleteQuietly(Path p) {
        try {
            if (p != null) Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: the temp file is hidden and named after the target
        }
    }

    /** Whether a folder has no entries (output folders must be new or empty). */
    public static boolean isEmptyDir(Path dir) throws IOException {
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

    /** Deletes a folder we created (a temp output), deepest entries first; best effort. */
    public static void deleteTreeQuietly(Path p) {
        if (p == null) return;
        try (java.util.stream.Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(x);
        } catch (IOException ignored) {
            // our own temp folder: a leftover is hidden and named after the target
        }
    }

    /** Writes all bytes of a segment (any size, heap or native) at the channel's position. */
    public static void writeFully(FileChannel ch, MemorySegment data) throws IOException {
        for (long off = 0; off < data.byteSize(); off += CHUNK) {
            ByteBuffer b = data.asSlice(off, Math.min(CHUNK, data.byteSize() - off)).asByteBuffer();
            while (b.hasRemaining()) ch.write(b);
        }
    }

    public static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    public static FinloraException writeError(Path target, IOException e) {
        return new FinloraException(target + ": cannot write (" + e.getMessage() + ")", e);
    }
}
