package org.finlora.kernel;

import org.finlora.quant.TensorFloats;
import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;

/**
 * The traits shared by the formats stored as one tensor of a GGUF/safetensors dtype (f32, bf16, f16,
 * q8_0, q4_0): read where a checkpoint holds that dtype, written back as that one tensor, and applied
 * to the token embedding and lm_head too (as llama.cpp's types are). A format supplies its conversion
 * and the bytes it stores.
 */
abstract class DTypeFormat implements WeightFormat {
    private final String name;
    private final DType dtype;

    DTypeFormat(String name, DType dtype) {
        this.name = name;
        this.dtype = dtype;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final boolean embeddings() {
        return true;
    }

    /** The bytes m stores, in the dtype's layout. */
    abstract MemorySegment bytes(RowMatrix m);

    @Override
    public final RowMatrix load(StoredWeights src, String weightName, Simd simd) {
        Tensor t = src.tensor(weightName);
        return t != null && t.dtype() == dtype ? Matrices.of(t, simd) : null;
    }

    @Override
    public final Map<String, Tensor> store(RowMatrix m, String weightName, String dtypeName) {
        return Map.of(weightName, new Tensor(weightName, dtype, new long[]{m.rows, m.cols}, bytes(m)));
    }

    /** A float rounded to 16 bits. */
    interface Rounding {
        short round(float v);
    }

    /** Every value of a float (or readable) 2-D tensor rounded to 16 bits, row-major. */
    static MemorySegment halves(Tensor t, Rounding rounding) {
        Tensor f = WeightFormats.floatTensor(t);
        int rows = f.rows(), cols = f.cols();
        MemorySegment out = Arena.ofAuto().allocate(2L * rows * cols, 64);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            TensorFloats.read(f, (long) r * cols, row, cols);
            for (int c = 0; c < cols; c++) out.set(Floats.I16_LE, 2L * ((long) r * cols + c), rounding.round(row[c]));
        }
        return out;
    }
}
