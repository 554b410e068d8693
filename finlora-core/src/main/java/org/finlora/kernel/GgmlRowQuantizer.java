package org.finlora.kernel;

import org.finlora.FinloraException;
import org.finlora.tensor.WeightMatrix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** The row loop of a ggml 32-weight block format stored row by row (Q8_0): dequantize a row, quantize its blocks. */
final class GgmlRowQuantizer {
    static final int BLOCK = 32;

    /** One format's block routine: quantize x[xOff, xOff + 32) into out at off. */
    interface Block {
        void quantize(float[] x, int xOff, MemorySegment out, long off);
    }

    private GgmlRowQuantizer() {
    }

    /** Quantizes every row of src in parallel over rows; returns the rows' blocks back to back. */
    static MemorySegment quantizeRows(WeightMatrix src, String format, int blockBytes, Block block) {
        if (src.cols % BLOCK != 0) {
            throw new FinloraException(format + ": a row of " + src.cols + " weights is not a multiple of the 32-weight block");
        }
        long rowBytes = (long) src.cols / BLOCK * blockBytes;
        MemorySegment seg = Arena.ofAuto().allocate(rowBytes * src.rows, 64);
        Parallel.forRange(src.rows, 16, (r0, r1) -> {
            float[] row = new float[src.cols];
            for (int r = r0; r < r1; r++) {
                src.dequantizeRow(r, row, 0);
                for (int b = 0; b < src.cols / BLOCK; b++) block.quantize(row, b * BLOCK, seg, r * rowBytes + (long) b * blockBytes);
            }
        });
        return seg;
    }
}
