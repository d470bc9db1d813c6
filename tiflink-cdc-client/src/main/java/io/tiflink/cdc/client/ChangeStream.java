package io.tiflink.cdc.client;

import java.time.Duration;

/**
 * The changes of a subscription, in the order a consumer can apply them: between two resolved
 * events R1 < R2, every change with commit_ts in (R1, R2], ordered by commit_ts and then by key, so
 * that each transaction arrives whole and each key's changes in commit order; then R2. Every
 * committed change with commit_ts above the start ts is delivered exactly once.
 *
 * <p>A stream is consumed by one thread. A consumer that does not poll slows the subscription down;
 * nothing is dropped.
 */
public interface ChangeStream extends AutoCloseable {
    /**
     * The next event, waiting up to {@code timeout}; null if none came.
     *
     * @throws CdcException if the subscription failed for good (e.g. its start ts is below the GC
     *     safe point)
     */
    ChangeEvent poll(Duration timeout) throws InterruptedException;

    /** The last resolved ts delivered (the start ts before the first). */
    long resolvedTs();

    /**
     * Bytes of changes the subscription holds: received, waiting for their resolved ts or for the
     * consumer. Bounded by the client's memory quota, plus one message per store stream and the
     * values of transactions prewritten but not yet committed.
     */
    long bufferedBytes();

    /**
     * Bytes of changes spilled to disk and not yet delivered: what did not fit in memory while the
     * resolved ts could not move past it.
     */
    long spilledBytes();

    /** Changes ready for the consumer (at or below the resolved ts to come) and not yet polled. */
    int readyChanges();

    /** Regions whose feeds are registered now, across the stores. */
    int subscribedRegions();

    /**
     * Store streams that broke or were reset so far, each one's regions registered again on a new
     * stream (a store restart, a network failure, TiKV refusing a duplicate request).
     */
    long streamReconnects();

    /**
     * Locks that held a lagging region's resolved ts back and were settled so far: their
     * transactions' fates decided (committed or rolled back) by the client's lock resolution. Locks
     * of live transactions, left alone, are not counted.
     */
    long staleLocksResolved();

    /** Stops the subscription and releases its streams. */
    @Override
    void close();
}
