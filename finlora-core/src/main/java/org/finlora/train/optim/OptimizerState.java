package org.finlora.train.optim;

import org.finlora.FinloraException;
import org.finlora.io.SafetensorsFile;
import org.finlora.io.SafetensorsWriter;
import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Optimizer state files for resuming training: a safetensors file of the state tensors (f32, or
 * u8 codes for 8-bit state) with scalar counters in the metadata, written atomically.
 */
public final class OptimizerState {
    private final Map<String, float[]> floats = new HashMap<>();
    private final Map<String, byte[]> bytes = new HashMap<>();
    private final Map<String, String> scalars = new HashMap<>();

    public void put(String name, float[] v) {
        floats.put(name, v);
    }

    public void put(String name, byte[] v) {
        bytes.put(name, v);
    }

    public void scalar(String key, Object value) {
        scalars.put(key, String.valueOf(value));
    }

    public void write(Path file, String optimizer) {
        SafetensorsWriter w = new SafetensorsWriter().metadata("optimizer", optimizer);
        scalars.forEach(w::metadata);
        floats.forEach((k, v) -> w.add(k, new long[]{v.length}, v));
        bytes.forEach((k, v) -> w.add(k, DType.U8, new long[]{v.length}, v));
        w.write(file);
    }

    /** Reads a state file written for the named optimizer. */
    public static OptimizerState read(Path file, String optimizer) {
        OptimizerState s = new OptimizerState();
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile st = SafetensorsFile.open(file, arena);
            String kind = st.metadata().get("optimizer");
            if (!optimizer.equals(kind)) {
                throw new FinloraException(file + ": optimizer state is for '" + kind + "', expected '" + optimizer + "'");
            }
            st.metadata().forEach((k, v) -> {
                if (!k.equals("optimizer")) s.scalars.put(k, v);
            });
            for (Tensor t : st.tensors().values()) {
                if (t.dtype() == DType.U8) {
                    byte[] b = new byte[(int) t.elementCount()];
                    MemorySegment.copy(t.data(), ValueLayout.JAVA_BYTE, 0, b, 0, b.length);
                    s.bytes.put(t.name(), b);
                } else {
                    s.floats.put(t.name(), Floats.toFloatArray(t));
                }
            }
        }
        return s;
    }

    /** Copies the named tensor into into (sizes must agree). */
    public void restore(Path file, String name, float[] into) {
        float[] v = floats.get(name);
        if (v == null) throw new FinloraException(file + ": optimizer state tensor '" + name + "' is missing");
        if (v.length != into.length) {
            throw new FinloraException(file + ": optimizer state tensor '" + name + "' has " + v.length + " elements, the parameter has " + into.length);
        }
        System.arraycopy(v, 0, into, 0, v.length);
    }

    public void restore(Path file, String name, byte[] into) {
        byte[] v = bytes.get(name);
        if (v == null) throw new FinloraException(file + ": optimizer state tensor '" + name + "' is missing");
        if (v.length != into.length) {
            throw new FinloraException(file + ": optimizer state tensor '" + name + "' has " + v.length + " elements, the parameter has " + into.length);
        }
        System.arraycopy(v, 0, into, 0, v.length);
    }

    public long longScalar(Path file, String key) {
        String v = scalars.get(key);
        if (v == null) throw new FinloraException(file + ": optimizer state metadata '" + key + "' is missing");
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new FinloraException(file + ": optimizer state metadata '" + key + "' is '" + v + "', expected an integer");
        }
    }

    public double doubleScalar(Path file, String key) {
        String v = scalars.get(key);
        if (v == null) throw new FinloraException(file + ": optimizer state metadata '" + key + "' is missing");
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new FinloraException(file + ": optimizer state metadata '" + key + "' is '" + v + "', expected a number");
        }
    }

    public int tensorCount() {
        return floats.size() + bytes.size();
    }

    @Override
    public String toString() {
        return "OptimizerState" + Arrays.toString(floats.keySet().toArray()) + Arrays.toString(bytes.keySet().toArray()) + scalars;
    }
}
