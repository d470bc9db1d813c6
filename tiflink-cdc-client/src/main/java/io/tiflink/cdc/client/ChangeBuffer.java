package io.tiflink.cdc.client;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.Condition;

/**
 * What a subscription holds for its consumer, within its memory quota: sealed changes in the sorter
 * until the frontier passes them, then the ready queue the consumer takes from. When the quota is
 * full, streams stay paused while the consumer can free memory, and changes go to disk when it
 * cannot.
 *
 * <p>Not thread-safe: called under the subscription's lock from gRPC threads and the consumer (the
 * registrar also reads {@link #overQuota} without it, to hold back new registrations).
 */
final class ChangeBuffer {
    private static final Logger LOG = LoggerFactory.getLogger(ChangeBuffer.class);

    private final CdcClientConfig config;
    private final SpanFrontier frontier;
    private final ActiveFeeds feeds;
    private final Lifecycle lifecycle;
    private final Condition readyOrFailed;

    /** Changes at or below their feed's resolved ts, above the emitted resolved ts. */
    private final Sorter sorter;

    /** What the consumer can take, in order. */
    private final ArrayDeque<ChangeEvent> ready = new ArrayDeque<>();

    private long readyBytes;
    private int readyChanges;
    private long emittedResolvedTs;
    private long spilledAtResolvedTs;

    ChangeBuffer(
            CdcClientConfig config,
            SpanFrontier frontier,
            Sorter sorter,
            ActiveFeeds feeds,
            Lifecycle lifecycle,
            Condition readyOrFailed,
            long startTs) {
        this.config = config;
        this.frontier = frontier;
        this.sorter = sorter;
        this.feeds = feeds;
        this.lifecycle = lifecycle;
        this.readyOrFailed = readyOrFailed;
        this.emittedResolvedTs = startTs;
    }

    boolean hasReady() {
        return !ready.isEmpty();
    }

    /** The consumer's next event; there must be one ready. */
    ChangeEvent take() {
        ChangeEvent e = ready.poll();
        if (!e.isResolved()) {
            readyBytes -= e.change().sizeBytes();
            readyChanges--;
        }
        return e;
    }

    /**
     * Moves the changes at or below the frontier to the consumer, then the new resolved ts. From
     * disk, only as much as the consumer's share of the quota holds; the rest follows as it polls.
     */
    void release() {
        long resolved = frontier.min();
        if (resolved <= emittedResolvedTs) {
            return;
        }
        KeyChange c;
        while (readyBytes < config.memoryQuota() / 2 && (c = sorter.next(resolved)) != null) {
            readyBytes += c.sizeBytes();
            readyChanges++;
            ready.add(ChangeEvent.change(c));
        }
        if (readyBytes < config.memoryQuota() / 2) {
            ready.add(ChangeEvent.resolved(resolved));
            emittedResolvedTs = resolved;
        }
        readyOrFailed.signalAll();
    }

    /** Changes released to the consumer and not yet taken. */
    int readyChanges() {
        return readyChanges;
    }

    long heldBytes() {
        return feeds.bytes() + sorter.memoryBytes() + readyBytes;
    }

    boolean overQuota() {
        return heldBytes() >= config.memoryQuota();
    }

    /**
     * After memory was freed or the frontier moved: releases what it can, then resumes paused
     * streams if there is room. When the quota is full of changes the consumer cannot have yet (the
     * resolved ts is held back, or a catch-up scan is larger than memory), they go to disk.
     */
    void relieve() {
        release();
        if (overQuota()) {
            if (!ready.isEmpty()) {
                return; // the consumer will free memory
            }
            spill();
        }
        feeds.resumePaused();
    }

    private void spill() {
        Map<Long, List<KeyChange>> unsealed = new HashMap<>();
        for (RegionFeed feed : feeds.all()) {
            if (!feed.unsealed.isEmpty()) {
                unsealed.put(feed.requestId, feed.unsealed);
                feed.unsealed = new ArrayList<>();
                feeds.addBytes(-feed.unsealedBytes);
                feed.unsealedBytes = 0;
                feed.spilled = true;
            }
        }
        long before = sorter.spilledBytes();
        boolean first = spilledAtResolvedTs != emittedResolvedTs;
        spilledAtResolvedTs = emittedResolvedTs;
        try {
            sorter.spill(unsealed);
        } catch (UncheckedIOException e) {
            lifecycle.fail(
                    new CdcException(
                            "the change stream cannot spill what does not fit in memory", e));
            return;
        }
        String message =
                "memory quota of {} bytes is full above resolved ts {}: spilled {} bytes to {}";
        Object[] args = {
            config.memoryQuota(),
            emittedResolvedTs,
            sorter.spilledBytes() - before,
            config.spillDirectory()
        };
        if (first) {
            LOG.info(message, args); // once per resolved ts: a long hold-back spills many times
        } else {
            LOG.debug(message, args);
        }
    }

    /** Drops what is held for the consumer, in memory and on disk. */
    void close() {
        sorter.close();
        ready.clear();
    }
}
