package io.tiflink.tikv.txn;

import io.tiflink.tikv.Keys;

import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Settles the locks of async-commit transactions whose client is gone, as client-go's lock resolver
 * does (txnkv/txnlock/lock_resolver.go). tikv-client-java 3.3.5 cannot: it has no
 * CheckSecondaryLocks, and TiKV never rolls back an async-commit primary by its TTL, so its
 * resolver takes such a transaction for a live one forever.
 *
 * <p>Per transaction: CheckTxnStatus on the primary. A committed or rolled-back primary decides. A
 * live one (TTL not expired) is left alone. An expired async-commit primary is decided from its
 * secondaries (CheckSecondaryLocks, per region): if every key is still locked by the transaction,
 * all its prewrites succeeded, so it is committed, at the largest {@code min_commit_ts} (what its
 * client would have chosen); if a key was committed, at that key's commit ts; otherwise (a key
 * never prewritten, now marked rolled back by TiKV) it is rolled back. ResolveLock then applies the
 * decision to the locks found and the primary, per region.
 *
 * <p>Each RPC is retried through region errors for the {@link TxnClient}'s retry budget.
 */
public final class AsyncCommitLockResolver {
    private static final Logger LOG = LoggerFactory.getLogger(AsyncCommitLockResolver.class);

    /** A TSO is physical milliseconds shifted left by 18 bits, plus a logical counter. */
    private static final int PHYSICAL_SHIFT = 18;

    private final TxnClient txn;

    public AsyncCommitLockResolver(TxnClient txn) {
        this.txn = txn;
    }

    /**
     * Settles the transactions holding {@code locks} whose fate is decided or whose lock expired.
     *
     * @return how many of the transactions are alive, and were left alone
     */
    public int resolve(List<Kvrpcpb.LockInfo> locks) {
        Map<Long, List<Kvrpcpb.LockInfo>> byTxn = new LinkedHashMap<>();
        for (Kvrpcpb.LockInfo l : locks) {
            byTxn.computeIfAbsent(l.getLockVersion(), ts -> new ArrayList<>()).add(l);
        }
        int alive = 0;
        for (List<Kvrpcpb.LockInfo> txnLocks : byTxn.values()) {
            if (!resolveTxn(txnLocks, false)) {
                alive++;
            }
        }
        return alive;
    }

    /** Settles one transaction's locks; false if it is alive. */
    private boolean resolveTxn(List<Kvrpcpb.LockInfo> locks, boolean forceSyncCommit) {
        Kvrpcpb.LockInfo lock = locks.get(0);
        long startTs = lock.getLockVersion();
        ByteString primary = lock.getPrimaryLock();
        long now = txn.timestamp();
        Kvrpcpb.CheckTxnStatusResponse status =
                txn.checkTxnStatus(
                        primary.toByteArray(),
                        startTs,
                        now,
                        // A primary never written cannot be written any more once a lock of the
                        // transaction has expired: TiKV marks it rolled back.
                        expired(startTs, lock.getLockTtl(), now),
                        forceSyncCommit);
        if (status.hasError()) {
            if (status.getError().hasTxnNotFound()) {
                return false; // its client is still writing the primary
            }
            throw new TxnException(
                    "checking transaction "
                            + startTs
                            + " at "
                            + Keys.hex(primary.toByteArray())
                            + " failed: "
                            + status.getError());
        }
        Set<ByteString> keys = new LinkedHashSet<>();
        locks.forEach(l -> keys.add(l.getKey()));
        long commitTs;
        if (status.hasLockInfo() && status.getLockInfo().getUseAsyncCommit() && !forceSyncCommit) {
            if (!expired(startTs, status.getLockTtl(), now)) {
                return false;
            }
            Decision d = decide(status.getLockInfo());
            if (d == null) {
                // A secondary is not an async-commit lock: settle it as 2PC (client-go does too).
                return resolveTxn(locks, true);
            }
            commitTs = d.commitTs;
            keys.addAll(d.lockedKeys);
            keys.add(primary);
        } else if (status.getLockTtl() != 0) {
            return false; // a live primary, or one TiKV did not roll back yet
        } else {
            commitTs = status.getCommitVersion();
        }
        LOG.info(
                "settling transaction {} (primary {}): {}",
                startTs,
                Keys.hex(primary.toByteArray()),
                commitTs == 0 ? "rolled back" : "committed at " + commitTs);
        txn.resolveKeys(new ArrayList<>(keys), startTs, commitTs);
        return true;
    }

    /** An expired async-commit transaction's fate, and the keys still locked by it. */
    private static final class Decision {
        long commitTs;
        final List<ByteString> lockedKeys = new ArrayList<>();
        boolean missingLock;
    }

    /** Decides from the secondaries; null if one of them is not an async-commit lock. */
    private Decision decide(Kvrpcpb.LockInfo primaryLock) {
        long startTs = primaryLock.getLockVersion();
        Decision d = new Decision();
        d.commitTs = primaryLock.getMinCommitTs();
        for (TxnClient.SecondaryLocks region :
                txn.checkSecondaryLocks(primaryLock.getSecondariesList(), startTs)) {
            if (!region.allLocked()) {
                // Committed (at that ts) or rolled back (0): every region must agree.
                if (d.missingLock && d.commitTs != region.commitTs) {
                    throw new TxnException(
                            "transaction "
                                    + startTs
                                    + " found committed at "
                                    + region.commitTs
                                    + " and at "
                                    + d.commitTs);
                }
                d.missingLock = true;
                d.commitTs = region.commitTs;
                continue;
            }
            for (Kvrpcpb.LockInfo l : region.locks) {
                if (l.getLockVersion() != startTs) {
                    throw new TxnException(
                            "checking the secondaries of transaction "
                                    + startTs
                                    + " found a lock of "
                                    + l.getLockVersion());
                }
                if (!l.getUseAsyncCommit()) {
                    return null;
                }
                if (!d.missingLock) {
                    d.commitTs = Math.max(d.commitTs, l.getMinCommitTs());
                }
                d.lockedKeys.add(l.getKey());
            }
        }
        return d;
    }

    /** Whether a lock of {@code startTs} with {@code ttlMillis} has expired at {@code now}. */
    private static boolean expired(long startTs, long ttlMillis, long now) {
        return (now >>> PHYSICAL_SHIFT) >= (startTs >>> PHYSICAL_SHIFT) + ttlMillis;
    }
}
