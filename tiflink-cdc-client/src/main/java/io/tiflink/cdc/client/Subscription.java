package io.tiflink.cdc.client;

import io.tiflink.tikv.UnavailableTimeout;

import org.tikv.common.TiSession;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One subscription, as its consumer sees it: its key ranges covered by region feeds on per-store
 * streams, a frontier of their resolved ts, and the changes waiting for the frontier to pass them.
 *
 * <p>Exactly once, through any number of re-registrations, rests on three rules, each stated where
 * it is enforced: {@link RegionRegistrar} (1, and the start of 2), {@link FeedEventHandler} (2),
 * {@link ActiveFeeds} (3).
 *
 * <p>All of its state is guarded by one lock; gRPC threads deliver events ({@link
 * FeedEventHandler}), a scheduler looks regions up and registers them ({@link RegionRegistrar}) and
 * keeps GC and locks in check ({@link GcAndLockKeeper}), the consumer polls here.
 */
final class Subscription implements ChangeStream {
    private static final Logger LOG = LoggerFactory.getLogger(Subscription.class);

    private final Consumer<Subscription> onClose;
    private final List<KeyRange> ranges;
    private final long startTs;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition readyOrFailed = lock.newCondition();

    private final Sorter sorter;
    private final Lifecycle lifecycle;
    private final ChangeBuffer buffer;
    private final RegionRegistrar registrar;
    private final GcAndLockKeeper keeper;
    private final ActiveFeeds feeds;
    private final SubscriptionCounters counters = new SubscriptionCounters();

    private volatile long consumedResolvedTs;

    private final UnavailableTimeout unavailableTimeout;

    /** How often {@link #poll} looks for keys without a working feed. */
    private final long servedCheckNanos;

    private long nextServedCheckNanos = System.nanoTime();

    Subscription(
            TiSession session,
            CdcClientConfig config,
            ScheduledExecutorService scheduler,
            List<KeyRange> ranges,
            long startTs,
            Consumer<Subscription> onClose) {
        this.onClose = onClose;
        this.ranges = KeyRange.normalize(ranges);
        this.startTs = startTs;
        this.consumedResolvedTs = startTs;
        this.unavailableTimeout = config.unavailableTimeout();
        this.servedCheckNanos =
                Math.max(
                        TimeUnit.MILLISECONDS.toNanos(10),
                        Math.min(
                                TimeUnit.SECONDS.toNanos(1),
                                unavailableTimeout.duration().toNanos() / 10));
        SpanFrontier frontier = new SpanFrontier(this.ranges, startTs);
        this.sorter = new Sorter(config.spillDirectory());
        ActiveFeeds feeds = new ActiveFeeds(sorter);
        this.feeds = feeds;
        this.lifecycle = new Lifecycle(lock, readyOrFailed, feeds);
        this.buffer =
                new ChangeBuffer(
                        config, frontier, sorter, feeds, lifecycle, readyOrFailed, startTs);
        // The handler of the streams the registrar opens registers failed feeds' keys through it.
        Function<RegionRegistrar, StoreStream.Listener> events =
                r ->
                        new FeedEventHandler(
                                session, lock, frontier, sorter, feeds, buffer, lifecycle, r,
                                counters);
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
                        events);
        this.keeper =
                new GcAndLockKeeper(
                        session,
                        config,
                        scheduler,
                        lock,
                        feeds,
                        lifecycle,
                        this::resolvedTs,
                        counters);
    }

    /** Checks the start ts against GC, holds the safe point, and starts registering regions. */
    void start() {
        keeper.start(startTs);
        registrar.register(ranges, Retry.first());
        LOG.info("CDC subscription of {} ranges from ts {} started", ranges.size(), startTs);
    }

    @Override
    public ChangeEvent poll(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (true) {
                failIfUnserved();
                if (buffer.hasReady()) {
                    break;
                }
                lifecycle.throwIfOver();
                long nanos = deadline - System.nanoTime();
                if (nanos <= 0) {
                    return null;
                }
                // Wakes up to look for keys without a feed: the scheduler's threads may be stuck.
                readyOrFailed.awaitNanos(Math.min(nanos, servedCheckNanos));
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

    /**
     * Fails the subscription if some of its keys have had no working feed for longer than the
     * unavailable timeout: waiting for registration, or registered and never served by TiKV. Looked
     * at by the consumer, whose thread never waits on PD or TiKV.
     */
    private void failIfUnserved() {
        long now = System.nanoTime();
        if (now - nextServedCheckNanos < 0 || lifecycle.isOver()) {
            return;
        }
        nextServedCheckNanos = now + servedCheckNanos;
        RegionRegistrar.Pending oldest = registrar.longestWaiting();
        KeyRange span = oldest == null ? null : oldest.span;
        Retry retry = oldest == null ? null : oldest.retry;
        for (RegionFeed feed : feeds.all()) {
            if (!feed.contacted
                    && (retry == null
                            || feed.retry.unservedSinceNanos - retry.unservedSinceNanos < 0)) {
                span =
                        KeyRange.of(
                                feed.pieces.get(0).start(),
                                feed.pieces.get(feed.pieces.size() - 1).end());
                retry = feed.retry;
            }
        }
        if (retry == null) {
            return;
        }
        long unserved = now - retry.unservedSinceNanos;
        if (unserved > unavailableTimeout.duration().toNanos()) {
            lifecycle.fail(
                    new CdcException(
                            String.format(
                                    Locale.ROOT,
                                    "keys %s have had no working change feed from TiKV for %.1f"
                                            + " s, more than %s; last error: %s",
                                    span,
                                    unserved / 1e9,
                                    unavailableTimeout,
                                    retry.cause)));
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

    @Override
    public int readyChanges() {
        lock.lock();
        try {
            return buffer.readyChanges();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int subscribedRegions() {
        lock.lock();
        try {
            return feeds.all().size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long streamReconnects() {
        return counters.streamReconnects.get();
    }

    @Override
    public long staleLocksResolved() {
        return counters.staleLocksResolved.get();
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
}
