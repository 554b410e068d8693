package org.finlora.model;

/** Keys (already rotated) and values of every layer for positions 0 .. capacity - 1, [capacity, kvDim] per layer. */
public final class KvCache {
    public final int capacity;
    final float[][] keys;
    final float[][] values;

    public KvCache(LlamaConfig c, int capacity) {
        if (capacity <= 0) throw new IllegalArgumentException("KV cache capacity must be positive, got " + capacity);
        this.capacity = capacity;
        keys = new float[c.nLayers()][];
        values = new float[c.nLayers()][];
        for (int l = 0; l < c.nLayers(); l++) {
            keys[l] = new float[Math.multiplyExact(capacity, c.kvDim())];
            values[l] = new float[capacity * c.kvDim()];
        }
    }

    public long byteSize() {
        long b = 0;
        for (float[] k : keys) b += 8L * k.length;
        return b;
    }
}
