package org.finlora.kernel;

import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A compiler directive for the kernels, added from inside the process: C2 runs a graph cleanup (IGVN)
 * after every call it inlines late while compiling a method of this package
 * ({@code IncrementalInlineForceCleanup}).
 *
 * <p>Why: C2 inlines the Vector API intrinsics late, one call at a time, and cleans the graph only now
 * and then. An intrinsic whose input vector comes out of a cast (the {@code (FloatVector)} of a
 * reinterpret, the {@code (FloatVector) v} inside {@code lanewise}) needs that cast to carry the exact
 * box type produced by the input's own intrinsic; until a cleanup pass has run, it carries only the
 * abstract type, the intrinsic fails ({@code -XX:+PrintIntrinsics}: "unbox failed v2=CheckCastPP") and
 * the Java fallback, which allocates a vector per operation, stays in the compiled kernel. Whether a
 * cleanup falls in between depends on node counts that vary with the profile, so 6 of 38 processes
 * compiled the two-tile q4_0 kernel that way (decode 12-19 against 28 tok/s, 30-40 young GCs in 64
 * tokens instead of 12) and none of them recovered. With the cleanup forced, 0 of 56 did
 * (docs/performance.md, ninth session).
 *
 * <p>The directive is a diagnostic option, but the DiagnosticCommand MBean accepts it without
 * {@code -XX:+UnlockDiagnosticVMOptions}, so no launcher flag is needed and embedding applications
 * get it too. {@code -Dfinlora.c2cleanup=false} leaves C2 alone (for A/B runs); a JVM that refuses
 * the directive (another VM, or a JDK without the option) just runs as before.
 */
final class C2Directives {
    static final String MATCH = "org/finlora/kernel/*.*";
    /** Whether the directive was added to this JVM's directive stack. */
    static final boolean INSTALLED = !"false".equalsIgnoreCase(System.getProperty("finlora.c2cleanup", "true")) && install();

    private C2Directives() {
    }

    /** Whether the directive is in place; the first call adds it. */
    static boolean installed() {
        return INSTALLED;
    }

    private static boolean install() {
        Path file = null;
        try {
            file = Files.createTempFile("finlora-c2", ".json");
            Files.writeString(file, "[{ match: \"" + MATCH + "\", c2: { IncrementalInlineForceCleanup: true } }]", StandardCharsets.UTF_8);
            Object reply = ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerDirectivesAdd",
                    new Object[]{new String[]{file.toString()}}, new String[]{String[].class.getName()});
            return String.valueOf(reply).startsWith("1 compiler directives added");
        } catch (Exception | LinkageError e) {   // no management beans, no such command or option: run without
            return false;
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (Exception ignored) {
                    // a leftover 80-byte temp file is harmless
                }
            }
        }
    }
}
