package io.tiflink.cdc.client;

import io.tiflink.tikv.gc.GcSafePoint;
import io.tiflink.tikv.gc.GcSafePointException;

import org.tikv.common.TiSession;
import org.tikv.common.region.TiRegion;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * Keeps a subscription going on the TiKV side: holds its PD service GC safe point (at the start ts,
 * then at the consumer's resolved ts, until it closes), and resolves the stale locks that hold a
 * lagging region's resolved ts back.
 *
 * <p>Its periodic tasks run on the scheduler's threads, taking the subscription's lock only to find
 * the lagging regions.
 */
final class GcAndLockKeeper {
    private static final Logger LOG = LoggerFactory.getLogger(GcAndLockKeeper.class);

    /** A TSO is physical milliseconds shifted left by 18 bits, plus a logical counter. */
    private static final int PHYSICAL_SHIFT = 18;

    private final TiSession session;
    private final CdcClientConfig config;
    private final ScheduledExecutorService scheduler;
    private final ReentrantLock lock;
    private final ActiveFeeds feeds;
    private final Lifecycle lifecycle;
    private final StaleLockResolver lockResolver;
    private final LongSupplier consumedResolvedTs;
    private final SubscriptionCounters counters;
    private final LogLimiter lockResolveFailures = new LogLimiter();
    private final LogLimiter gcRenewFailures = new LogLimiter();

    GcAndLockKeeper(
            TiSession session,
            CdcClientConfig config,
            ScheduledExecutorService scheduler,
            ReentrantLock lock,
            ActiveFeeds feeds,
            Lifecycle lifecycle,
            LongSupplier consumedResolvedTs,
            SubscriptionCounters counters) {
        this.session = session;
        this.config = config;
        this.scheduler = scheduler;
        this.lock = lock;
        this.feeds = feeds;
        this.lifecycle = lifecycle;
        this.lockResolver = new StaleLockResolver(session);
        this.consumedResolvedTs = consumedResolvedTs;
        this.counters = counters;
    }

    /** Checks the start ts against GC, holds the safe point, and starts the periodic tasks. */
    void start(long startTs) {
        holdGcSafePoint(startTs);
        long renew = Math.max(1, config.gcTtl().toMillis() / 3);
        lifecycle.cancelOnEnd(
                scheduler.scheduleWithFixedDelay(
                        this::renewGcSafePoint, renew, renew, TimeUnit.MILLISECONDS));
        long check = Math.max(100, config.lockResolveAfter().toMillis() / 2);
        lifecycle.cancelOnEnd(
                scheduler.scheduleWithFixedDelay(
                        this::resolveStaleLocks, check, check, TimeUnit.MILLISECONDS));
    }

    void releaseGcSafePoint() {
        try {
            GcSafePoint.release(session, config.gcServiceId());
        } catch (RuntimeException e) {
            LOG.warn("could not release GC service safe point {}", config.gcServiceId(), e);
        }
    }

    private void resolveStaleLocks() {
        if (lifecycle.isOver()) {
            return;
        }
        try {
            long now = session.getTimestamp().getVersion();
            long bound =
                    ((now >> PHYSICAL_SHIFT) - config.lockResolveAfter().toMillis())
                            << PHYSICAL_SHIFT;
            List<TiRegion> lagging = new ArrayList<>();
            lock.lock();
            try {
                for (RegionFeed feed : feeds.all()) {
                    if (feed.initialized && feed.resolvedTs < bound) {
                        lagging.add(feed.region);
                    }
                }
            } finally {
                lock.unlock();
            }
            for (TiRegion region : lagging) {
                int resolved = lockResolver.resolve(region, bound);
                counters.staleLocksResolved.addAndGet(resolved);
                LOG.debug(
                        "region {} lags: resolved {} locks below {}",
                        region.getId(),
                        resolved,
                        bound);
            }
            lockResolveFailures.succeeded();
        } catch (RuntimeException e) {
            long leftOut = lockResolveFailures.failed();
            if (leftOut >= 0) {
                LOG.warn(
                        "resolving stale locks failed ({} more failures since the last report);"
                                + " trying again later, reporting at most every {} s",
                        leftOut,
                        LogLimiter.INTERVAL.getSeconds(),
                        e);
            } else {
                LOG.debug("resolving stale locks failed; trying again later", e);
            }
        }
    }

    private void renewGcSafePoint() {
        if (lifecycle.isOver()) {
            return;
        }
        try {
            holdGcSafePoint(consumedResolvedTs.getAsLong());
            gcRenewFailures.succeeded();
        } catch (CdcException e) {
            lifecycle.fail(e);
        } catch (RuntimeException e) {
            long leftOut = gcRenewFailures.failed();
            if (leftOut >= 0) {
                LOG.warn(
                        "renewing GC service safe point {} failed ({} more failures since the last"
                                + " report); reporting at most every {} s",
                        config.gcServiceId(),
                        leftOut,
                        LogLimiter.INTERVAL.getSeconds(),
                        e);
            } else {
                LOG.debug("renewing GC service safe point {} failed", config.gcServiceId(), e);
            }
        }
    }

    private void holdGcSafePoint(long ts) {
        try {
            GcSafePoint.hold(session, config.gcServiceId(), config.gcTtl(), ts);
        } catch (GcSafePointException e) {
            throw new CdcException(e.getMessage(), e);
        }
    }
}
