package org.finlora.tokenizer;

import java.util.Arrays;

/**
 * Open-addressing hash map from byte strings to non-negative ints. Lookups take a slice or the
 * concatenation of two arrays, so BPE can ask "is a+b a token?" without allocating.
 */
final class ByteSliceMap {
    private byte[][] keys;
    private int[] values;
    private int[] hashes;
    private int size;

    ByteSliceMap(int expected) {
        int cap = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        keys = new byte[cap][];
        values = new int[cap];
        hashes = new int[cap];
    }

    int size() {
        return size;
    }

    private static int mix(int h) {
        h ^= h >>> 16;
        h *= 0x7feb352d;
        h ^= h >>> 15;
        return h;
    }

    private static int hash(byte[] a, int off, int len, int h) {
        for (int i = 0; i < len; i++) h = 31 * h + a[off + i];
        return h;
    }

    /** Stores key → value; an existing key keeps its first value (returns false). */
    boolean putIfAbsent(byte[] key, int value) {
        if (get(key, 0, key.length) >= 0) return false;
        if ((size + 1) * 2 > keys.length) grow();
        insert(key, value, mix(hash(key, 0, key.length, 1)));
        size++;
        return true;
    }

    private void insert(byte[] key, int value, int h) {
        int mask = keys.length - 1;
        int i = h & mask;
        while (keys[i] != null) i = (i + 1) & mask;
        keys[i] = key;
        values[i] = value;
        hashes[i] = h;
    }

    private void grow() {
        byte[][] oldKeys = keys;
        int[] oldValues = values, oldHashes = hashes;
        keys = new byte[oldKeys.length * 2][];
        values = new int[oldKeys.length * 2];
        hashes = new int[oldKeys.length * 2];
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != null) insert(oldKeys[i], oldValues[i], oldHashes[i]);
        }
    }

    /** Value of bytes a[off, off+len), or -1. */
    int get(byte[] a, int off, int len) {
        int h = mix(hash(a, off, len, 1));
        int mask = keys.length - 1;
        for (int i = h & mask; keys[i] != null; i = (i + 1) & mask) {
            if (hashes[i] == h && Arrays.equals(keys[i], 0, keys[i].length, a, off, off + len)) return values[i];
        }
        return -1;
    }

    /** Value of the concatenation a ++ b, or -1. */
    int getConcat(byte[] a, byte[] b) {
        int h = mix(hash(b, 0, b.length, hash(a, 0, a.length, 1)));
        int mask = keys.length - 1;
        int n = a.length + b.length;
        for (int i = h & mask; keys[i] != null; i = (i + 1) & mask) {
            byte[] k = keys[i];
            if (hashes[i] == h && k.length == n
                    && Arrays.equals(k, 0, a.length, a, 0, a.length)
                    && Arrays.equals(k, a.length, n, b, 0, b.length)) {
                return values[i];
            }
        }
        return -1;
    }
}
