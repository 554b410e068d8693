package org.finlora.tokenizer;

import java.util.Arrays;

/**
 * The BPE merge loop shared by every tokenizer here: starting from a sequence of token ids, merge
 * the adjacent pair with the lowest rank, leftmost on ties, until no pair merges. A binary heap
 * keyed by (rank, position) with lazy invalidation makes this O(n log n), so long runs
 * (a 25,000-space block, a whole SentencePiece document) stay cheap.
 */
final class BpeMerger {
    /** Merge rule lookup: (rank << 32) | mergedId for a mergeable pair, or -1. Lower rank merges first. */
    interface PairRanker {
        long rank(int left, int right);
    }

    private BpeMerger() {
    }

    /** Merges ids[0, n) in place and returns the new length. */
    static int merge(int[] ids, int n, PairRanker ranker) {
        if (n < 2) return n;
        int[] next = new int[n];
        int[] prev = new int[n];
        for (int i = 0; i < n; i++) {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        boolean[] dead = new boolean[n];
        long[] heap = new long[Math.max(4, n)];
        int heapSize = 0;
        for (int i = 0; i + 1 < n; i++) {
            long r = ranker.rank(ids[i], ids[i + 1]);
            if (r >= 0) {
                heap[heapSize++] = key(r, i);
            }
        }
        // heapify
        for (int i = heapSize / 2 - 1; i >= 0; i--) siftDown(heap, heapSize, i);
        while (heapSize > 0) {
            long top = heap[0];
            heap[0] = heap[--heapSize];
            siftDown(heap, heapSize, 0);
            int pos = (int) top;
            int rank = (int) (top >>> 32);
            if (dead[pos] || next[pos] < 0) continue;
            int right = next[pos];
            long r = ranker.rank(ids[pos], ids[right]);
            // stale entry: the pair at pos changed since it was pushed
            if (r < 0 || (int) (r >>> 32) != rank) continue;
            ids[pos] = (int) r;
            dead[right] = true;
            int after = next[right];
            next[pos] = after;
            if (after >= 0) prev[after] = pos;
            int before = prev[pos];
            if (before >= 0) {
                long rb = ranker.rank(ids[before], ids[pos]);
                if (rb >= 0) {
                    if (heapSize == heap.length) heap = Arrays.copyOf(heap, heap.length * 2);
                    heap[heapSize] = key(rb, before);
                    siftUp(heap, heapSize++);
                }
            }
            if (after >= 0) {
                long ra = ranker.rank(ids[pos], ids[after]);
                if (ra >= 0) {
                    if (heapSize == heap.length) heap = Arrays.copyOf(heap, heap.length * 2);
                    heap[heapSize] = key(ra, pos);
                    siftUp(heap, heapSize++);
                }
            }
        }
        int m = 0;
        for (int i = 0; i >= 0; i = next[i]) ids[m++] = ids[i];
        return m;
    }

    private static long key(long rankAndId, int pos) {
        return (rankAndId & 0xFFFFFFFF00000000L) | pos;
    }

    private static void siftUp(long[] h, int i) {
        long v = h[i];
        while (i > 0) {
            int p = (i - 1) >>> 1;
            if (h[p] <= v) break;
            h[i] = h[p];
            i = p;
        }
        h[i] = v;
    }

    private static void siftDown(long[] h, int size, int i) {
        long v = h[i];
        while (true) {
            int c = 2 * i + 1;
            if (c >= size) break;
            if (c + 1 < size && h[c + 1] < h[c]) c++;
            if (v <= h[c]) break;
            h[i] = h[c];
            i = c;
        }
        h[i] = v;
    }
}
