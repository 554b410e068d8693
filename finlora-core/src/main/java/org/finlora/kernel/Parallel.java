package org.finlora.kernel;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * The one parallel-for of the engine: a small fixed pool (default: available processors, or
 * {@code -Dfinlora.threads=N}); each task gets one contiguous chunk of the index range.
 */
public final class Parallel {
    private static volatile ForkJoinPool pool = newPool(defaultThreads());

    private Parallel() {
    }

    public interface RangeBody {
        void run(int start, int end);
    }

    static int defaultThreads() {
        String s = System.getProperty("finlora.threads");
        if (s != null && !s.isBlank()) return Math.max(1, Integer.parseInt(s.trim()));
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    private static ForkJoinPool newPool(int n) {
        return new ForkJoinPool(n, p -> {
            var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            t.setName("finlora-" + t.getPoolIndex());
            t.setDaemon(true);
            return t;
        }, null, false);
    }

    public static int threads() {
        return pool.getParallelism();
    }

    /** Replaces the pool (e.g. from a --threads flag). */
    public static synchronized void setThreads(int n) {
        if (n == threads()) return;
        ForkJoinPool old = pool;
        pool = newPool(Math.max(1, n));
        old.shutdown();
    }

    /**
     * Multiply-adds below which a task is not worth handing to another thread: waking a parked worker
     * and joining it costs tens of microseconds, as long as this much work on one core.
     */
    static final long MIN_TASK_WORK = 1L << 17;

    /** The chunk (in indices of workPerIndex multiply-adds each) worth a task, and at least floor. */
    public static int minChunk(int floor, long workPerIndex) {
        long n = (MIN_TASK_WORK + Math.max(1, workPerIndex) - 1) / Math.max(1, workPerIndex);
        return (int) Math.max(floor, Math.min(Integer.MAX_VALUE, n));
    }

    /** Runs body over [0, n) split into at most threads() contiguous chunks of at least minChunk. */
    public static void forRange(int n, int minChunk, RangeBody body) {
        int chunks = Math.min(threads(), Math.max(1, n / Math.max(1, minChunk)));
        if (chunks <= 1 || n <= 1) {
            body.run(0, n);
            return;
        }
        RecursiveAction[] tasks = new RecursiveAction[chunks];
        for (int c = 0; c < chunks; c++) {
            int start = (int) ((long) n * c / chunks);
            int end = (int) ((long) n * (c + 1) / chunks);
            tasks[c] = new RecursiveAction() {
                @Override
                protected void compute() {
                    body.run(start, end);
                }
            };
        }
        if (ForkJoinPool.commonPool() != null && Thread.currentThread() instanceof java.util.concurrent.ForkJoinWorkerThread w
                && w.getPool() == pool) {
            RecursiveAction.invokeAll(tasks);   // nested call: run inside the pool
        } else {
            pool.invoke(new RecursiveAction() {
                @Override
                protected void compute() {
                    invokeAll(tasks);
                }
            });
        }
    }

    public static void forRange(int n, RangeBody body) {
        forRange(n, 1, body);
    }
}
