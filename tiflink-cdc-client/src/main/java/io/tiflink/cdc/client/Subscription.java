package io.tiflink.cdc.client;

import org.tikv.common.TiSession;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
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
        registrar.register(ranges, 0);
        LOG.info("CDC subscription of {} ranges from ts {} started", ranges.size(), startTs);
    }

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
