package org.finlora.io;

import org.finlora.FinloraException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Every file a user hands in is opened through here: it must be a regular file (a FIFO, a device
 * such as /dev/zero or a folder would hang a reader or grow the heap without end) no larger than a
 * cap that fits its kind. Errors name the file and say which of these it failed.
 */
public final class InputFiles {
    private static final long MiB = 1L << 20;
    /** config.json, adapter_config.json, tokenizer_config.json, generation_config.json, a sharded index. */
    public static final long SMALL_JSON = 64 * MiB;
    /** tokenizer.json, tokenizer.model, llama2.c tokenizer.bin (Llama 3's tokenizer.json is 9 MB). */
    public static final long TOKENIZER = 512 * MiB;
    /** trainer_state.json (loss curves grow by ~40 bytes a step). */
    public static final long TRAINER_STATE = 256 * MiB;
    /** --config (YAML or JSON options). */
    public static final long OPTIONS = MiB;
    /** perplexity --file: read whole into one string. */
    public static final long TEXT = 1024 * MiB;
    /** --train, --eval-data, --data (JSONL, CSV, Parquet): every example is held in memory. */
    public static final long DATA = 4096 * MiB;

    private InputFiles() {
    }

    /**
     * Checks that {@code file} is a regular file (links followed) of at most {@code maxBytes}; returns
     * its size. {@code what} says what the file is for ("tokenizer", "--train data", ...).
     */
    public static long check(Path file, long maxBytes, String what) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new FinloraException(file + ": file not found (" + what + ")");
        } catch (AccessDeniedException e) {
            throw new FinloraException(file + ": permission denied (" + what + ")");
        } catch (IOException e) {
            throw new FinloraException(file + ": cannot read (" + what + ": " + e.getMessage() + ")");
        }
        if (a.isDirectory()) throw new FinloraException(file + ": is a folder, expected a file (" + what + ")");
        if (!a.isRegularFile()) {
            throw new FinloraException(file + ": not a regular file (a device, FIFO or socket cannot be read as " + what + ")");
        }
        if (a.size() > maxBytes) {
            throw new FinloraException(file + ": " + a.size() + " bytes is larger than the " + human(maxBytes) + " a " + what + " may have");
        }
        return a.size();
    }

    /** Whether {@code file} exists at all (as a link, a file, a folder or a device). */
    public static boolean exists(Path file) {
        return Files.exists(file, LinkOption.NOFOLLOW_LINKS);
    }

    /** The whole file, after {@link #check}; never more than the cap even if the file grows meanwhile. */
    public static byte[] readBytes(Path file, long maxBytes, String what) {
        long size = check(file, maxBytes, what);
        try (InputStream in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, Math.min(maxBytes, size) + 1));
            if (b.length > maxBytes) throw new FinloraException(file + ": grew past the " + human(maxBytes) + " a " + what + " may have");
            return b;
        } catch (IOException e) {
            throw new FinloraException(file + ": cannot read (" + what + ": " + e.getMessage() + ")");
        }
    }

    /** The whole file as strict UTF-8 text. */
    public static String readString(Path file, long maxBytes, String what) {
        byte[] b = readBytes(file, maxBytes, what);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw new FinloraException(file + ": not valid UTF-8 text (" + what + ")");
        }
    }

    static String human(long bytes) {
        if (bytes >= (1L << 30) && bytes % (1L << 30) == 0) return (bytes >> 30) + " GiB";
        if (bytes >= MiB && bytes % MiB == 0) return (bytes >> 20) + " MiB";
        return bytes + " bytes";
    }
}
