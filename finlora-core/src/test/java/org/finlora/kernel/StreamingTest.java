package org.finlora.kernel;

import org.finlora.io.Checkpoint;
import org.finlora.io.ModelLoader;
import org.finlora.model.LlamaModel;
import org.finlora.model.LlamaWeights;
import org.finlora.tensor.Floats;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The bandwidth probe reads every whole float exactly once, and reads the memory decode streams. */
class StreamingTest {

    private static MemorySegment randomFloats(long bytes, SplittableRandom rnd) {
        MemorySegment s = Arena.ofAuto().allocate(bytes, 64);
        for (long i = 0; i < bytes / 4; i++) s.setAtIndex(Floats.F32_LE, i, (float) rnd.nextInt(-1000, 1000));
        for (long b = bytes / 4 * 4; b < bytes; b++) s.set(java.lang.foreign.ValueLayout.JAVA_BYTE, b, (byte) 0x7f);
        return s;
    }

    private static double scalarSum(MemorySegment s) {
        double sum = 0;
        for (long i = 0; i < s.byteSize() / 4; i++) sum += s.getAtIndex(Floats.F32_LE, i);
        return sum;
    }

    @Test
    void sumsEveryWholeFloatOnceOnOddSizes() {
        SplittableRandom rnd = new SplittableRandom(7);
        // integers, so every summation order gives the same exact double; sizes around the 256 KiB chunk
        for (long bytes : new long[]{4, 7, 60, 4 * 1023 + 3, 4L * (1 << 16) - 4, 4L * (1 << 16) + 6, 4L * 3 * (1 << 16) + 36}) {
            MemorySegment s = randomFloats(bytes, rnd);
            assertEquals(scalarSum(s), Streaming.sumFloats(TestWeights.width(), s), 0.0, "bytes " + bytes);
        }
        MemorySegment a = randomFloats(4L * 70_001, rnd), b = randomFloats(13, rnd);
        assertEquals(scalarSum(a) + scalarSum(b), Streaming.sumAll(TestWeights.width(), List.of(a, b)), 0.0);
    }

    @Test
    void decodeStorageIsEveryBlockLinearAndLmHead() throws Exception {
        try (Checkpoint ck = ModelLoader.load("synthetic:tiny", null)) {
            for (String quant : new String[]{"f32", "q4_0", "q8_0"}) {
                LlamaWeights w = LlamaModel.load(ck, quant).weights;
                List<MemorySegment> s = w.decodeStorage();
                assertEquals(7 * w.layers.length + 1, s.size(), quant);
                long expected = w.lmHead.byteSize();
                for (LlamaWeights.Layer l : w.layers) {
                    expected += l.wq().byteSize() + l.wk().byteSize() + l.wv().byteSize() + l.wo().byteSize()
                            + l.gate().byteSize() + l.up().byteSize() + l.down().byteSize();
                }
                long read = 0;
                for (MemorySegment m : s) read += m.byteSize();
                assertEquals(expected, read, quant);   // these formats keep their scales inside the codes
            }
        }
    }
}
