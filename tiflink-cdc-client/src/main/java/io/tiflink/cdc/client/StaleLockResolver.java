package io.tiflink.cdc.client;

import org.tikv.common.TiSession;
import org.tikv.common.region.TiRegion;
import org.tikv.common.region.TiStore;
import org.tikv.common.util.ConcreteBackOffer;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.kvproto.TikvGrpc;
import org.tikv.shade.com.google.protobuf.ByteString;
import org.tikv.txn.Lock;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Resolves the locks that hold a region's resolved ts back, as TiCDC does: scan the region's locks
 * older than a bound, ask each transaction's primary for its fate (CheckTxnStatus, which rolls back
 * an expired one), then commit or roll back the lock (ResolveLock). Locks of live transactions are
 * left alone. tikv-client-java's lock resolver does the last two steps.
 */
final class StaleLockResolver {
    private static final int SCAN_LIMIT = 1024;

    private final TiSession session;

    StaleLockResolver(TiSession session) {
        this.session = session;
    }

    /**
     * Resolves the region's locks with start ts at or below {@code maxVersion}.
     *
     * @return how many locks were found
     */
    int resolve(TiRegion region, long maxVersion) {
        List<Lock> locks = scanLocks(region, maxVersion);
        if (!locks.isEmpty()) {
            session.getRegionStoreClientBuilder()
                    .build(region)
                    .lockResolverClient
                    .resolveLocks(backOffer(), 0, locks, false);
        }
        return locks.size();
    }

    private List<Lock> scanLocks(TiRegion region, long maxVersion) {
        TiStore store = session.getRegionManager().getStoreById(region.getLeader().getStoreId());
        TikvGrpc.TikvBlockingStub stub =
                TikvGrpc.newBlockingStub(
                        session.getChannelFactory()
                                .getChannel(
                                        store.getStore().getAddress(),
                                        session.getPDClient().getHostMapping()));
        List<Lock> locks = new ArrayList<>();
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
            for (Kvrpcpb.LockInfo info : resp.getLocksList()) {
                locks.add(new Lock(info, session.getPDClient().getCodec()));
            }
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
