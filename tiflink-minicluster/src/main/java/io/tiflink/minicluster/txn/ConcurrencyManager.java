package io.tiflink.minicluster.txn;

import io.tiflink.minicluster.codec.KeyCodec;
import io.tiflink.minicluster.storage.Lock;
import io.tiflink.minicluster.storage.TimeStamps;

import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * TiKV's concurrency manager: {@code max_ts}, the largest timestamp any read has used, and the
 * in-memory locks of async-commit and 1PC prewrites in flight.
 *
 * <p>An async-commit or 1PC txn chooses its commit ts when it prewrites ({@code max_ts + 1} at
 * least), so no read that already ran may miss it. A read raises max_ts first, then checks the
 * memory locks, then the engine; a prewrite publishes its memory lock first, then reads max_ts.
 * Either the read raised max_ts before the prewrite read it (the commit ts is above the read), or
 * the read sees the lock, in memory or already applied.
 */
public final class ConcurrencyManager {
    private final AtomicLong maxTs = new AtomicLong();
    private final ConcurrentSkipListMap<byte[], Lock> memoryLocks =
            new ConcurrentSkipListMap<>(KeyCodec.ORDER);

    /** Raises max_ts to {@code ts}; u64::MAX (a latest-version read) is ignored, as in TiKV. */
    public void updateMaxTs(long ts) {
        if (!TimeStamps.isMax(ts)) {
            maxTs.accumulateAndGet(ts, Math::max);
        }
    }

    public long maxTs() {
        return maxTs.get();
    }

    /** The lock a prewrite in flight holds on the key, or null. */
    Lock memoryLock(byte[] key) {
        return memoryLocks.get(key);
    }

    void putMemoryLock(byte[] key, Lock lock) {
        memoryLocks.put(key, lock);
    }

    void removeMemoryLock(byte[] key) {
        memoryLocks.remove(key);
    }
}
