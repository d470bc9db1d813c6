package io.tiflink.cdc.client;

import io.tiflink.tikv.Keys;
import io.tiflink.tikv.Sessions;

import org.tikv.common.TiSession;
import org.tikv.kvproto.Cdcpb;
import org.tikv.kvproto.Errorpb;
import org.tikv.shade.com.google.protobuf.TextFormat;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Handles what a subscription's store streams bring: its feeds' changes, resolved ts and errors,
 * and streams breaking. A feed that fails is dropped and its keys registered again.
 *
 * <p>Exactly-once rule (2) is enforced here: a feed starts at the lowest frontier ts of its parts
 * ({@link RegionRegistrar}), and a change it delivers at or below the frontier ts of its key is one
 * already taken, so it is dropped.
 *
 * <p>Runs on gRPC threads, under the subscription's lock.
 */
final class FeedEventHandler implements StoreStream.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(FeedEventHandler.class);

    private final TiSession session;
    private final ReentrantLock lock;
    private final SpanFrontier frontier;
    private final Sorter sorter;
    private final ActiveFeeds feeds;
    private final ChangeBuffer buffer;
    private final Lifecycle lifecycle;
    private final RegionRegistrar registrar;
    private final SubscriptionCounters counters;
    private final LogLimiter streamBreaks = new LogLimiter();

    FeedEventHandler(
            TiSession session,
            ReentrantLock lock,
            SpanFrontier frontier,
            Sorter sorter,
            ActiveFeeds feeds,
            ChangeBuffer buffer,
            Lifecycle lifecycle,
            RegionRegistrar registrar,
            SubscriptionCounters counters) {
        this.session = session;
        this.lock = lock;
        this.frontier = frontier;
        this.sorter = sorter;
        this.feeds = feeds;
        this.buffer = buffer;
        this.lifecycle = lifecycle;
        this.registrar = registrar;
        this.counters = counters;
    }

    @Override
    public void onEvent(StoreStream stream, Cdcpb.ChangeDataEvent event) {
        lock.lock();
        try {
            if (stream.closed || lifecycle.isOver()) {
                return;
            }
            for (Cdcpb.Event e : event.getEventsList()) {
                RegionFeed feed = feeds.byRequest(e.getRequestId());
                if (feed == null || feed.stream != stream || feed.regionId() != e.getRegionId()) {
                    continue; // a feed that failed or was replaced
                }
                switch (e.getEventCase()) {
                    case ENTRIES:
                        feed.contacted = true;
                        for (Cdcpb.Event.Row row : e.getEntries().getEntriesList()) {
                            if (!onRow(feed, row)) {
                                break;
                            }
                        }
                        break;
                    case ERROR:
                        onRegionError(feed, e.getError());
                        break;
                    case RESOLVED_TS:
                        onResolved(feed, e.getResolvedTs());
                        break;
                    default:
                        break; // admin and long-txn events carry nothing we need
                }
                if (lifecycle.isOver() || stream.closed) {
                    return;
                }
            }
            if (event.hasResolvedTs()) {
                long ts = event.getResolvedTs().getTs();
                for (long regionId : event.getResolvedTs().getRegionsList()) {
                    RegionFeed feed = stream.feeds.get(regionId);
                    if (feed != null) {
                        onResolved(feed, ts);
                    }
                }
            }
            buffer.release();
            if (buffer.overQuota() && buffer.hasReady()) {
                stream.paused = true; // the consumer will free memory
            } else {
                stream.requestNext();
                buffer.relieve();
            }
        } catch (RuntimeException e) {
            lifecycle.fail(new CdcException("CDC subscription failed handling " + stream, e));
        } finally {
            lock.unlock();
        }
    }

    /** Handles one row; returns false if the feed is gone. */
    private boolean onRow(RegionFeed feed, Cdcpb.Event.Row row) {
        byte[] key;
        switch (row.getType()) {
            case INITIALIZED:
                feed.initialized = true;
                long before = feed.matcher.bytes();
                for (Cdcpb.Event.Row[] pair : feed.matcher.matchHeldCommits()) {
                    accept(feed, KeyChange.of(pair[0], pair[1]));
                }
                feeds.addBytes(feed.matcher.bytes() - before);
                return true;
            case PREWRITE:
                key = row.getKey().toByteArray();
                if (feed.covers(key)) {
                    long b = feed.matcher.bytes();
                    feed.matcher.putPrewrite(row);
                    feeds.addBytes(feed.matcher.bytes() - b);
                }
                return true;
            case COMMIT:
                if (!feed.covers(row.getKey().toByteArray())) {
                    return true; // its PREWRITE was not kept either
                }
                if (row.getCommitTs() <= feed.resolvedTs) {
                    throw new IllegalStateException(
                            "TiKV sent a commit at "
                                    + row.getCommitTs()
                                    + " after resolving "
                                    + feed
                                    + " to "
                                    + feed.resolvedTs);
                }
                long b = feed.matcher.bytes();
                Cdcpb.Event.Row prewrite = feed.matcher.matchCommit(row, feed.initialized);
                if (prewrite == null && !feed.initialized) {
                    feed.matcher.holdCommit(row);
                }
                feeds.addBytes(feed.matcher.bytes() - b);
                if (prewrite != null) {
                    accept(feed, KeyChange.of(row, prewrite));
                } else if (feed.initialized) {
                    // Without its PREWRITE the change cannot be told; read the region again.
                    LOG.warn(
                            "commit of {} at {} without its prewrite on {}; re-registering",
                            Keys.hex(row.getKey().toByteArray()),
                            row.getCommitTs(),
                            feed);
                    resetStream(feed.stream, "commit without prewrite");
                    return false;
                }
                return true;
            case COMMITTED:
                key = row.getKey().toByteArray();
                if (feed.covers(key)) {
                    accept(feed, KeyChange.committed(row));
                }
                return true;
            case ROLLBACK:
                long rb = feed.matcher.bytes();
                feed.matcher.rollback(row);
                feeds.addBytes(feed.matcher.bytes() - rb);
                return true;
            default:
                return true;
        }
    }

    /** Takes a change unless it is one already taken (rule 2). */
    private void accept(RegionFeed feed, KeyChange change) {
        if (change.commitTs() <= frontier.tsAt(change.key())) {
            return;
        }
        feed.unsealed.add(change);
        feed.unsealedBytes += change.sizeBytes();
        feeds.addBytes(change.sizeBytes());
    }

    private void onResolved(RegionFeed feed, long ts) {
        feed.contacted = true;
        if (!feed.initialized || ts <= feed.resolvedTs) {
            return;
        }
        feed.resolvedTs = ts;
        long before = feed.unsealedBytes;
        List<KeyChange> sealed = feed.seal(ts);
        feeds.addBytes(feed.unsealedBytes - before);
        sorter.add(sealed);
        for (KeyRange p : feed.pieces) {
            frontier.advance(p, ts);
        }
    }

    private void onRegionError(RegionFeed feed, Cdcpb.Error error) {
        LOG.debug("{} stopped: {}", feed, error);
        if (error.hasCompatibility() || error.hasClusterIdMismatch()) {
            lifecycle.fail(
                    new CdcException("TiKV store " + feed.storeId + " refused the feed: " + error));
            return;
        }
        feeds.drop(feed);
        String cause =
                "region "
                        + feed.regionId()
                        + " on store "
                        + feed.storeId
                        + ": "
                        + TextFormat.shortDebugString(error);
        if (error.hasDuplicateRequest()) {
            // TiKV still has the region on this stream; only a new stream clears it.
            resetStream(feed.stream, "duplicate request for region " + feed.regionId());
            return;
        }
        if (error.hasNotLeader() && error.getNotLeader().hasLeader()) {
            Errorpb.NotLeader notLeader = error.getNotLeader();
            if (session.getRegionManager()
                            .updateLeader(feed.region, notLeader.getLeader().getStoreId())
                    == null) {
                session.getRegionManager().invalidateRegion(feed.region);
            }
            registrar.register(feed.pieces, nextRetry(feed, cause, false));
            return;
        }
        session.getRegionManager().invalidateRegion(feed.region);
        registrar.register(feed.pieces, nextRetry(feed, cause, false));
    }

    @Override
    public void onBroken(StoreStream stream, Throwable cause) {
        lock.lock();
        try {
            if (feeds.stream(stream.storeId) != stream) {
                return; // cancelled by us
            }
            String why =
                    stream
                            + " broke: "
                            + (cause == null ? "completed by TiKV" : Sessions.rootMessage(cause));
            long leftOut = streamBreaks.failed();
            if (leftOut >= 0) {
                LOG.info(
                        "{}; re-registering its {} regions ({} more breaks since the last report;"
                                + " reporting at most every {} s)",
                        why,
                        stream.feeds.size(),
                        leftOut,
                        LogLimiter.INTERVAL.getSeconds());
            } else {
                LOG.debug("{}; re-registering its {} regions", why, stream.feeds.size());
            }
            stream.closed = true;
            counters.streamReconnects.incrementAndGet();
            feeds.removeStream(stream);
            session.getRegionManager().invalidateStore(stream.storeId);
            for (RegionFeed feed : new ArrayList<>(stream.feeds.values())) {
                feeds.drop(feed);
                session.getRegionManager().invalidateRegion(feed.region);
                registrar.register(feed.pieces, nextRetry(feed, why, true));
            }
            buffer.relieve();
        } finally {
            lock.unlock();
        }
    }

    /** Cancels a stream and registers its regions again on a new one. */
    private void resetStream(StoreStream stream, String reason) {
        counters.streamReconnects.incrementAndGet();
        for (RegionFeed feed : feeds.cancel(stream, reason)) {
            registrar.register(feed.pieces, nextRetry(feed, stream + " reset: " + reason, true));
        }
    }

    /**
     * The registration after a feed failed for {@code cause}. A feed that got as far as INITIALIZED
     * failed for a routine reason (a split, a merge, a leader move): its successor is registered at
     * once (unless {@code backOff}, for a broken stream). Failures in a row back off. A feed TiKV
     * served starts the clock of the keys' outage again; one it never served keeps it going.
     */
    private static Retry nextRetry(RegionFeed feed, String cause, boolean backOff) {
        int attempt = (feed.initialized ? 0 : feed.retry.attempt + 1) + (backOff ? 1 : 0);
        long since = feed.contacted ? System.nanoTime() : feed.retry.unservedSinceNanos;
        return new Retry(attempt, since, cause);
    }
}
