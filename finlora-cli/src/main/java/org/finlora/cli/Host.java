package org.finlora.cli;

import org.finlora.kernel.Parallel;
import org.finlora.kernel.Simd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/** The machine a figure was measured on: CPU model, its vector extensions, the kernels' width and threads. */
final class Host {
    private Host() {
    }

    /** e.g. "cpu: AMD EPYC 9R45 (avx2 avx512f), simd: 512 (512-bit vectors, 16 floats; JVM max 512), threads 2". */
    static String line() {
        Simd s = Simd.configured();
        return "cpu: " + cpu() + ", simd: " + s.name() + " (" + s.describe() + "; JVM max " + (Simd.nativeBits() == 0 ? "scalar" : Simd.nativeBits())
                + "), threads " + Parallel.threads();
    }

    /** The CPU model and the vector extensions the kernels care about, from /proc/cpuinfo (the JVM's arch elsewhere). */
    static String cpu() {
        String model = null;
        TreeSet<String> ext = new TreeSet<>();
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
            for (String l : lines) {
                int colon = l.indexOf(':');
                if (colon < 0) continue;
                String key = l.substring(0, colon).strip().toLowerCase(Locale.ROOT), value = l.substring(colon + 1).strip();
                if (model == null && (key.equals("model name") || key.equals("cpu model"))) model = value;
                if (key.equals("flags") || key.equals("features")) {
                    for (String f : value.split("\\s+")) {
                        if (f.equals("avx2") || f.equals("avx512f") || f.equals("avx512_bf16") || f.equals("avx512_vnni") || f.equals("asimd") || f.equals("sve")) ext.add(f);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or unreadable: the arch alone
        }
        String m = model != null ? model : System.getProperty("os.arch");
        return ext.isEmpty() ? m : m + " (" + String.join(" ", ext) + ")";
    }
}
