package io.tiflink.cdc.client;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The feeds of a subscription that are registered and not yet dropped, the store streams they are
 * on, and the bytes they hold (unsealed changes and matcher state), which whoever changes a feed
 * keeps up to date here.
 *
 * <p>Exactly-once rule (3) is enforced here: a feed that fails loses the changes it delivered above
 * its own resolved ts (its replacement reads them again), while those at or below it are kept
 * ("sealed").
 *
 * <p>Not thread-safe: every call is made under the subscription's lock.
 */
final class ActiveFeeds {
    private final Sorter sorter;

    private final Map<Long, RegionFeed> byRequest = new HashMap<>();

    /** The pieces of active feeds by start key; they never overlap (rule 1, RegionRegistrar). */
    private final TreeMap<byte[], Piece> pieces = new TreeMap<>(Arrays::compareUnsigned);

    private final Map<Long, StoreStream> streams = new HashMap<>();

    private long bytes;

    private static final class Piece {
        final KeyRange range;
        final RegionFeed feed;

        Piece(KeyRange range, RegionFeed feed) {
            this.range = range;
            this.feed = feed;
        }
    }

    ActiveFeeds(Sorter sorter) {
        this.sorter = sorter;
    }

    RegionFeed byRequest(long requestId) {
        return byRequest.get(requestId);
    }

    Collection<RegionFeed> all() {
        return byRequest.values();
    }

    void add(RegionFeed feed) {
        byRequest.put(feed.requestId, feed);
        feed.stream.feeds.put(feed.regionId(), feed);
        for (KeyRange p : feed.pieces) {
            pieces.put(p.start(), new Piece(p, feed));
        }
    }

    /** An active feed with a piece overlapping {@code range}, or null. */
    RegionFeed overlapping(KeyRange range) {
        Map.Entry<byte[], Piece> before = pieces.floorEntry(range.start());
        if (before != null && before.getValue().range.intersect(range) != null) {
            return before.getValue().feed;
        }
        Map.Entry<byte[], Piece> after = pieces.higherEntry(range.start());
        return after != null && range.contains(after.getKey()) ? after.getValue().feed : null;
    }

    /** Forgets a failed feed and what it held above its resolved ts (rule 3). */
    void drop(RegionFeed feed) {
        byRequest.remove(feed.requestId);
        feed.stream.feeds.remove(feed.regionId(), feed);
        for (KeyRange p : feed.pieces) {
            Piece piece = pieces.get(p.start());
            if (piece != null && piece.feed == feed) {
                pieces.remove(p.start());
            }
        }
        bytes -= feed.bytes();
        feed.unsealed.clear();
        if (feed.spilled) {
            sorter.feedFailed(feed.requestId, feed.resolvedTs);
        }
    }

    /** The open stream to a store, or null. */
    StoreStream stream(long storeId) {
        return streams.get(storeId);
    }

    void addStream(StoreStream stream) {
        streams.put(stream.storeId, stream);
    }

    void removeStream(StoreStream stream) {
        streams.remove(stream.storeId, stream);
    }

    /**
     * Cancels a stream and drops its feeds.
     *
     * @return the feeds dropped
     */
    List<RegionFeed> cancel(StoreStream stream, String reason) {
        removeStream(stream);
        stream.cancel(reason);
        List<RegionFeed> dropped = new ArrayList<>(stream.feeds.values());
        dropped.forEach(this::drop);
        return dropped;
    }

    void cancelStreams(String reason) {
        for (StoreStream s : new ArrayList<>(streams.values())) {
            cancel(s, reason);
        }
    }

    /** Asks the streams that were held back for their next message. */
    void resumePaused() {
        for (StoreStream s : streams.values()) {
            if (s.paused) {
                s.paused = false;
                s.requestNext();
            }
        }
    }

    /** Bytes held by the active feeds. */
    long bytes() {
        return bytes;
    }

    void addBytes(long delta) {
        bytes += delta;
    }
}
