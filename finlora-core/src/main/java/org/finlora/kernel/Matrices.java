package org.finlora.kernel;

import org.finlora.FinloraException;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;


/** Weight matrices over tensors as stored (no conversion): the default linear/embedding factory. */
public final class Matrices {
    private Matrices() {
    }

    /** The kernel matrix over a 2-D tensor's bytes in its stored dtype (f32, f16, bf16, Q8_0, Q4_0), at the given width. */
    public static RowMatrix of(Tensor t, Simd simd) {
        check(t);
        int r = (int) t.shape()[0], c = (int) t.shape()[1];
        return switch (t.dtype()) {
            case F32 -> new F32Matrix(r, c, t.data(), simd);
            case F16 -> new F16Matrix(r, c, t.data(), simd);
            case BF16 -> new BF16Matrix(r, c, t.data(), simd);
            case Q8_0 -> new Q8_0Matrix(r, c, t.data(), simd);
            case Q4_0 -> new Q4_0Matrix(r, c, t.data(), simd);
            default -> throw new IllegalStateException("checked above: " + t.dtype());
        };
    }

    /** A one-line error unless t is a 2-D matrix of a dtype {@link #of} reads, holding exactly the bytes its shape needs. */
    static void check(Tensor t) {
        if (t.shape().length != 2) {
            throw new FinloraException("tensor '" + t.name() + "' has shape " + java.util.Arrays.toString(t.shape()) + ", expected a 2-D matrix");
        }
        long rows = t.shape()[0], cols = t.shape()[1];
        if (rows <= 0 || cols <= 0 || rows > Integer.MAX_VALUE || cols > Integer.MAX_VALUE) {
            throw new FinloraException("tensor '" + t.name() + "' has an unsupported matrix shape [" + rows + ", " + cols + "]");
        }
        if (cols % t.dtype().blockSize != 0) {
            throw new FinloraException("tensor '" + t.name() + "': " + cols + " columns is not a multiple of the " + t.dtype()
                    + " block size " + t.dtype().blockSize);
        }
        long need = t.dtype().byteSize(rows * cols);
        if (t.data().byteSize() != need) {
            throw new FinloraException("tensor '" + t.name() + "' " + t.dtype() + java.util.Arrays.toString(t.shape()) + " has "
                    + t.data().byteSize() + " bytes, expected " + need);
        }
        if (!supports(t.dtype())) {
            throw new FinloraException("tensor '" + t.name() + "': dtype " + t.dtype() + " is not a weight format (expected F32, F16, BF16, Q8_0 or Q4_0)");
        }
    }

    /** Whether {@link #of} accepts this dtype. */
    public static boolean supports(DType d) {
        return d == DType.F32 || d == DType.F16 || d == DType.BF16 || d == DType.Q8_0 || d == DType.Q4_0;
    }
}
