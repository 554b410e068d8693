package org.finlora.fuzz;

import org.finlora.FinloraException;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs one fuzz case and holds it to the contract: it ends normally or in a FinloraException with
 * a one-line message, within a time bound and a bound on the bytes it allocates. Anything else
 * (another exception, an Error, a multi-line message, too slow, too much memory) is a finding;
 * the input is saved under target/fuzz-findings for replay.
 */
final class FuzzHarness {
    /** Per case; a corrupt length that makes a parser allocate for it shows up here long before an OutOfMemoryError. */
    static final long MAX_ALLOCATED = 256L << 20;
    /**
     * CPU time per case (the thread's own, so a GC pause or a busy shared machine does not count; a
     * loop that never ends does). A read that blocks forever is the surefire timeout's to catch.
     */
    static final long MAX_CPU_NANOS = 5_000_000_000L;

    enum Outcome { ACCEPTED, REJECTED }

    private static final com.sun.management.ThreadMXBean THREADS = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private FuzzHarness() {
    }

    static Outcome run(FuzzTargets.Target t, byte[] input, Path scratch, String caseId) {
        long t0 = System.nanoTime(), c0 = THREADS.getCurrentThreadCpuTime();
        long a0 = THREADS.getCurrentThreadAllocatedBytes();
        Outcome o;
        try {
            t.runner().run(input, scratch);
            o = Outcome.ACCEPTED;
        } catch (FinloraException e) {
            String m = e.getMessage();
            if (m == null || m.isBlank() || m.contains("\n") || m.contains("\r")) {
                throw finding(t, input, caseId, "FinloraException without a one-line message: " + m, e);
            }
            o = Outcome.REJECTED;
        } catch (Throwable e) {
            throw finding(t, input, caseId, e.toString(), e);
        }
        long cpu = THREADS.getCurrentThreadCpuTime() - c0, wall = System.nanoTime() - t0, bytes = THREADS.getCurrentThreadAllocatedBytes() - a0;
        if (cpu > MAX_CPU_NANOS) {
            throw finding(t, input, caseId, "took " + cpu / 1_000_000 + " ms of CPU, " + wall / 1_000_000 + " ms wall (bound " + MAX_CPU_NANOS / 1_000_000 + " ms)", null);
        }
        if (bytes > MAX_ALLOCATED) throw finding(t, input, caseId, "allocated " + (bytes >> 20) + " MiB (bound " + (MAX_ALLOCATED >> 20) + " MiB)", null);
        return o;
    }

    /** The file a finding of {@code t} is saved as, and replayed from by later runs. */
    static String findingPrefix(FuzzTargets.Target t) {
        return t.name().replaceAll("[^A-Za-z0-9._-]", "_") + "-";
    }

    static final Path FINDINGS = Path.of("target", "fuzz-findings");

    private static AssertionError finding(FuzzTargets.Target t, byte[] input, String caseId, String what, Throwable cause) {
        Path dir = FINDINGS;
        String file = findingPrefix(t) + caseId + ".bin";
        try {
            Files.createDirectories(dir);
            Files.write(dir.resolve(file), input);
        } catch (Exception ignored) {
            // the message still names the case
        }
        return new AssertionError(t.name() + " case " + caseId + " (" + input.length + " bytes, saved as " + dir.resolve(file) + "): " + what, cause);
    }
}
