package io.tiflink.minicluster.storage;

/**
 * One change to one column family, as a write command hands it to the engine. A command's
 * modifications are applied together, then passed to {@link ApplyObserver}s (the CDC hook).
 */
public final class Modify {
    /** TiKV's column families. */
    public enum Cf {
        DEFAULT,
        LOCK,
        WRITE
    }

    public final Cf cf;
    public final byte[] key;

    /** The version: start_ts for default, commit_ts for write, unused for lock. */
    public final long ts;

    /** The new value (a byte[], {@link Lock} or {@link Write}), or null for a delete. */
    public final Object value;

    /** For a lock delete, the lock that was removed, so observers can untrack it. */
    public final Lock removedLock;

    /**
     * A commit record rewritten only to mark a rollback of the txn whose start_ts is its commit_ts
     * (TiKV sets gc_fence then; CDC reports it as that txn's ROLLBACK, not as a new commit).
     */
    public final boolean overlappedRollbackMark;

    /**
     * A commit record written by 1PC, with no lock before it (TiKV flags such a batch {@code
     * ONE_PC}; CDC reports the record as COMMITTED with its old value).
     */
    public final boolean onePc;

    private Modify(
            Cf cf,
            byte[] key,
            long ts,
            Object value,
            Lock removedLock,
            boolean overlappedRollbackMark,
            boolean onePc) {
        this.cf = cf;
        this.key = key;
        this.ts = ts;
        this.value = value;
        this.removedLock = removedLock;
        this.overlappedRollbackMark = overlappedRollbackMark;
        this.onePc = onePc;
    }

    private Modify(Cf cf, byte[] key, long ts, Object value, Lock removedLock) {
        this(cf, key, ts, value, removedLock, false, false);
    }

    public static Modify putDefault(byte[] key, long startTs, byte[] value) {
        return new Modify(Cf.DEFAULT, key, startTs, value, null);
    }

    public static Modify deleteDefault(byte[] key, long startTs) {
        return new Modify(Cf.DEFAULT, key, startTs, null, null);
    }

    public static Modify putLock(byte[] key, Lock lock) {
        return new Modify(Cf.LOCK, key, 0, lock, null);
    }

    public static Modify deleteLock(byte[] key, Lock removed) {
        return new Modify(Cf.LOCK, key, 0, null, removed);
    }

    public static Modify putWrite(byte[] key, Write write) {
        return new Modify(Cf.WRITE, key, write.commitTs, write, null);
    }

    /** A commit record written by 1PC. */
    public static Modify putOnePcWrite(byte[] key, Write write) {
        return new Modify(Cf.WRITE, key, write.commitTs, write, null, false, true);
    }

    /** Rewrites a commit record with its overlapped-rollback flag set. */
    public static Modify markOverlappedRollback(byte[] key, Write committed) {
        return new Modify(
                Cf.WRITE,
                key,
                committed.commitTs,
                committed.withOverlappedRollback(),
                null,
                true,
                false);
    }

    public static Modify deleteWrite(byte[] key, long commitTs) {
        return new Modify(Cf.WRITE, key, commitTs, null, null);
    }

    public boolean isDelete() {
        return value == null;
    }

    public Lock lock() {
        return (Lock) value;
    }

    public Write write() {
        return (Write) value;
    }

    public byte[] bytes() {
        return (byte[]) value;
    }
}
