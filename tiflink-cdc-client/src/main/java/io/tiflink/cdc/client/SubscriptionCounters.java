package io.tiflink.cdc.client;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts of what a subscription went through, for its consumer's metrics ({@link ChangeStream}).
 * Incremented on gRPC and scheduler threads, read by any.
 */
final class SubscriptionCounters {
    /** Store streams that broke or were cancelled, their regions registered on new ones. */
    final AtomicLong streamReconnects = new AtomicLong();

    /** Stale locks whose transactions were settled (committed or rolled back). */
    final AtomicLong staleLocksResolved = new AtomicLong();
}
