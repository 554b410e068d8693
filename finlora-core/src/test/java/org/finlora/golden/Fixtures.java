package org.finlora.golden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.finlora.io.SafetensorsFile;
import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Access to the PyTorch-made fixtures (tools/README.md) and the shared assets. */
final class Fixtures {
    private Fixtures() {
    }

    static Path fixture(String name) {
        try {
            var url = Fixtures.class.getResource("/fixtures/" + name);
            if (url == null) throw new IllegalStateException("missing test fixture " + name + " (see tools/README.md)");
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Path shared(String relative) {
        Path root = Path.of(System.getProperty("finlora.shared", "/work/shared"));
        if (!Files.isDirectory(root)) root = Path.of("/work/shared");
        Assumptions.assumeTrue(Files.isDirectory(root), "shared assets directory " + root + " does not exist");
        return root.resolve(relative);
    }

    static Path repoFile(String relative) {
        // surefire runs in finlora-core/; the repository root is its parent
        Path p = Path.of("").toAbsolutePath().getParent().resolve(relative);
        if (!Files.exists(p)) p = Path.of(relative).toAbsolutePath();
        return p;
    }

    static JsonNode json(String name) {
        try {
            return new ObjectMapper().readTree(fixture(name).toFile());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static SafetensorsFile safetensors(String name) {
        return SafetensorsFile.open(fixture(name), Arena.ofAuto());
    }

    static float[] floats(Tensor t) {
        return Floats.toFloatArray(t);
    }

    static int[] ints(Tensor t) {
        int n = (int) t.elementCount();
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = t.dtype() == DType.I64 ? (int) t.data().getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i)
                    : t.data().getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
        }
        return out;
    }

    static int[] ints(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) out[i] = arr.get(i).asInt();
        return out;
    }

    /** Max |a - b| over all elements. */
    static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) throw new AssertionError("length " + a.length + " != " + b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs((double) a[i] - b[i]));
        return m;
    }
}
