package io.tiflink.cdc.client;

import org.tikv.common.TiSession;
import org.tikv.kvproto.Cdcpb;
import org.tikv.kvproto.Errorpb;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * One subscription: its key ranges covered by region feeds on per-store streams, a frontier of
 * their resolved ts, and the changes waiting for the frontier to pass them.
 *
 * <p>Exactly once, through any number of re-registrations, rests on three rules. (1), at most one
 * feed covering a key, is enforced by {@link RegionRegistrar}. (2) A feed starts at the lowest
 * frontier ts of its parts ({@link RegionRegistrar}), and a change it delivers at or below the
 * frontier ts of its key is one already taken, so it is dropped. (3), what a failed feed loses, is
 * enforced by {@link ActiveFeeds}.
 *
 * <p>State is guarded by {@link #lock}; gRPC threads deliver events, a scheduler looks regions up
 * and registers them, the consumer polls.
 */
final class Subscription implements ChangeStream, StoreStream.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(Subscription.class);

    private final TiSession session;
    private final Consumer<Subscription> onClose;
    private final List<KeyRange> ranges;
    private final long startTs;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition readyOrFailed = lock.newCondition();

    private final SpanFrontier frontier;
    private final ActiveFeeds feeds;
    private final Lifecycle lifecycle;

    private final Sorter sorter;
    private final ChangeBuffer buffer;
    private final RegionRegistrar registrar;
    private final GcAndLockKeeper keeper;

    private volatile long consumedResolvedTs;

    Subscription(
            TiSession session,
            CdcClientConfig config,
            ScheduledExecutorService scheduler,
            List<KeyRange> ranges,
            long startTs,
            Consumer<Subscription> onClose) {
        this.session = session;
        this.onClose = onClose;
        this.ranges = KeyRange.normalize(ranges);
        this.startTs = startTs;
        this.frontier = new SpanFrontier(this.ranges, startTs);
        this.sorter = new Sorter(config.spillDirectory());
        this.feeds = new ActiveFeeds(sorter);
        this.lifecycle = new Lifecycle(lock, readyOrFailed, feeds);
        this.buffer =
                new ChangeBuffer(
                        config, frontier, sorter, feeds, lifecycle, readyOrFailed, startTs);
        this.consumedResolvedTs = startTs;
        this.registrar =
                new RegionRegistrar(
                        session,
                        config,
                        scheduler,
                        lock,
                        this.ranges,
                        frontier,
                        feeds,
                        buffer,
                        lifecycle,
                        this);
        this.keeper =
                new GcAndLockKeeper(
                        session, config, scheduler, lock, feeds, lifecycle, this::resolvedTs);
    }

    /** Checks the start ts against GC, holds the safe point, and starts registering regions. */
    void start() {
        keeper.start(startTs);
        registrar.register(ranges, 0);
        LOG.info("CDC subscription of {} ranges from ts {} started", ranges.size(), startTs);
    }

    // ---- consumer side ----

    @Override
    public ChangeEvent poll(Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock.lock();
        try {
            while (!buffer.hasReady()) {
                lifecycle.throwIfOver();
                if (nanos <= 0) {
                    return null;
                }
                nanos = readyOrFailed.awaitNanos(nanos);
            }
            ChangeEvent e = buffer.take();
            if (e.isResolved()) {
                consumedResolvedTs = e.resolvedTs();
            }
            buffer.relieve();
            return e;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long resolvedTs() {
        return consumedResolvedTs;
    }

    @Override
    public long bufferedBytes() {
        lock.lock();
        try {
            return buffer.heldBytes();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (!lifecycle.close()) {
                return;
            }
            buffer.close();
        } finally {
            lock.unlock();
        }
        keeper.releaseGcSafePoint();
        onClose.accept(this);
        LOG.info("CDC subscription closed at resolved ts {}", consumedResolvedTs);
    }

    @Override
    public long spilledBytes() {
        lock.lock();
        try {
            return sorter.spilledBytes();
        } finally {
            lock.unlock();
        }
    }

    /** Sorted runs written to disk so far. */
    int spills() {
        lock.lock();
        try {
            return sorter.runCount();
        } finally {
            lock.unlock();
        }
    }

    // ---- events (gRPC threads) ----

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
                    accept(feed, RowChange.of(pair[0], pair[1]));
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
                    accept(feed, RowChange.of(row, prewrite));
                } else if (feed.initialized) {
                    // Without its PREWRITE the change cannot be told; read the region again.
                    LOG.warn(
                            "commit of {} at {} without its prewrite on {}; re-registering",
                            KeyRange.hex(row.getKey().toByteArray()),
                            row.getCommitTs(),
                            feed);
                    resetStream(feed.stream, "commit without prewrite");
                    return false;
                }
                return true;
            case COMMITTED:
                key = row.getKey().toByteArray();
                if (feed.covers(key)) {
                    accept(feed, RowChange.committed(row));
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
    private void accept(RegionFeed feed, RowChange change) {
        if (change.commitTs() <= frontier.tsAt(change.key())) {
            return;
        }
        feed.unsealed.add(change);
        feed.unsealedBytes += change.sizeBytes();
        feeds.addBytes(change.sizeBytes());
    }

    private void onResolved(RegionFeed feed, long ts) {
        if (!feed.initialized || ts <= feed.resolvedTs) {
            return;
        }
        feed.resolvedTs = ts;
        long before = feed.unsealedBytes;
        List<RowChange> sealed = feed.seal(ts);
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
            registrar.register(feed.pieces, nextAttempt(feed));
            return;
        }
        session.getRegionManager().invalidateRegion(feed.region);
        registrar.register(feed.pieces, nextAttempt(feed));
    }

    @Override
    public void onBroken(StoreStream stream, Throwable cause) {
        lock.lock();
        try {
            if (feeds.stream(stream.storeId) != stream) {
                return; // cancelled by us
            }
            LOG.info(
                    "{} broke ({}); re-registering its {} regions",
                    stream,
                    cause == null ? "completed by TiKV" : cause.toString(),
                    stream.feeds.size());
            stream.closed = true;
            feeds.removeStream(stream);
            session.getRegionManager().invalidateStore(stream.storeId);
            for (RegionFeed feed : new ArrayList<>(stream.feeds.values())) {
                feeds.drop(feed);
                session.getRegionManager().invalidateRegion(feed.region);
                registrar.register(feed.pieces, nextAttempt(feed) + 1);
            }
            buffer.relieve();
        } finally {
            lock.unlock();
        }
    }

    /** Cancels a stream and registers its regions again on a new one. */
    private void resetStream(StoreStream stream, String reason) {
        for (RegionFeed feed : feeds.cancel(stream, reason)) {
            registrar.register(feed.pieces, nextAttempt(feed) + 1);
        }
    }

    /**
     * A feed that got as far as INITIALIZED failed for a routine reason (a split, a merge, a leader
     * move): its successor is registered at once. Failures in a row back off.
     */
    private static int nextAttempt(RegionFeed feed) {
        return feed.initialized ? 0 : feed.attempt + 1;
    }
}
