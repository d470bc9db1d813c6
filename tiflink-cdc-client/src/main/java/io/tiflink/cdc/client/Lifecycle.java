package io.tiflink.cdc.client;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Whether a subscription is over: closed by its consumer, or failed for good. Ending it stops its
 * periodic tasks and streams, and wakes the consumer.
 *
 * <p>Guarded by the subscription's lock, which every method takes: they are called from gRPC
 * threads, the scheduler and the consumer.
 */
final class Lifecycle {
    private static final Logger LOG = LoggerFactory.getLogger(Lifecycle.class);

    private final ReentrantLock lock;
    private final Condition readyOrFailed;
    private final ActiveFeeds feeds;

    /** The subscription's periodic tasks, cancelled when it ends. */
    private final List<Future<?>> periodic = new ArrayList<>();

    private CdcException failure;
    private boolean closed;

    Lifecycle(ReentrantLock lock, Condition readyOrFailed, ActiveFeeds feeds) {
        this.lock = lock;
        this.readyOrFailed = readyOrFailed;
        this.feeds = feeds;
    }

    boolean isOver() {
        lock.lock();
        try {
            return closed || failure != null;
        } finally {
            lock.unlock();
        }
    }

    /** Cancels {@code task} when the subscription ends (at once if it has). */
    void cancelOnEnd(Future<?> task) {
        lock.lock();
        try {
            if (closed || failure != null) {
                task.cancel(false);
            } else {
                periodic.add(task);
            }
        } finally {
            lock.unlock();
        }
    }

    /** For the consumer: throws the failure, or that the stream is closed, if it is over. */
    void throwIfOver() {
        lock.lock();
        try {
            if (failure != null) {
                throw failure;
            }
            if (closed) {
                throw new IllegalStateException("the change stream is closed");
            }
        } finally {
            lock.unlock();
        }
    }

    void fail(CdcException e) {
        lock.lock();
        try {
            if (failure != null || closed) {
                return;
            }
            // The consumer gets the error (with its stack) from its next poll, and reports it:
            // one line here, not a second stack.
            LOG.info("CDC subscription failed: {}", e.getMessage());
            failure = e;
            end("subscription failed");
        } finally {
            lock.unlock();
        }
    }

    /** Closes the subscription; false if it was already closed. */
    boolean close() {
        lock.lock();
        try {
            if (closed) {
                return false;
            }
            closed = true;
            end("subscription closed");
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void end(String reason) {
        periodic.forEach(f -> f.cancel(false));
        feeds.cancelStreams(reason);
        readyOrFailed.signalAll();
    }
}
