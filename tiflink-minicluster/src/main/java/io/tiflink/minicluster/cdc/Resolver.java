package io.tiflink.minicluster.cdc;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * TiKV's resolved-ts resolver for one region: tracks the start ts of every lock in the region;
 * resolved ts = max(previous, min(min_ts, oldest tracked lock)). It never goes back.
 */
final class Resolver {
    private final Map<ByteBuffer, Long> lockByKey = new HashMap<>();
    private final TreeMap<Long, Integer> lockCounts = new TreeMap<>();
    private long resolvedTs;

    void track(byte[] key, long startTs) {
        Long old = lockByKey.put(ByteBuffer.wrap(key), startTs);
        if (old != null) {
            if (old == startTs) {
                return; // a rewrite of the same lock (heartbeat, min_commit_ts push)
            }
            decrement(old);
        }
        lockCounts.merge(startTs, 1, Integer::sum);
    }

    void untrack(byte[] key) {
        Long old = lockByKey.remove(ByteBuffer.wrap(key));
        if (old != null) {
            decrement(old);
        }
    }

    private void decrement(long startTs) {
        lockCounts.computeIfPresent(startTs, (ts, n) -> n == 1 ? null : n - 1);
    }

    /** Advances with {@code minTs} (a TSO taken before the locks were looked at). */
    long resolve(long minTs) {
        long bound = lockCounts.isEmpty() ? minTs : Math.min(minTs, lockCounts.firstKey());
        resolvedTs = Math.max(resolvedTs, bound);
        return resolvedTs;
    }

    long resolvedTs() {
        return resolvedTs;
    }
}
