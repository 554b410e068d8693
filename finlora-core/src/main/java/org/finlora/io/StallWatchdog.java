package org.finlora.io;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;

/**
 * An HTTP body stream that gives up when no byte arrives for {@code timeout}: java.net.http only
 * times out until the headers, so a server that stalls mid-body would block a read forever. A
 * virtual thread closes the stream after the quiet period, which wakes the blocked read; the read
 * then fails with a message naming the timeout (HF_HUB_DOWNLOAD_TIMEOUT).
 */
final class StallWatchdog extends FilterInputStream {
    private final long timeoutNanos;
    private final Thread watcher;
    private volatile long lastProgress = System.nanoTime();
    private volatile boolean stalled, done;

    StallWatchdog(InputStream in, Duration timeout) {
        super(in);
        this.timeoutNanos = timeout.toNanos();
        long tick = Math.max(10, Math.min(1000, timeout.toMillis() / 4));
        this.watcher = Thread.ofVirtual().name("hub-read-watchdog").start(() -> {
            while (!done) {
                try {
                    Thread.sleep(tick);
                } catch (InterruptedException e) {
                    return;
                }
                if (!done && System.nanoTime() - lastProgress > timeoutNanos) {
                    stalled = true;
                    try {
                        in.close();
                    } catch (IOException ignored) {
                        // the blocked read reports the stall
                    }
                    return;
                }
            }
        });
    }

    private IOException explain(IOException e) {
        if (!stalled) return e;
        return new IOException("no data from the server for " + timeoutNanos / 1_000_000_000.0 + " s (raise HF_HUB_DOWNLOAD_TIMEOUT)", e);
    }

    @Override
    public int read() throws IOException {
        try {
            int b = super.read();
            lastProgress = System.nanoTime();
            return b;
        } catch (IOException e) {
            throw explain(e);
        }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        try {
            int n = super.read(b, off, len);
            lastProgress = System.nanoTime();
            return n;
        } catch (IOException e) {
            throw explain(e);
        }
    }

    @Override
    public void close() throws IOException {
        done = true;
        watcher.interrupt();
        super.close();
    }
}
