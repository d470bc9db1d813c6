package io.tiflink.minicluster.region;

import io.tiflink.minicluster.codec.KeyCodec;

import org.tikv.kvproto.Metapb;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * The region table that PD and every store share: regions that tile the key space, their epochs,
 * peers and leaders. Splits keep the original id on the right part, as TiKV does by default ({@code
 * right-derive-when-split}); merges bump the target's version past both.
 */
public final class RegionManager {
    private final TreeMap<byte[], Region> byStart = new TreeMap<>(KeyCodec.ORDER);
    private final TreeMap<byte[], Region> byEncodedStart = new TreeMap<>(KeyCodec.ORDER);
    private final Map<Long, Region> byId = new HashMap<>();
    private final ReadWriteLock rw = new ReentrantReadWriteLock();
    private final IdAllocator ids;
    private final List<RegionListener> listeners = new CopyOnWriteArrayList<>();
    private volatile Serializer serializer = Supplier::get;

    /**
     * Runs a topology change. The minicluster runs them under the engine's write latch, so a split
     * or merge falls between two applied batches, as a raft admin command does in TiKV: observers
     * (CDC) never see a write routed to a region they were not told of.
     */
    public interface Serializer {
        <T> T run(Supplier<T> change);
    }

    /** Creates one region covering the whole key space, with a peer on each store. */
    public RegionManager(IdAllocator ids, List<Long> storeIds) {
        this.ids = ids;
        List<Metapb.Peer> peers = new ArrayList<>();
        for (long storeId : storeIds) {
            peers.add(Metapb.Peer.newBuilder().setId(ids.allocate()).setStoreId(storeId).build());
        }
        Region first =
                new Region(ids.allocate(), new byte[0], new byte[0], 1, 1, peers, storeIds.get(0));
        put(first);
    }

    public void serializeChangesWith(Serializer serializer) {
        this.serializer = serializer;
    }

    public void addListener(RegionListener listener) {
        listeners.add(listener);
    }

    public void removeListener(RegionListener listener) {
        listeners.remove(listener);
    }

    private void put(Region r) {
        byStart.put(r.start, r);
        byEncodedStart.put(r.encodedStart(), r);
        byId.put(r.id, r);
    }

    private void remove(Region r) {
        byStart.remove(r.start);
        byEncodedStart.remove(r.encodedStart());
        byId.remove(r.id);
    }

    /** The region that holds the raw key. */
    public Region locate(byte[] rawKey) {
        rw.readLock().lock();
        try {
            return byStart.floorEntry(rawKey).getValue();
        } finally {
            rw.readLock().unlock();
        }
    }

    /**
     * The region that holds an encoded key, as PD looks it up. Encoding preserves order, so the
     * region is the last one whose encoded start is at or below the key.
     */
    public Region locateEncoded(byte[] encodedKey) {
        rw.readLock().lock();
        try {
            return byEncodedStart.floorEntry(encodedKey).getValue();
        } finally {
            rw.readLock().unlock();
        }
    }

    public Region byId(long id) {
        rw.readLock().lock();
        try {
            return byId.get(id);
        } finally {
            rw.readLock().unlock();
        }
    }

    /** All regions in key order. */
    public List<Region> all() {
        rw.readLock().lock();
        try {
            return new ArrayList<>(byStart.values());
        } finally {
            rw.readLock().unlock();
        }
    }

    /**
     * Regions overlapping the encoded range {@code [start, end)}, at most {@code limit} (<=0: all).
     */
    public List<Region> scanEncoded(byte[] encodedStart, byte[] encodedEnd, int limit) {
        List<Region> result = new ArrayList<>();
        for (Region r : all()) {
            boolean endsAfterStart =
                    r.end.length == 0 || KeyCodec.compare(r.encodedEnd(), encodedStart) > 0;
            boolean startsBeforeEnd =
                    encodedEnd.length == 0 || KeyCodec.compare(r.encodedStart(), encodedEnd) < 0;
            if (endsAfterStart && startsBeforeEnd) {
                result.add(r);
                if (limit > 0 && result.size() >= limit) {
                    break;
                }
            }
        }
        return result;
    }

    /** The region just left of {@code r}: the sibling TiKV reports with EpochNotMatch. */
    public Region leftSibling(Region r) {
        rw.readLock().lock();
        try {
            Map.Entry<byte[], Region> e = byStart.lowerEntry(r.start);
            return e == null ? null : e.getValue();
        } finally {
            rw.readLock().unlock();
        }
    }

    /**
     * Splits the regions holding {@code rawKeys} at those keys. A key that already starts a region
     * is skipped. Returns the regions that now start at the given keys, in key order.
     */
    public List<Region> split(List<byte[]> rawKeys) {
        return serializer.run(() -> splitNow(rawKeys));
    }

    private List<Region> splitNow(List<byte[]> rawKeys) {
        List<Region> started = new ArrayList<>();
        List<Runnable> events = new ArrayList<>();
        rw.writeLock().lock();
        try {
            byte[][] sorted = rawKeys.toArray(new byte[0][]);
            Arrays.sort(sorted, KeyCodec.ORDER);
            int i = 0;
            while (i < sorted.length) {
                Region r = byStart.floorEntry(sorted[i]).getValue();
                // Keys are sorted, so if any key of this region is its start, the first one is.
                boolean startsAtKey = KeyCodec.compare(sorted[i], r.start) == 0;
                List<byte[]> inside = new ArrayList<>();
                while (i < sorted.length && r.contains(sorted[i])) {
                    if (KeyCodec.compare(sorted[i], r.start) != 0
                            && (inside.isEmpty()
                                    || KeyCodec.compare(inside.get(inside.size() - 1), sorted[i])
                                            != 0)) {
                        inside.add(sorted[i]);
                    }
                    i++;
                }
                if (inside.isEmpty()) {
                    started.add(r);
                    continue;
                }
                List<Region> parts = splitLocked(r, inside);
                started.addAll(parts.subList(startsAtKey ? 0 : 1, parts.size()));
                events.add(() -> listeners.forEach(l -> l.onSplit(r, parts)));
            }
        } finally {
            rw.writeLock().unlock();
        }
        events.forEach(Runnable::run);
        return started;
    }

    private List<Region> splitLocked(Region r, List<byte[]> keys) {
        long version = r.version + keys.size();
        List<Region> parts = new ArrayList<>();
        byte[] from = r.start;
        for (byte[] key : keys) {
            List<Metapb.Peer> peers = new ArrayList<>();
            for (Metapb.Peer p : r.peers) {
                peers.add(
                        Metapb.Peer.newBuilder()
                                .setId(ids.allocate())
                                .setStoreId(p.getStoreId())
                                .build());
            }
            parts.add(
                    new Region(
                            ids.allocate(), from, key, r.confVer, version, peers, r.leaderStoreId));
            from = key;
        }
        parts.add(new Region(r.id, from, r.end, r.confVer, version, r.peers, r.leaderStoreId));
        remove(r);
        parts.forEach(this::put);
        return parts;
    }

    /**
     * Merges {@code sourceId} into the adjacent {@code targetId}; the target survives with both
     * ranges and a version above both, the source is gone (RegionNotFound from then on).
     */
    public Region merge(long sourceId, long targetId) {
        return serializer.run(() -> mergeNow(sourceId, targetId));
    }

    private Region mergeNow(long sourceId, long targetId) {
        Region source;
        Region merged;
        rw.writeLock().lock();
        try {
            source = byId.get(sourceId);
            Region target = byId.get(targetId);
            if (source == null || target == null) {
                throw new IllegalArgumentException(
                        "cannot merge region " + sourceId + " into " + targetId + ": not found");
            }
            byte[] start;
            byte[] end;
            if (Arrays.equals(source.end, target.start) && source.end.length > 0) {
                start = source.start;
                end = target.end;
            } else if (Arrays.equals(target.end, source.start) && target.end.length > 0) {
                start = target.start;
                end = source.end;
            } else {
                throw new IllegalArgumentException(
                        "cannot merge region " + sourceId + " into " + targetId + ": not adjacent");
            }
            merged =
                    new Region(
                            target.id,
                            start,
                            end,
                            target.confVer,
                            Math.max(source.version, target.version) + 1,
                            target.peers,
                            target.leaderStoreId);
            remove(source);
            remove(target);
            put(merged);
        } finally {
            rw.writeLock().unlock();
        }
        listeners.forEach(l -> l.onMerge(source, merged));
        return merged;
    }

    /** Moves the leader of a region to {@code storeId} (the epoch does not change, as in TiKV). */
    public Region transferLeader(long regionId, long storeId) {
        return serializer.run(() -> transferLeaderNow(regionId, storeId));
    }

    private Region transferLeaderNow(long regionId, long storeId) {
        Region before;
        Region after;
        rw.writeLock().lock();
        try {
            before = byId.get(regionId);
            if (before == null) {
                throw new IllegalArgumentException("region " + regionId + " not found");
            }
            if (before.peerOn(storeId) == null) {
                throw new IllegalArgumentException(
                        "region " + regionId + " has no peer on store " + storeId);
            }
            if (before.leaderStoreId == storeId) {
                return before;
            }
            after = before.withLeader(storeId);
            put(after);
        } finally {
            rw.writeLock().unlock();
        }
        listeners.forEach(l -> l.onLeaderChange(before, after));
        return after;
    }

    /**
     * Elects new leaders, on stores in {@code upStores}, for regions led from {@code downStore}.
     */
    public void electLeadersAwayFrom(long downStore, Set<Long> upStores) {
        for (Region r : all()) {
            if (r.leaderStoreId != downStore) {
                continue;
            }
            for (Metapb.Peer p : r.peers) {
                if (upStores.contains(p.getStoreId())) {
                    transferLeader(r.id, p.getStoreId());
                    break;
                }
            }
        }
    }
}
