package org.finlora.kernel;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The spin-then-park crew: chunks, coverage, exceptions, nesting, concurrent callers, thread changes. */
class ParallelTest {
    private int before;

    @BeforeEach
    void fourThreads() {
        before = Parallel.threads();
        Parallel.setThreads(4);   // more threads than this machine's cores: chunks must still all run
    }

    @AfterEach
    void restore() {
        Parallel.setThreads(before);
    }

    @Test
    void everyIndexRunsOnceInFixedContiguousChunks() {
        for (int call = 0; call < 2000; call++) {
            int n = 1 + call % 37;
            int[] hits = new int[n];
            List<int[]> chunks = Collections.synchronizedList(new ArrayList<>());
            Parallel.forRange(n, 1, (s, e) -> {
                chunks.add(new int[]{s, e});
                for (int i = s; i < e; i++) hits[i]++;
            });
            for (int i = 0; i < n; i++) assertEquals(1, hits[i], "call " + call + " index " + i);
            int expected = Math.min(4, n);
            assertEquals(n <= 1 ? 1 : expected, chunks.size(), "call " + call);
            chunks.sort((a, b) -> Integer.compare(a[0], b[0]));
            for (int k = 0; k < chunks.size() && n > 1; k++) {
                assertEquals(Parallel.chunkStart(n, expected, k), chunks.get(k)[0], "chunk start, call " + call);
                assertEquals(Parallel.chunkStart(n, expected, k + 1), chunks.get(k)[1], "chunk end, call " + call);
            }
        }
    }

    @Test
    void minChunkBoundsTheChunkCount() {
        AtomicInteger chunks = new AtomicInteger();
        Parallel.forRange(100, 40, (s, e) -> chunks.incrementAndGet());
        assertEquals(2, chunks.get());
        chunks.set(0);
        Parallel.forRange(100, 1000, (s, e) -> chunks.incrementAndGet());
        assertEquals(1, chunks.get());
    }

    @Test
    void aFailingChunkIsRethrownToTheCallerAfterTheOthersFinish() {
        AtomicInteger finished = new AtomicInteger();
        IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class, () -> Parallel.forRange(4, 1, (s, e) -> {
            if (s == 2) throw new IllegalArgumentException("chunk 2");
            finished.incrementAndGet();
        }));
        assertEquals("chunk 2", thrown.getMessage());
        assertTrue(finished.get() <= 3);
        // the crew is usable afterwards
        int[] hits = new int[64];
        Parallel.forRange(64, 1, (s, e) -> { for (int i = s; i < e; i++) hits[i]++; });
        for (int h : hits) assertEquals(1, h);
    }

    @Test
    void nestedCallsRunInlineAndComplete() {
        int[] hits = new int[8 * 50];
        Parallel.forRange(8, 1, (s, e) -> {
            for (int i = s; i < e; i++) {
                int base = i * 50;
                Parallel.forRange(50, 1, (a, b) -> { for (int j = a; j < b; j++) hits[base + j]++; });
            }
        });
        for (int h : hits) assertEquals(1, h);
    }

    @Test
    void callsFromSeveralThreadsAtOnceAllComplete() throws Exception {
        int callers = 3;
        CountDownLatch go = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < callers; t++) {
            Thread th = new Thread(() -> {
                try {
                    go.await();
                    for (int call = 0; call < 300; call++) {
                        long[] sum = new long[1];
                        Parallel.forRange(1000, 1, (s, e) -> {
                            long local = 0;
                            for (int i = s; i < e; i++) local += i;
                            synchronized (sum) { sum[0] += local; }
                        });
                        assertEquals(999L * 1000 / 2, sum[0]);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            ts.add(th);
            th.start();
        }
        go.countDown();
        for (Thread th : ts) th.join(60_000);
        if (failure.get() != null) throw new AssertionError(failure.get());
    }

    @Test
    void workersThatParkedWakeForTheNextCall() throws Exception {
        Thread.sleep((Parallel.SPIN_NANOS / 1_000_000) * 3 + 20);   // past the spin: workers are parked
        ConcurrentHashMap<Thread, Boolean> seen = new ConcurrentHashMap<>();
        CountDownLatch all = new CountDownLatch(4);
        // each chunk waits until all four run at once: only possible if the parked workers woke up
        Parallel.forRange(4, 1, (s, e) -> {
            seen.put(Thread.currentThread(), true);
            all.countDown();
            try {
                assertTrue(all.await(30, java.util.concurrent.TimeUnit.SECONDS), "the workers did not wake");
            } catch (InterruptedException ex) {
                throw new IllegalStateException(ex);
            }
        });
        assertEquals(4, seen.size());
    }

    @Test
    void setThreadsChangesTheChunkCount() {
        Parallel.setThreads(3);
        assertEquals(3, Parallel.threads());
        AtomicInteger chunks = new AtomicInteger();
        Parallel.forRange(30, 1, (s, e) -> chunks.incrementAndGet());
        assertEquals(3, chunks.get());
        Parallel.setThreads(1);
        Thread caller = Thread.currentThread();
        AtomicReference<Thread> ran = new AtomicReference<>();
        Parallel.forRange(30, 1, (s, e) -> ran.set(Thread.currentThread()));
        assertSame(caller, ran.get());
    }
}
