package io.tiflink.minicluster.region;

import io.tiflink.minicluster.storage.Modify;
import io.tiflink.minicluster.storage.MvccStore;
import io.tiflink.minicluster.storage.Write;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * TiKV's split checker: a region written since the last check is split when it holds more than
 * {@code maxKeys} keys or {@code maxBytes} bytes, at the key where the left part reaches {@code
 * splitKeys} keys or {@code splitBytes} bytes (TiKV's region-max-* and region-split-*).
 */
public final class SplitChecker {
    private final MvccStore store;
    private final RegionManager regions;
    private final long maxKeys;
    private final long splitKeys;
    private final long maxBytes;
    private final long splitBytes;
    private final Set<Long> dirty = ConcurrentHashMap.newKeySet();

    public SplitChecker(MvccStore store, RegionManager regions, long maxKeys, long maxBytes) {
        this.store = store;
        this.regions = regions;
        this.maxKeys = maxKeys;
        this.splitKeys = Math.max(1, maxKeys * 2 / 3);
        this.maxBytes = maxBytes;
        this.splitBytes = Math.max(1, maxBytes * 2 / 3);
        store.addObserver(
                (index, batch) -> {
                    for (Modify m : batch) {
                        if (m.cf == Modify.Cf.WRITE && !m.isDelete()) {
                            dirty.add(regions.locate(m.key).id);
                        }
                    }
                });
    }

    /** Checks every region written since the last call; returns the split keys it applied. */
    public List<byte[]> check() {
        List<byte[]> splits = new ArrayList<>();
        for (Long id : new ArrayList<>(dirty)) {
            dirty.remove(id);
            Region r = regions.byId(id);
            if (r == null) {
                continue;
            }
            byte[] at = splitKey(r);
            if (at != null) {
                regions.split(List.of(at));
                splits.add(at);
                // Both halves may still be too big: look again next round.
                dirty.add(r.id);
                dirty.add(regions.locate(r.start).id);
            }
        }
        return splits;
    }

    private byte[] splitKey(Region r) {
        long keys = 0;
        long bytes = 0;
        byte[] byKeys = null;
        byte[] byBytes = null;
        for (Map.Entry<byte[], Write[]> e : store.writes(r.start, r.end).entrySet()) {
            keys++;
            for (Write w : e.getValue()) {
                bytes += e.getKey().length + 8 + valueSize(e.getKey(), w);
            }
            if (byKeys == null && keys > splitKeys) {
                byKeys = e.getKey();
            }
            if (byBytes == null && bytes > splitBytes) {
                byBytes = e.getKey();
            }
        }
        if (keys > maxKeys && byKeys != null && !Arrays.equals(byKeys, r.start)) {
            return byKeys;
        }
        if (bytes > maxBytes && byBytes != null && !Arrays.equals(byBytes, r.start)) {
            return byBytes;
        }
        return null;
    }

    private long valueSize(byte[] key, Write w) {
        if (w.shortValue != null) {
            return w.shortValue.length;
        }
        byte[] value = w.type == Write.Type.PUT ? store.defaultValue(key, w.startTs) : null;
        return value == null ? 0 : value.length;
    }
}
