package org.finlora.tokenizer;

import java.util.Arrays;

/** Growable int array for token ids. */
final class IntList {
    private int[] a = new int[16];
    private int n;

    void add(int v) {
        if (n == a.length) a = Arrays.copyOf(a, n * 2);
        a[n++] = v;
    }

    void addAll(int[] src, int count) {
        if (n + count > a.length) a = Arrays.copyOf(a, Math.max(a.length * 2, n + count));
        System.arraycopy(src, 0, a, n, count);
        n += count;
    }

    int size() {
        return n;
    }

    int[] toArray() {
        return Arrays.copyOf(a, n);
    }
}
