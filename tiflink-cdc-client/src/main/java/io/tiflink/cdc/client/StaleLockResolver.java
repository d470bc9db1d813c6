package io.tiflink.cdc.client;

import io.tiflink.tikv.txn.AsyncCommitLockResolver;
import io.tiflink.tikv.txn.TxnClient;

import org.tikv.common.TiSession;
import org.tikv.common.region.TiRegion;
import org.tikv.common.region.TiStore;
import org.tikv.common.util.ConcreteBackOffer;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.kvproto.TikvGrpc;
import org.tikv.shade.com.google.protobuf.ByteString;
import org.tikv.txn.AbstractLockResolverClient;
import org.tikv.txn.Lock;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Resolves the locks that hold a region's resolved ts back, as TiCDC does: scan the region's locks
 * older than a bound, ask each transaction's primary for its fate (CheckTxnStatus, which rolls back
 * an expired one), then commit or roll back the lock (ResolveLock). Locks of live transactions are
 * left alone. Async-commit locks are settled by tiflink-tikv's {@link AsyncCommitLockResolver}
 * (from their secondaries), other locks by tikv-client-java's lock resolver. Pessimistic locks are
 * skipped: they hold no resolved ts, and only their transaction's prewrite makes them matter.
 */
final class StaleLockResolver {
    private static final int SCAN_LIMIT = 1024;

    private final TiSession session;
    private final AsyncCommitLockResolver asyncCommitResolver;

    StaleLockResolver(TiSession session) {
        this.session = session;
        this.asyncCommitResolver = new AsyncCommitLockResolver(new TxnClient(session));
    }

    /**
     * Resolves the region's locks with start ts at or below {@code maxVersion}, transaction by
     * transaction (as many requests as for all at once: one status check per transaction).
     *
     * @return how many of the locks were settled; those of live transactions are left alone
     */
    int resolve(TiRegion region, long maxVersion) {
        Map<Long, List<Kvrpcpb.LockInfo>> asyncCommit = new LinkedHashMap<>();
        Map<Long, List<Lock>> twoPc = new LinkedHashMap<>();
        for (Kvrpcpb.LockInfo info : scanLocks(region, maxVersion)) {
            if (info.getUseAsyncCommit()) {
                asyncCommit
                        .computeIfAbsent(info.getLockVersion(), ts -> new ArrayList<>())
                        .add(info);
            } else if (info.getLockType() != Kvrpcpb.Op.PessimisticLock) {
                twoPc.computeIfAbsent(info.getLockVersion(), ts -> new ArrayList<>())
                        .add(new Lock(info, session.getPDClient().getCodec()));
            }
        }
        int resolved = 0;
        for (List<Kvrpcpb.LockInfo> txnLocks : asyncCommit.values()) {
            if (asyncCommitResolver.resolve(txnLocks) == 0) {
                resolved += txnLocks.size();
            }
        }
        if (twoPc.isEmpty()) {
            return resolved;
        }
        AbstractLockResolverClient resolver =
                session.getRegionStoreClientBuilder().build(region).lockResolverClient;
        for (List<Lock> txnLocks : twoPc.values()) {
            // Time left before a lock expires: zero once its transaction was settled.
            if (resolver.resolveLocks(backOffer(), 0, txnLocks, false).getMsBeforeTxnExpired()
                    == 0) {
                resolved += txnLocks.size();
            }
        }
        return resolved;
    }

    private List<Kvrpcpb.LockInfo> scanLocks(TiRegion region, long maxVersion) {
        TiStore store = session.getRegionManager().getStoreById(region.getLeader().getStoreId());
        TikvGrpc.TikvBlockingStub stub =
                TikvGrpc.newBlockingStub(
                        session.getChannelFactory()
                                .getChannel(
                                        store.getStore().getAddress(),
                                        session.getPDClient().getHostMapping()));
        List<Kvrpcpb.LockInfo> locks = new ArrayList<>();
        ByteString start = region.getStartKey();
        while (true) {
            Kvrpcpb.ScanLockResponse resp =
                    stub.withDeadlineAfter(session.getConf().getTimeout(), TimeUnit.MILLISECONDS)
                            .kvScanLock(
                                    Kvrpcpb.ScanLockRequest.newBuilder()
                                            .setContext(region.getLeaderContext())
                                            .setMaxVersion(maxVersion)
                                            .setStartKey(start)
                                            .setEndKey(region.getEndKey())
                                            .setLimit(SCAN_LIMIT)
                                            .build());
            if (resp.hasRegionError()) {
                session.getRegionManager().invalidateRegion(region);
                throw new CdcException(
                        "scanning locks of region "
                                + region.getId()
                                + ": "
                                + resp.getRegionError());
            }
            if (resp.hasError()) {
                throw new CdcException(
                        "scanning locks of region " + region.getId() + ": " + resp.getError());
            }
            locks.addAll(resp.getLocksList());
            if (resp.getLocksCount() < SCAN_LIMIT) {
                return locks;
            }
            start =
                    resp.getLocks(resp.getLocksCount() - 1)
                            .getKey()
                            .concat(ByteString.copyFrom(new byte[1]));
        }
    }

    private ConcreteBackOffer backOffer() {
        return ConcreteBackOffer.newCustomBackOff(
                (int) Math.max(5_000, session.getConf().getTimeout() * 10));
    }
}
