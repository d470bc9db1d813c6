package io.tiflink.cdc.client;

import io.tiflink.tikv.Keys;
import io.tiflink.tikv.Sessions;

import org.tikv.common.TiSession;
import org.tikv.common.codec.Codec;
import org.tikv.common.codec.CodecDataOutput;
import org.tikv.common.region.TiRegion;
import org.tikv.common.region.TiStore;
import org.tikv.common.util.BackOffer;
import org.tikv.common.util.ConcreteBackOffer;
import org.tikv.kvproto.Cdcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * Registers a feed for each region that covers a subscription's key ranges, looked up from PD, on
 * the stream to its leader's store; keys it cannot register now are tried again, backing off while
 * failures come in a row.
 *
 * <p>Exactly-once rule (1) is enforced here: at most one feed covers a key at a time, so a region
 * waits until every feed overlapping it has ended. So is the first half of rule (2): a feed starts
 * at the lowest frontier ts of its parts.
 *
 * <p>Runs on the scheduler's threads; registers under the subscription's lock.
 */
final class RegionRegistrar {
    private static final Logger LOG = LoggerFactory.getLogger(RegionRegistrar.class);

    /** Sent as ticdc_version: batched resolved ts (4.0.8+) and cluster id checks (5.3.0+). */
    static final String PROTOCOL_VERSION = "6.5.0";

    private final TiSession session;
    private final CdcClientConfig config;
    private final ScheduledExecutorService scheduler;
    private final ReentrantLock lock;
    private final long clusterId;
    private final List<KeyRange> ranges;
    private final SpanFrontier frontier;
    private final ActiveFeeds feeds;
    private final ChangeBuffer buffer;
    private final Lifecycle lifecycle;

    /** Receives what the streams it opens bring. */
    private final StoreStream.Listener events;

    private long nextRequestId = 1;

    /** Keys waiting for a feed: scheduled to be looked up, or being looked up. */
    private final Set<Pending> pending = ConcurrentHashMap.newKeySet();

    /** Keys of the subscription waiting here for a feed, and how long they have waited. */
    static final class Pending {
        final KeyRange span;
        final Retry retry;

        Pending(KeyRange span, Retry retry) {
            this.span = span;
            this.retry = retry;
        }
    }

    /**
     * @param events makes the listener of the streams it opens, which registers the keys of failed
     *     feeds again through this registrar
     */
    RegionRegistrar(
            TiSession session,
            CdcClientConfig config,
            ScheduledExecutorService scheduler,
            ReentrantLock lock,
            List<KeyRange> ranges,
            SpanFrontier frontier,
            ActiveFeeds feeds,
            ChangeBuffer buffer,
            Lifecycle lifecycle,
            Function<RegionRegistrar, StoreStream.Listener> events) {
        this.session = session;
        this.config = config;
        this.scheduler = scheduler;
        this.lock = lock;
        this.clusterId = session.getPDClient().getClusterId();
        this.ranges = ranges;
        this.frontier = frontier;
        this.feeds = feeds;
        this.buffer = buffer;
        this.lifecycle = lifecycle;
        this.events = events.apply(this);
    }

    /**
     * Registers the regions of {@code spans}: at once for a first attempt, else after a back-off.
     */
    void register(List<KeyRange> spans, Retry retry) {
        for (KeyRange span : spans) {
            Pending p = new Pending(span, retry);
            pending.add(p);
            if (retry.attempt == 0) {
                scheduler.execute(() -> divide(p));
            } else {
                retryLater(p);
            }
        }
    }

    /**
     * Of the keys waiting here for a feed (to be looked up, or being looked up now), those that
     * have waited longest; null if none wait.
     */
    Pending longestWaiting() {
        Pending oldest = null;
        for (Pending p : pending) {
            if (oldest == null
                    || p.retry.unservedSinceNanos - oldest.retry.unservedSinceNanos < 0) {
                oldest = p;
            }
        }
        return oldest;
    }

    /** Registers the regions that cover {@code p}'s span, looked up from PD. */
    private void divide(Pending p) {
        try {
            divide(p.span, p.retry);
        } finally {
            pending.remove(p); // after its rest, if any, was added
        }
    }

    private void divide(KeyRange span, Retry retry) {
        if (lifecycle.isOver()) {
            return;
        }
        if (buffer.overQuota()) {
            // New registrations bring incremental scans; wait until the consumer catches up. Not
            // an outage: the clock starts again.
            retryLater(new Pending(span, new Retry(retry.attempt, System.nanoTime(), retry.cause)));
            return;
        }
        byte[] key = span.start();
        byte[] end = span.end();
        try {
            while (!KeyRange.atOrAfterEnd(key, end)) {
                // Bounded: tikv-client-java's own back-off waits 20 s for PD, on a scheduler
                // thread.
                BackOffer pd =
                        ConcreteBackOffer.newCustomBackOff(
                                (int) config.retryBackoffMax().toMillis());
                TiRegion region =
                        session.getRegionManager().getRegionByKey(ByteString.copyFrom(key), pd);
                if (region == null) {
                    throw new IllegalStateException("PD did not answer (no region found)");
                }
                TiStore store =
                        session.getRegionManager()
                                .getStoreById(region.getLeader().getStoreId(), pd);
                byte[] regionEnd = region.getEndKey().toByteArray();
                KeyRange rest = registerOrDefer(region, store, retry);
                if (rest != null) {
                    retryLater(
                            new Pending(
                                    rest,
                                    retry.failed(
                                            "waiting for the feed of an older shape of region "
                                                    + region.getId()
                                                    + " to end")));
                }
                if (regionEnd.length == 0) {
                    break;
                }
                key = regionEnd;
            }
        } catch (RuntimeException e) {
            LOG.debug("looking up regions of {} failed; retrying", span, e);
            String why =
                    "registering the region of key "
                            + Keys.hex(key)
                            + " failed: "
                            + Sessions.rootMessage(e);
            retryLater(new Pending(KeyRange.of(key, end), retry.failed(why)));
        }
    }

    /**
     * Registers the region unless a feed overlapping it is still active.
     *
     * @return the part of the region to try again later, or null
     */
    private KeyRange registerOrDefer(TiRegion region, TiStore store, Retry retry) {
        List<KeyRange> pieces = new ArrayList<>();
        KeyRange regionRange =
                KeyRange.of(region.getStartKey().toByteArray(), region.getEndKey().toByteArray());
        for (KeyRange r : ranges) {
            KeyRange p = r.intersect(regionRange);
            if (p != null) {
                pieces.add(p);
            }
        }
        lock.lock();
        try {
            if (lifecycle.isOver() || pieces.isEmpty()) {
                return null;
            }
            for (KeyRange p : pieces) {
                RegionFeed active = feeds.overlapping(p);
                if (active == null) {
                    continue;
                }
                if (active.regionId() == region.getId()
                        && active.region.getRegionEpoch().getVersion()
                                == region.getRegionEpoch().getVersion()) {
                    return null; // already covered
                }
                // A feed of an older (or newer) shape of these keys is active: wait for its
                // error, and look the region up again then.
                session.getRegionManager().invalidateRegion(region);
                return regionRange;
            }
            long checkpoint = Long.MAX_VALUE;
            for (KeyRange p : pieces) {
                checkpoint = Math.min(checkpoint, frontier.min(p));
            }
            StoreStream stream = feeds.stream(store.getId());
            if (stream == null) {
                stream = new StoreStream(store.getId(), store.getStore().getAddress(), events);
                feeds.addStream(stream);
                stream.open(
                        session.getChannelFactory()
                                .getChannel(
                                        stream.address, session.getPDClient().getHostMapping()));
            }
            RegionFeed feed =
                    new RegionFeed(
                            nextRequestId++,
                            region,
                            store.getId(),
                            stream,
                            pieces,
                            checkpoint,
                            retry);
            feeds.add(feed);
            stream.send(request(feed));
            LOG.debug("registered {}", feed);
            return null;
        } finally {
            lock.unlock();
        }
    }

    private Cdcpb.ChangeDataRequest request(RegionFeed feed) {
        KeyRange first = feed.pieces.get(0);
        KeyRange last = feed.pieces.get(feed.pieces.size() - 1);
        return Cdcpb.ChangeDataRequest.newBuilder()
                .setHeader(
                        Cdcpb.Header.newBuilder()
                                .setClusterId(clusterId)
                                .setTicdcVersion(PROTOCOL_VERSION))
                .setRegionId(feed.regionId())
                .setRegionEpoch(feed.region.getRegionEpoch())
                .setCheckpointTs(feed.checkpointTs)
                .setRequestId(feed.requestId)
                // TiKV 7+ narrows the capture to these (memcomparable) keys; 6.5 ignores them.
                .setStartKey(encode(first.start()))
                .setEndKey(encode(last.end()))
                .setExtraOp(org.tikv.kvproto.Kvrpcpb.ExtraOp.ReadOldValue)
                .setKvApi(Cdcpb.ChangeDataRequest.KvAPI.TiDB)
                .build();
    }

    private static ByteString encode(byte[] key) {
        if (key.length == 0) {
            return ByteString.EMPTY;
        }
        CodecDataOutput out = new CodecDataOutput();
        Codec.BytesCodec.writeBytes(out, key);
        return out.toByteString();
    }

    private void retryLater(Pending p) {
        if (lifecycle.isOver()) {
            return;
        }
        pending.add(p);
        scheduler.schedule(() -> divide(p), backoffMillis(p.retry.attempt), TimeUnit.MILLISECONDS);
    }

    private long backoffMillis(int attempt) {
        long min = config.retryBackoffMin().toMillis();
        long max = config.retryBackoffMax().toMillis();
        return Math.min(max, min << Math.min(attempt, 20));
    }
}
