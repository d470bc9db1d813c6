package io.tiflink.minicluster.storage;

import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import java.util.List;

/** A Percolator lock, the value of the lock column family (TiKV {@code txn_types::Lock}). */
public final class Lock {
    /** Put, Del, Lock or PessimisticLock, as in {@code kvrpcpb.Op}. */
    public final Kvrpcpb.Op type;

    public final byte[] primary;
    public final long startTs;
    public final long ttl;

    /** The value when it is short (at most {@link MvccStore#SHORT_VALUE_MAX_LEN}); else null. */
    public final byte[] shortValue;

    public final long forUpdateTs;
    public final long txnSize;
    public final long minCommitTs;
    public final boolean useAsyncCommit;
    public final List<byte[]> secondaries;

    /** Where the txn comes from ({@code kvrpcpb.Context.txn_source}); 0 for a user's write. */
    public final long txnSource;

    public Lock(
            Kvrpcpb.Op type,
            byte[] primary,
            long startTs,
            long ttl,
            byte[] shortValue,
            long forUpdateTs,
            long txnSize,
            long minCommitTs,
            boolean useAsyncCommit,
            List<byte[]> secondaries,
            long txnSource) {
        this.type = type;
        this.primary = primary;
        this.startTs = startTs;
        this.ttl = ttl;
        this.shortValue = shortValue;
        this.forUpdateTs = forUpdateTs;
        this.txnSize = txnSize;
        this.minCommitTs = minCommitTs;
        this.useAsyncCommit = useAsyncCommit;
        this.secondaries = List.copyOf(secondaries);
        this.txnSource = txnSource;
    }

    public Lock withTtl(long newTtl) {
        return new Lock(
                type,
                primary,
                startTs,
                newTtl,
                shortValue,
                forUpdateTs,
                txnSize,
                minCommitTs,
                useAsyncCommit,
                secondaries,
                txnSource);
    }

    public Lock withMinCommitTs(long newMinCommitTs) {
        return new Lock(
                type,
                primary,
                startTs,
                ttl,
                shortValue,
                forUpdateTs,
                txnSize,
                newMinCommitTs,
                useAsyncCommit,
                secondaries,
                txnSource);
    }

    public boolean isPessimistic() {
        return type == Kvrpcpb.Op.PessimisticLock;
    }

    /** Whether the lock has expired at {@code currentTs}, judged on the physical clock. */
    public boolean isExpired(long currentTs) {
        return TimeStamps.physical(startTs) + ttl < TimeStamps.physical(currentTs);
    }

    /** The lock as TiKV reports it to clients ({@code Lock::into_lock_info}). */
    public Kvrpcpb.LockInfo toLockInfo(byte[] key) {
        Kvrpcpb.LockInfo.Builder info =
                Kvrpcpb.LockInfo.newBuilder()
                        .setPrimaryLock(ByteString.copyFrom(primary))
                        .setLockVersion(startTs)
                        .setKey(ByteString.copyFrom(key))
                        .setLockTtl(ttl)
                        .setTxnSize(txnSize)
                        .setLockType(type == Kvrpcpb.Op.Del ? Kvrpcpb.Op.Del : type)
                        .setLockForUpdateTs(forUpdateTs)
                        .setUseAsyncCommit(useAsyncCommit)
                        .setMinCommitTs(minCommitTs);
        for (byte[] s : secondaries) {
            info.addSecondaries(ByteString.copyFrom(s));
        }
        return info.build();
    }
}
