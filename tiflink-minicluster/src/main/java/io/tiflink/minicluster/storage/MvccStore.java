package io.tiflink.minicluster.storage;

import io.tiflink.minicluster.codec.KeyCodec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * The storage engine: TiKV's three column families (lock, write, default) in memory, keyed by raw
 * key. One engine backs every store of a minicluster, as if each region were fully replicated.
 *
 * <p>Write commands run under one latch (TiKV serialises them per key with latches), produce a
 * batch of {@link Modify}s, and the batch is applied and observed as a unit. Readers do not take
 * the latch: within a batch a commit puts the write record before it deletes the lock, and a
 * prewrite puts the value before the lock, so a reader that checks the lock first never sees a half
 * state.
 */
public final class MvccStore {
    /** TiKV's {@code SHORT_VALUE_MAX_LEN}: longer values go to the default column family. */
    public static final int SHORT_VALUE_MAX_LEN = 255;

    private static final Write[] NO_WRITES = new Write[0];

    private final ConcurrentSkipListMap<byte[], Lock> locks =
            new ConcurrentSkipListMap<>(KeyCodec.ORDER);

    /** Per key, its write records ordered by commit_ts descending (replaced, never mutated). */
    private final ConcurrentSkipListMap<byte[], Write[]> writes =
            new ConcurrentSkipListMap<>(KeyCodec.ORDER);

    private final Map<VersionedKey, byte[]> defaults = new ConcurrentHashMap<>();

    private final ReentrantLock latch = new ReentrantLock();
    private final List<ApplyObserver> observers = new CopyOnWriteArrayList<>();
    private long applyIndex;

    /** A write command: reads the engine, returns the modifications to apply, or throws. */
    @FunctionalInterface
    public interface Command<T> {
        T execute(MvccStore store, List<Modify> batch);
    }

    /** Runs a write command under the latch and applies its batch atomically. */
    public <T> T write(Command<T> command) {
        latch.lock();
        try {
            List<Modify> batch = new ArrayList<>();
            T result = command.execute(this, batch);
            if (!batch.isEmpty()) {
                apply(batch);
            }
            return result;
        } finally {
            latch.unlock();
        }
    }

    /** Runs {@code action} under the write latch: no batch is applied meanwhile. */
    public <T> T underLatch(Function<MvccStore, T> action) {
        latch.lock();
        try {
            return action.apply(this);
        } finally {
            latch.unlock();
        }
    }

    public void addObserver(ApplyObserver observer) {
        observers.add(observer);
    }

    public void removeObserver(ApplyObserver observer) {
        observers.remove(observer);
    }

    /** The index of the last applied batch (TiKV's raft apply index, one counter per engine). */
    public long applyIndex() {
        latch.lock();
        try {
            return applyIndex;
        } finally {
            latch.unlock();
        }
    }

    private void apply(List<Modify> batch) {
        for (Modify m : batch) {
            switch (m.cf) {
                case DEFAULT:
                    if (m.isDelete()) {
                        defaults.remove(new VersionedKey(m.key, m.ts));
                    } else {
                        defaults.put(new VersionedKey(m.key, m.ts), m.bytes());
                    }
                    break;
                case LOCK:
                    if (m.isDelete()) {
                        locks.remove(m.key);
                    } else {
                        locks.put(m.key, m.lock());
                    }
                    break;
                case WRITE:
                    if (m.isDelete()) {
                        removeWrite(m.key, m.ts);
                    } else {
                        putWrite(m.key, m.write());
                    }
                    break;
                default:
                    throw new IllegalStateException("unknown column family " + m.cf);
            }
        }
        applyIndex++;
        for (ApplyObserver observer : observers) {
            observer.onApply(applyIndex, batch);
        }
    }

    private void putWrite(byte[] key, Write write) {
        Write[] old = writes.getOrDefault(key, NO_WRITES);
        int pos = 0;
        while (pos < old.length && old[pos].commitTs > write.commitTs) {
            pos++;
        }
        boolean replace = pos < old.length && old[pos].commitTs == write.commitTs;
        Write[] updated = new Write[replace ? old.length : old.length + 1];
        System.arraycopy(old, 0, updated, 0, pos);
        updated[pos] = write;
        int tail = replace ? pos + 1 : pos;
        System.arraycopy(old, tail, updated, pos + 1, old.length - tail);
        writes.put(key, updated);
    }

    private void removeWrite(byte[] key, long commitTs) {
        Write[] old = writes.get(key);
        if (old == null) {
            return;
        }
        Write[] updated =
                Arrays.stream(old).filter(w -> w.commitTs != commitTs).toArray(Write[]::new);
        if (updated.length == 0) {
            writes.remove(key);
        } else {
            writes.put(key, updated);
        }
    }

    // ---- reads (no latch) ----

    public Lock lock(byte[] key) {
        return locks.get(key);
    }

    /** Locks in {@code [start, end)}; an empty end means unbounded. */
    public NavigableMap<byte[], Lock> locks(byte[] start, byte[] end) {
        return end.length == 0 ? locks.tailMap(start, true) : locks.subMap(start, true, end, false);
    }

    /** Keys that have write records in {@code [start, end)}, with those records newest first. */
    public NavigableMap<byte[], Write[]> writes(byte[] start, byte[] end) {
        return end.length == 0
                ? writes.tailMap(start, true)
                : writes.subMap(start, true, end, false);
    }

    /** Keys in {@code [start, end)} that have a lock or write records, ascending. */
    public Iterator<byte[]> keys(byte[] start, byte[] end) {
        return new MergedKeys(
                locks(start, end).navigableKeySet().iterator(),
                writes(start, end).navigableKeySet().iterator(),
                KeyCodec.ORDER);
    }

    /** Keys in {@code [start, end)} that have a lock or write records, descending. */
    public Iterator<byte[]> keysDescending(byte[] start, byte[] end) {
        return new MergedKeys(
                locks(start, end).descendingKeySet().iterator(),
                writes(start, end).descendingKeySet().iterator(),
                KeyCodec.ORDER.reversed());
    }

    /** The union of two sorted key iterators, each key once. */
    private static final class MergedKeys implements Iterator<byte[]> {
        private final Iterator<byte[]> a;
        private final Iterator<byte[]> b;
        private final Comparator<byte[]> order;
        private byte[] nextA;
        private byte[] nextB;

        MergedKeys(Iterator<byte[]> a, Iterator<byte[]> b, Comparator<byte[]> order) {
            this.a = a;
            this.b = b;
            this.order = order;
            this.nextA = a.hasNext() ? a.next() : null;
            this.nextB = b.hasNext() ? b.next() : null;
        }

        @Override
        public boolean hasNext() {
            return nextA != null || nextB != null;
        }

        @Override
        public byte[] next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            int c = nextA == null ? 1 : nextB == null ? -1 : order.compare(nextA, nextB);
            byte[] key = c <= 0 ? nextA : nextB;
            if (c <= 0) {
                nextA = a.hasNext() ? a.next() : null;
            }
            if (c >= 0) {
                nextB = b.hasNext() ? b.next() : null;
            }
            return key;
        }
    }

    /** The key's write records, newest first. */
    public Write[] versions(byte[] key) {
        return writes.getOrDefault(key, NO_WRITES);
    }

    /** The newest write record with commit_ts at or below {@code ts}, of any type. */
    public Write seekWrite(byte[] key, long ts) {
        for (Write w : versions(key)) {
            if (w.commitTs <= ts) {
                return w;
            }
        }
        return null;
    }

    /**
     * The newest Put or Delete at or below {@code ts}, skipping Lock and Rollback records (TiKV's
     * {@code seek_for_valid_write}); null if there is none.
     */
    public static Write latestDataChange(Write[] versions, long ts) {
        for (Write w : versions) {
            if (w.commitTs <= ts && w.isDataChange()) {
                return w;
            }
        }
        return null;
    }

    /** The value visible at {@code ts}, or null if the key has none (never written or deleted). */
    public byte[] get(byte[] key, long ts) {
        Write w = latestDataChange(versions(key), ts);
        return w == null || w.type == Write.Type.DELETE ? null : value(key, w);
    }

    /** The value a Put record points to. */
    public byte[] value(byte[] key, Write put) {
        return put.shortValue != null ? put.shortValue : defaultValue(key, put.startTs);
    }

    /** The value a Put lock carries. */
    public byte[] value(byte[] key, Lock lock) {
        return lock.shortValue != null ? lock.shortValue : defaultValue(key, lock.startTs);
    }

    public byte[] defaultValue(byte[] key, long startTs) {
        return defaults.get(new VersionedKey(key, startTs));
    }

    /** The write record that {@code startTs} left on the key (a commit or a rollback), if any. */
    public Write txnRecord(byte[] key, long startTs) {
        for (Write w : versions(key)) {
            if (w.startTs == startTs) {
                return w;
            }
            if (w.commitTs == startTs && w.overlappedRollback) {
                return Write.rollback(startTs);
            }
            if (w.commitTs < startTs) {
                break;
            }
        }
        return null;
    }

    /** Number of keys that have write records (a key-count estimate, as TiKV's is). */
    public long approximateKeys(byte[] start, byte[] end) {
        return writes(start, end).size();
    }

    /** Discards everything: for tests that reuse one cluster. */
    public void clear() {
        write(
                (store, batch) -> {
                    locks.clear();
                    writes.clear();
                    defaults.clear();
                    return null;
                });
    }

    /**
     * MVCC garbage collection at {@code safePoint}, as TiKV's GC does: per key, the newest Put at
     * or below the safe point survives, older versions and their values go, and so do Delete, Lock
     * and Rollback records at or below it. Locks are left for lock resolution. Returns versions
     * removed.
     */
    public long gc(long safePoint) {
        return write(
                (store, batch) -> {
                    long removed = 0;
                    for (Map.Entry<byte[], Write[]> e : writes.entrySet()) {
                        byte[] key = e.getKey();
                        boolean keptLatest = false;
                        for (Write w : e.getValue()) {
                            if (w.commitTs > safePoint) {
                                continue;
                            }
                            if (!keptLatest && w.type == Write.Type.PUT) {
                                keptLatest = true;
                                continue;
                            }
                            if (w.isDataChange()) {
                                keptLatest = true;
                            }
                            batch.add(Modify.deleteWrite(key, w.commitTs));
                            if (w.type == Write.Type.PUT && w.shortValue == null) {
                                batch.add(Modify.deleteDefault(key, w.startTs));
                            }
                            removed++;
                        }
                    }
                    return removed;
                });
    }

    private static final class VersionedKey {
        final byte[] key;
        final long ts;

        VersionedKey(byte[] key, long ts) {
            this.key = key;
            this.ts = ts;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof VersionedKey)) {
                return false;
            }
            VersionedKey other = (VersionedKey) o;
            return ts == other.ts && Arrays.equals(key, other.key);
        }

        @Override
        public int hashCode() {
            return Objects.hash(Arrays.hashCode(key), ts);
        }
    }
}
