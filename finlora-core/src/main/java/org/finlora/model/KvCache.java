package org.finlora.model;

/**
 * Keys (already rotated) and values of every layer for positions 0 .. capacity - 1. Values are
 * [capacity, kvDim] per layer. Keys are stored transposed per kv head, [nKvHeads, headDim, capacity]
 * (position fastest), so attention scores of consecutive positions are one vector multiply-add per
 * head dimension instead of one horizontal sum per position; see
 * {@link org.finlora.kernel.Attention#ragged}.
 */
public final class KvCache {
    public final int capacity;
    final int kvDim;
    final float[][] keys;
    final float[][] values;

    public KvCache(LlamaConfig c, int capacity) {
        if (capacity <= 0) throw new IllegalArgumentException("KV cache capacity must be positive, got " + capacity);
        this.capacity = capacity;
        this.kvDim = c.kvDim();
        keys = new float[c.nLayers()][];
        values = new float[c.nLayers()][];
        for (int l = 0; l < c.nLayers(); l++) {
            keys[l] = new float[Math.multiplyExact(capacity, kvDim)];
            values[l] = new float[capacity * kvDim];
        }
    }

    /** Stores count rows of keys k[kOff + t·kvDim ..] and values v[vOff + t·kvDim ..] at positions pos .. pos + count - 1 of layer l. */
    void put(int l, float[] k, int kOff, float[] v, int vOff, int pos, int count) {
        float[] kt = keys[l];
        for (int t = 0; t < count; t++) {
            int row = kOff + t * kvDim;
            for (int j = 0; j < kvDim; j++) kt[j * capacity + pos + t] = k[row + j];
        }
        System.arraycopy(v, vOff, values[l], pos * kvDim, count * kvDim);
    }

    /** Copies the keys/values of positions 0 .. n - 1 of every layer from another cache of the same model. */
    void copyPrefix(KvCache from, int n) {
        for (int l = 0; l < keys.length; l++) {
            for (int j = 0; j < kvDim; j++) System.arraycopy(from.keys[l], j * from.capacity, keys[l], j * capacity, n);
            System.arraycopy(from.values[l], 0, values[l], 0, n * kvDim);
        }
    }

    public long byteSize() {
        long b = 0;
        for (float[] k : keys) b += 8L * k.length;
        return b;
    }
}
