package io.tiflink.minicluster.storage;

import org.tikv.kvproto.Kvrpcpb;

/** A commit record, the value of the write column family (TiKV {@code txn_types::Write}). */
public final class Write {
    /** TiKV's WriteType. */
    public enum Type {
        PUT,
        DELETE,
        LOCK,
        ROLLBACK
    }

    public final Type type;
    public final long startTs;

    /** The key's version in the write column family; equal to startTs for rollbacks. */
    public final long commitTs;

    /** The value of a short Put, else null (the value is in the default column family). */
    public final byte[] shortValue;

    /** A rollback of a txn whose start_ts equals this record's commit_ts was folded in here. */
    public final boolean overlappedRollback;

    /** The txn's source, copied from its lock; always 0 on a rollback, as in TiKV. */
    public final long txnSource;

    public Write(
            Type type,
            long startTs,
            long commitTs,
            byte[] shortValue,
            boolean overlappedRollback,
            long txnSource) {
        this.type = type;
        this.startTs = startTs;
        this.commitTs = commitTs;
        this.shortValue = shortValue;
        this.overlappedRollback = overlappedRollback;
        this.txnSource = txnSource;
    }

    /**
     * The commit record of {@code lock} at {@code commitTs} (TiKV {@code
     * WriteType::from_lock_type}).
     */
    public static Write committing(Lock lock, long commitTs, boolean overlappedRollback) {
        Type type =
                lock.type == Kvrpcpb.Op.Put
                        ? Type.PUT
                        : lock.type == Kvrpcpb.Op.Del ? Type.DELETE : Type.LOCK;
        return new Write(
                type, lock.startTs, commitTs, lock.shortValue, overlappedRollback, lock.txnSource);
    }

    public static Write rollback(long startTs) {
        return new Write(Type.ROLLBACK, startTs, startTs, null, false, 0);
    }

    public Write withOverlappedRollback() {
        return new Write(type, startTs, commitTs, shortValue, true, txnSource);
    }

    /** Put or Delete: a record that changes the key's value. */
    public boolean isDataChange() {
        return type == Type.PUT || type == Type.DELETE;
    }
}
