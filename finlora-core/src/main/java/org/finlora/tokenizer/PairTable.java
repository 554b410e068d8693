package org.finlora.tokenizer;

/**
 * Open-addressing map from a token pair (left, right) to (rank << 32) | mergedId: the merge rules
 * of an HF BPE model or the pieces of a SentencePiece model split in two.
 */
final class PairTable implements BpeMerger.PairRanker {
    private long[] keys;
    private long[] values;
    private int size;

    PairTable(int expected) {
        int cap = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        keys = new long[cap];
        values = new long[cap];
        java.util.Arrays.fill(keys, -1L);
    }

    private static int slot(long key, int mask) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 40) & mask;
    }

    /** Adds a rule; when the pair is already present the lower rank wins. */
    void put(int left, int right, int rank, int mergedId) {
        if ((size + 1) * 2 > keys.length) grow();
        long key = ((long) left << 32) | (right & 0xFFFFFFFFL);
        long value = ((long) rank << 32) | (mergedId & 0xFFFFFFFFL);
        int mask = keys.length - 1;
        int i = slot(key, mask);
        while (keys[i] != -1L) {
            if (keys[i] == key) {
                if ((values[i] >>> 32) > rank) values[i] = value;
                return;
            }
            i = (i + 1) & mask;
        }
        keys[i] = key;
        values[i] = value;
        size++;
    }

    private void grow() {
        long[] oldKeys = keys, oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new long[oldKeys.length * 2];
        java.util.Arrays.fill(keys, -1L);
        int mask = keys.length - 1;
        for (int j = 0; j < oldKeys.length; j++) {
            if (oldKeys[j] == -1L) continue;
            int i = slot(oldKeys[j], mask);
            while (keys[i] != -1L) i = (i + 1) & mask;
            keys[i] = oldKeys[j];
            values[i] = oldValues[j];
        }
    }

    int size() {
        return size;
    }

    @Override
    public long rank(int left, int right) {
        long key = ((long) left << 32) | (right & 0xFFFFFFFFL);
        int mask = keys.length - 1;
        for (int i = slot(key, mask); keys[i] != -1L; i = (i + 1) & mask) {
            if (keys[i] == key) return values[i];
        }
        return -1;
    }
}
