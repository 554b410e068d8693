package org.finlora.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A named tensor as loaded from a checkpoint: dtype, logical shape (row-major, PyTorch order, so a
 * linear weight is [out, in]) and its bytes, usually a slice of a memory-mapped file.
 */
public record Tensor(String name, DType dtype, long[] shape, MemorySegment data) {

    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    public int rows() {
        return shape.length == 1 ? 1 : (int) shape[0];
    }

    public int cols() {
        return (int) shape[shape.length - 1];
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
