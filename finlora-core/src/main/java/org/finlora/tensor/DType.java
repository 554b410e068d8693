package org.finlora.tensor;

/**
 * Storage types of tensors as they sit in checkpoint files. Block formats store {@code blockSize}
 * elements in {@code blockBytes} bytes; scalar formats have blockSize 1.
 */
public enum DType {
    F32(1, 4), F16(1, 2), BF16(1, 2), F64(1, 8),
    I8(1, 1), U8(1, 1), I16(1, 2), I32(1, 4), I64(1, 8), BOOL(1, 1),
    /** ggml Q8_0: f16 scale + 32 int8. */
    Q8_0(32, 34),
    /** ggml Q4_0: f16 scale + 16 bytes of nibbles (element j low nibble, j+16 high nibble). */
    Q4_0(32, 18);

    public final int blockSize;
    public final int blockBytes;

    DType(int blockSize, int blockBytes) {
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** Bytes needed for {@code elements} elements; elements must be a multiple of the block size. */
    public long byteSize(long elements) {
        if (elements % blockSize != 0) {
            throw new IllegalArgumentException(this + " needs a multiple of " + blockSize + " elements, got " + elements);
        }
        return elements / blockSize * blockBytes;
    }

    public boolean isFloat() {
        return this == F32 || this == F16 || this == BF16 || this == F64;
    }
}
