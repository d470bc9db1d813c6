package io.tiflink.cdc.client;

import org.tikv.common.region.TiRegion;

import java.util.ArrayList;
import java.util.List;

/**
 * One region registered on a store's stream: the parts of the subscription it covers, where it
 * started, how far TiKV has resolved it, its PREWRITE/COMMIT matcher, and the changes it delivered
 * above its resolved ts ("unsealed": if the feed fails they are dropped, because the feed that
 * replaces it reads them again).
 */
final class RegionFeed {
    final long requestId;
    final TiRegion region;
    final long storeId;
    final StoreStream stream;

    /** The parts of the subscription's ranges inside the region (usually one). */
    final List<KeyRange> pieces;

    final long checkpointTs;

    /** Failed registrations in a row before this one, and since when its keys had no feed. */
    final Retry retry;

    final Matcher matcher = new Matcher();

    /** In arrival order; sorted once, when sealed. */
    List<KeyChange> unsealed = new ArrayList<>();

    long unsealedBytes;

    /** Whether some of its unsealed changes went to disk. */
    boolean spilled;

    boolean initialized;

    /** Whether TiKV sent the feed anything but an error: it serves the region. */
    boolean contacted;

    long resolvedTs;

    RegionFeed(
            long requestId,
            TiRegion region,
            long storeId,
            StoreStream stream,
            List<KeyRange> pieces,
            long checkpointTs,
            Retry retry) {
        this.requestId = requestId;
        this.region = region;
        this.storeId = storeId;
        this.stream = stream;
        this.pieces = pieces;
        this.checkpointTs = checkpointTs;
        this.retry = retry;
        this.resolvedTs = checkpointTs;
    }

    long regionId() {
        return region.getId();
    }

    /** Whether a key of this region belongs to the subscription. */
    boolean covers(byte[] key) {
        for (KeyRange p : pieces) {
            if (p.contains(key)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Takes the unsealed changes at or below {@code ts}, sorted in commit order, and keeps the
     * rest.
     */
    List<KeyChange> seal(long ts) {
        List<KeyChange> sealed = new ArrayList<>();
        List<KeyChange> rest = new ArrayList<>();
        for (KeyChange c : unsealed) {
            (c.commitTs() <= ts ? sealed : rest).add(c);
        }
        unsealed = rest;
        for (KeyChange c : sealed) {
            unsealedBytes -= c.sizeBytes();
        }
        sealed.sort(KeyChange.COMMIT_ORDER);
        return sealed;
    }

    /** Bytes held for this feed. */
    long bytes() {
        return unsealedBytes + matcher.bytes();
    }

    @Override
    public String toString() {
        return "region "
                + region.getId()
                + " (version "
                + region.getRegionEpoch().getVersion()
                + ") on store "
                + storeId
                + " from "
                + checkpointTs;
    }
}
