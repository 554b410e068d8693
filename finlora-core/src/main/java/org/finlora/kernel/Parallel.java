package org.finlora.kernel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one parallel-for of the engine: a small fixed set of threads (default: available processors,
 * or {@code -Dfinlora.threads=N}); the calling thread is one of them. A call cuts [0, n) into at most
 * threads() contiguous chunks, fixed by n and the chunk size alone, so which thread runs a chunk never
 * changes a result.
 *
 * <p>Why not a ForkJoinPool: decode and small prefills issue a parallel loop every 50–500 µs, and
 * waking a parked worker costs tens of microseconds on a VM (measured: two 54 µs chunks took 87–104 µs
 * through the pool, about serial). Here the caller runs chunks itself, workers claim the rest from a
 * shared counter, and an idle worker spins (yielding now and then) for {@link #SPIN_NANOS} before it parks, so back-to-back
 * calls find it awake; a chunk nobody has claimed yet is run by whoever gets to it first.
 */
public final class Parallel {
    public interface RangeBody {
        void run(int start, int end);
    }

    /** How long an idle worker polls for the next call before parking (it costs a core meanwhile). */
    static final long SPIN_NANOS = 1_000_000L;

    /**
     * Multiply-adds below which a task is not worth handing to another thread: waking a parked worker
     * and joining it costs tens of microseconds, as long as this much work on one core.
     */
    static final long MIN_TASK_WORK = 1L << 17;

    private static volatile Crew crew = new Crew(defaultThreads());

    /** True on a crew thread (or a caller) while it runs a chunk: nested calls run inline. */
    private static final ThreadLocal<boolean[]> IN_CALL = ThreadLocal.withInitial(() -> new boolean[1]);

    private Parallel() {
    }

    static int defaultThreads() {
        String s = System.getProperty("finlora.threads");
        if (s != null && !s.isBlank()) return Math.max(1, Integer.parseInt(s.trim()));
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    public static int threads() {
        return crew.threads;
    }

    /** Replaces the thread set (e.g. from a --threads flag). */
    public static synchronized void setThreads(int n) {
        n = Math.max(1, n);
        if (n == threads()) return;
        Crew old = crew;
        crew = new Crew(n);
        old.shutdown();
    }

    /** The chunk (in indices of workPerIndex multiply-adds each) worth a task, and at least floor. */
    public static int minChunk(int floor, long workPerIndex) {
        long n = (MIN_TASK_WORK + Math.max(1, workPerIndex) - 1) / Math.max(1, workPerIndex);
        return (int) Math.max(floor, Math.min(Integer.MAX_VALUE, n));
    }

    /** Runs body over [0, n) split into at most threads() contiguous chunks of at least minChunk. */
    public static void forRange(int n, int minChunk, RangeBody body) {
        Crew c = crew;
        int chunks = Math.min(c.threads, Math.max(1, n / Math.max(1, minChunk)));
        if (chunks <= 1 || n <= 1) {
            body.run(0, n);
            return;
        }
        boolean[] inCall = IN_CALL.get();
        if (inCall[0] || !c.lock.tryLock()) {
            // nested in a chunk, or another thread owns the crew: the same chunks, one after another
            for (int k = 0; k < chunks; k++) body.run(chunkStart(n, chunks, k), chunkStart(n, chunks, k + 1));
            return;
        }
        try {
            c.run(n, chunks, body, inCall);
        } finally {
            c.lock.unlock();
        }
    }

    public static void forRange(int n, RangeBody body) {
        forRange(n, 1, body);
    }

    /**
     * One step of a busy wait: a spin hint, and every 64th step a yield, so that on a machine with
     * more runnable threads than cores the thread being waited for gets the core.
     */
    static void pause(int spins) {
        if ((spins & 63) == 63) Thread.yield();
        else Thread.onSpinWait();
    }

    static int chunkStart(int n, int chunks, int k) {
        return (int) ((long) n * k / chunks);
    }

    /** One call: its body and chunks, and the counters its threads claim and finish chunks with. */
    private static final class Job {
        final RangeBody body;
        final int n, chunks;
        final AtomicInteger nextChunk = new AtomicInteger();
        final AtomicInteger doneChunks = new AtomicInteger();
        volatile Throwable failure;

        Job(RangeBody body, int n, int chunks) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
        }

        /** Claims and runs chunks until none is left (a thread late for an old job finds it exhausted). */
        void runChunks() {
            for (int k; (k = nextChunk.getAndIncrement()) < chunks; ) {
                try {
                    if (failure == null) body.run(chunkStart(n, chunks, k), chunkStart(n, chunks, k + 1));
                } catch (Throwable t) {
                    if (failure == null) failure = t;
                } finally {
                    doneChunks.incrementAndGet();
                }
            }
        }
    }

    /** threads - 1 daemon workers plus whichever thread calls; one call at a time (the lock). */
    private static final class Crew {
        final int threads;
        final ReentrantLock lock = new ReentrantLock();
        final Thread[] workers;
        /** The latest call; workers wait for it to change. */
        volatile Job job;
        volatile boolean stopped;
        /** Workers that went to sleep and need an unpark to see the next call. */
        final AtomicInteger parked = new AtomicInteger();

        Crew(int threads) {
            this.threads = threads;
            workers = new Thread[threads - 1];
            for (int i = 0; i < workers.length; i++) {
                Thread t = new Thread(this::workerLoop, "finlora-" + (i + 1));
                t.setDaemon(true);
                workers[i] = t;
                t.start();
            }
        }

        void run(int n, int chunks, RangeBody body, boolean[] inCall) {
            Job j = new Job(body, n, chunks);
            job = j;
            if (parked.get() > 0) for (Thread w : workers) LockSupport.unpark(w);
            inCall[0] = true;
            try {
                j.runChunks();
            } finally {
                inCall[0] = false;
            }
            for (int spins = 0; j.doneChunks.get() < chunks; spins++) pause(spins);
            Throwable f = j.failure;
            if (f instanceof RuntimeException e) throw e;
            if (f instanceof Error e) throw e;
            if (f != null) throw new IllegalStateException(f);
        }

        private void workerLoop() {
            boolean[] inCall = IN_CALL.get();
            Job seen = job;
            while (!stopped) {
                Job j = job;
                if (j != seen) {
                    seen = j;
                    inCall[0] = true;
                    j.runChunks();
                    inCall[0] = false;
                    continue;
                }
                long spinUntil = System.nanoTime() + SPIN_NANOS;
                for (int spins = 0; job == seen && !stopped && System.nanoTime() < spinUntil; spins++) pause(spins);
                if (job == seen && !stopped) {
                    parked.incrementAndGet();
                    // re-check after announcing: a caller that published before seeing parked > 0 did not unpark
                    if (job == seen && !stopped) LockSupport.park(this);
                    parked.decrementAndGet();
                }
            }
        }

        void shutdown() {
            stopped = true;
            for (Thread w : workers) LockSupport.unpark(w);
        }
    }
}
