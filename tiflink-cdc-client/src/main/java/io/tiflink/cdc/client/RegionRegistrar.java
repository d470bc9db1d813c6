package io.tiflink.cdc.client;

import org.tikv.common.TiSession;
import org.tikv.common.codec.Codec;
import org.tikv.common.codec.CodecDataOutput;
import org.tikv.common.region.TiRegion;
import org.tikv.common.region.TiStore;
import org.tikv.kvproto.Cdcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
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

    /** Registers the regions of {@code spans}: at once for attempt 0, else after a back-off. */
    void register(List<KeyRange> spans, int attempt) {
        for (KeyRange span : spans) {
            if (attempt == 0) {
                scheduler.execute(() -> divide(span, 0));
            } else {
                retryLater(span, attempt);
            }
        }
    }

    /** Registers the regions that cover {@code span}, looked up from PD. */
    private void divide(KeyRange span, int attempt) {
        if (lifecycle.isOver()) {
            return;
        }
        if (buffer.overQuota()) {
            // New registrations bring incremental scans; wait until the consumer catches up.
            retryLater(span, attempt);
            return;
        }
        byte[] key = span.start();
        byte[] end = span.end();
        try {
            while (!KeyRange.atOrAfterEnd(key, end)) {
                TiRegion region =
                        session.getRegionManager().getRegionByKey(ByteString.copyFrom(key));
                TiStore store =
                        session.getRegionManager().getStoreById(region.getLeader().getStoreId());
                byte[] regionEnd = region.getEndKey().toByteArray();
                KeyRange rest = registerOrDefer(region, store, attempt);
                if (rest != null) {
                    retryLater(rest, attempt + 1);
                }
                if (regionEnd.length == 0) {
                    break;
                }
                key = regionEnd;
            }
        } catch (RuntimeException e) {
            LOG.debug("looking up regions of {} failed; retrying", span, e);
            retryLater(KeyRange.of(key, end), attempt + 1);
        }
    }

    /**
     * Registers the region unless a feed overlapping it is still active.
     *
     * @return the part of the region to try again later, or null
     */
    private KeyRange registerOrDefer(TiRegion region, TiStore store, int attempt) {
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
                            attempt);
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

    private void retryLater(KeyRange span, int attempt) {
        if (lifecycle.isOver()) {
            return;
        }
        scheduler.schedule(
                () -> divide(span, attempt), backoffMillis(attempt), TimeUnit.MILLISECONDS);
    }

    private long backoffMillis(int attempt) {
        long min = config.retryBackoffMin().toMillis();
        long max = config.retryBackoffMax().toMillis();
        return Math.min(max, min << Math.min(attempt, 20));
    }
}
