package io.tiflink.minicluster.tikv;

import io.tiflink.minicluster.codec.KeyCodec;
import io.tiflink.minicluster.fault.FaultInjector;
import io.tiflink.minicluster.region.Region;
import io.tiflink.minicluster.region.RegionManager;
import io.tiflink.minicluster.txn.Percolator;

import org.tikv.kvproto.Errorpb;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.kvproto.TikvGrpc;
import org.tikv.shade.com.google.protobuf.ByteString;
import org.tikv.shade.io.grpc.Status;
import org.tikv.shade.io.grpc.stub.StreamObserver;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** The {@code tikvpb.Tikv} service of one store: region checks, then the transactional commands. */
public final class TikvService extends TikvGrpc.TikvImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(TikvService.class);

    private final long storeId;
    private final RegionManager regions;
    private final Percolator percolator;
    private final FaultInjector faults;
    private final ScheduledExecutorService delayer;

    public TikvService(
            long storeId,
            RegionManager regions,
            Percolator percolator,
            FaultInjector faults,
            ScheduledExecutorService delayer) {
        this.storeId = storeId;
        this.regions = regions;
        this.percolator = percolator;
        this.faults = faults;
        this.delayer = delayer;
    }

    /**
     * Runs one unary request: injected faults, region checks, then {@code handler} on the region. A
     * delay is served by rescheduling, never by blocking a gRPC thread.
     */
    private <R> void serve(
            Kvrpcpb.Context ctx,
            List<byte[]> keys,
            StreamObserver<R> observer,
            Function<Errorpb.Error, R> regionError,
            Function<Region, R> handler) {
        Long forwardedTo = ForwardingInterceptor.TARGET_STORE.get();
        long storeId = forwardedTo != null ? forwardedTo : this.storeId;
        Duration delay = faults.delayOf(storeId);
        Runnable run =
                () -> {
                    try {
                        Errorpb.Error injected = faults.takeRegionError(storeId, ctx.getRegionId());
                        R response;
                        if (injected != null) {
                            response = regionError.apply(injected);
                        } else {
                            RegionErrors.Checked checked =
                                    RegionErrors.check(storeId, regions, ctx, keys);
                            response =
                                    checked.error != null
                                            ? regionError.apply(checked.error)
                                            : handler.apply(checked.region);
                        }
                        observer.onNext(response);
                        observer.onCompleted();
                    } catch (RuntimeException e) {
                        LOG.warn("store {} failed a request", storeId, e);
                        observer.onError(
                                Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
                    }
                };
        if (delay.isZero()) {
            run.run();
        } else {
            delayer.schedule(run, delay.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private static List<byte[]> keys(List<ByteString> keys) {
        List<byte[]> raw = new ArrayList<>(keys.size());
        for (ByteString k : keys) {
            raw.add(k.toByteArray());
        }
        return raw;
    }

    private static List<byte[]> mutationKeys(List<Kvrpcpb.Mutation> mutations) {
        List<byte[]> raw = new ArrayList<>(mutations.size());
        for (Kvrpcpb.Mutation m : mutations) {
            raw.add(m.getKey().toByteArray());
        }
        return raw;
    }

    @Override
    public void kvGet(Kvrpcpb.GetRequest req, StreamObserver<Kvrpcpb.GetResponse> obs) {
        serve(
                req.getContext(),
                List.of(req.getKey().toByteArray()),
                obs,
                e -> Kvrpcpb.GetResponse.newBuilder().setRegionError(e).build(),
                region -> percolator.kvGet(req));
    }

    /**
     * RawGet. Under API V1 the raw key space is separate from transactional data, which is all this
     * store holds, so the key is never found; client-java probes leaders with this call.
     */
    @Override
    public void rawGet(Kvrpcpb.RawGetRequest req, StreamObserver<Kvrpcpb.RawGetResponse> obs) {
        serve(
                req.getContext(),
                List.of(req.getKey().toByteArray()),
                obs,
                e -> Kvrpcpb.RawGetResponse.newBuilder().setRegionError(e).build(),
                region -> Kvrpcpb.RawGetResponse.newBuilder().setNotFound(true).build());
    }

    @Override
    public void kvBatchGet(
            Kvrpcpb.BatchGetRequest req, StreamObserver<Kvrpcpb.BatchGetResponse> obs) {
        serve(
                req.getContext(),
                keys(req.getKeysList()),
                obs,
                e -> Kvrpcpb.BatchGetResponse.newBuilder().setRegionError(e).build(),
                region -> percolator.kvBatchGet(req));
    }

    @Override
    public void kvScan(Kvrpcpb.ScanRequest req, StreamObserver<Kvrpcpb.ScanResponse> obs) {
        byte[] start = req.getStartKey().toByteArray();
        // A reverse scan's start key is its exclusive upper bound.
        List<byte[]> checked = req.getReverse() ? List.of() : List.of(start);
        serve(
                req.getContext(),
                checked,
                obs,
                e -> Kvrpcpb.ScanResponse.newBuilder().setRegionError(e).build(),
                region -> {
                    // TiKV reads a region snapshot: the scan never leaves the region.
                    byte[] end = req.getEndKey().toByteArray();
                    byte[] lower;
                    byte[] upper;
                    if (req.getReverse()) {
                        upper = clampUpper(start, region.end);
                        lower = KeyCodec.compare(end, region.start) > 0 ? end : region.start;
                    } else {
                        lower = start;
                        upper = clampUpper(end, region.end);
                    }
                    int limit = req.getLimit() <= 0 ? Integer.MAX_VALUE : req.getLimit();
                    List<Kvrpcpb.KvPair> pairs =
                            percolator.scan(
                                    req.getReverse() ? upper : lower,
                                    req.getReverse() ? lower : upper,
                                    limit,
                                    req.getKeyOnly(),
                                    req.getReverse(),
                                    Percolator.ReadContext.of(req.getVersion(), req.getContext()));
                    return Kvrpcpb.ScanResponse.newBuilder().addAllPairs(pairs).build();
                });
    }

    /** The smaller of two exclusive upper bounds, where empty means unbounded. */
    private static byte[] clampUpper(byte[] requested, byte[] regionEnd) {
        if (requested.length == 0) {
            return regionEnd;
        }
        if (regionEnd.length == 0) {
            return requested;
        }
        return KeyCodec.compare(requested, regionEnd) < 0 ? requested : regionEnd;
    }

    @Override
    public void kvPrewrite(
            Kvrpcpb.PrewriteRequest req, StreamObserver<Kvrpcpb.PrewriteResponse> obs) {
        serve(
                req.getContext(),
                mutationKeys(req.getMutationsList()),
                obs,
                e -> Kvrpcpb.PrewriteResponse.newBuilder().setRegionError(e).build(),
                region -> percolator.prewrite(req));
    }

    @Override
    public void kvCommit(Kvrpcpb.CommitRequest req, StreamObserver<Kvrpcpb.CommitResponse> obs) {
        serve(
                req.getContext(),
                keys(req.getKeysList()),
                obs,
                e -> Kvrpcpb.CommitResponse.newBuilder().setRegionError(e).build(),
                region -> percolator.commit(req));
    }

    @Override
    public void kvCleanup(Kvrpcpb.CleanupRequest req, StreamObserver<Kvrpcpb.CleanupResponse> obs) {
        serve(
                req.getContext(),
                List.of(req.getKey().toByteArray()),
                obs,
                e -> Kvrpcpb.CleanupResponse.newBuilder().setRegionError(e).build(),
                region -> percolator.cleanup(req));
    }

    @Override
    public void kvBatchRollback(
            Kvrpcpb.BatchRollbackRequest req, StreamObserver<Kvrpcpb.BatchRollbackResponse> obs) {
        serve(
                req.getContext(),
                keys(req.getKeysList()),
                obs,
                e -> Kvrpcpb.BatchRollbackResponse.newBuilder().setRegionError(e).build(),
                region -> percolator.batchRollback(req));
    }

    @Override
    public void kvPessimisticLock(
            Kvrpcpb.PessimisticLockRequest req,
            StreamObserver<Kvrpcpb.PessimisticLockResponse> obs) {
        serve(
                req.getContext(),
                mutationKeys(req.getMutationsList()),
                obs,
                e -> Kvrpcpb.PessimisticLockResponse.newBuilder().setRegionError(e).build(),
                region -> percolator.pessimisticLock(req));
    }

    @Override
    public void kvCheckSecondaryLocks(
            Kvrpcpb.CheckSecondaryLocksRequest req,
            StreamObserver<Kvrpcpb.CheckSecondaryLocksResponse> obs) {
        serve(
                req.getContext(),
                keys(req.getKeysList()),
                obs,
                e -> Kvrpcpb.CheckSecondaryLocksResponse.newBuilder().setRegionError(e).build(),
                region -> percolator.checkSecondaryLocks(req));
    }

    @Override
    public void kVPessimisticRollback(
            Kvrpcpb.PessimisticRollbackRequest req,
            StreamObserver<Kvrpcpb.PessimisticRollbackResponse> obs) {
        serve(
                req.getContext(),
                keys(req.getKeysList()),
                obs,
                e -> Kvrpcpb.PessimisticRollbackResponse.newBuilder().setRegionError(e).build(),
                region -> percolator.pessimisticRollback(req));
    }

    @Override
    public void kvCheckTxnStatus(
            Kvrpcpb.CheckTxnStatusRequest req, StreamObserver<Kvrpcpb.CheckTxnStatusResponse> obs) {
        serve(
                req.getContext(),
                List.of(req.getPrimaryKey().toByteArray()),
                obs,
                e -> Kvrpcpb.CheckTxnStatusResponse.newBuilder().setRegionError(e).build(),
                region -> percolator.checkTxnStatus(req));
    }

    @Override
    public void kvTxnHeartBeat(
            Kvrpcpb.TxnHeartBeatRequest req, StreamObserver<Kvrpcpb.TxnHeartBeatResponse> obs) {
        serve(
                req.getContext(),
                List.of(req.getPrimaryLock().toByteArray()),
                obs,
                e -> Kvrpcpb.TxnHeartBeatResponse.newBuilder().setRegionError(e).build(),
                region -> percolator.txnHeartBeat(req));
    }

    @Override
    public void kvResolveLock(
            Kvrpcpb.ResolveLockRequest req, StreamObserver<Kvrpcpb.ResolveLockResponse> obs) {
        serve(
                req.getContext(),
                keys(req.getKeysList()),
                obs,
                e -> Kvrpcpb.ResolveLockResponse.newBuilder().setRegionError(e).build(),
                region -> percolator.resolveLock(req, region.start, region.end));
    }

    @Override
    public void kvScanLock(
            Kvrpcpb.ScanLockRequest req, StreamObserver<Kvrpcpb.ScanLockResponse> obs) {
        serve(
                req.getContext(),
                List.of(),
                obs,
                e -> Kvrpcpb.ScanLockResponse.newBuilder().setRegionError(e).build(),
                region -> {
                    byte[] start = req.getStartKey().toByteArray();
                    if (KeyCodec.compare(start, region.start) < 0) {
                        start = region.start;
                    }
                    byte[] end = clampUpper(req.getEndKey().toByteArray(), region.end);
                    return Kvrpcpb.ScanLockResponse.newBuilder()
                            .addAllLocks(
                                    percolator.scanLocks(
                                            start, end, req.getMaxVersion(), req.getLimit()))
                            .build();
                });
    }

    @Override
    public void splitRegion(
            Kvrpcpb.SplitRegionRequest req, StreamObserver<Kvrpcpb.SplitRegionResponse> obs) {
        List<byte[]> splitKeys = keys(req.getSplitKeysList());
        if (!req.getSplitKey().isEmpty()) {
            splitKeys.add(req.getSplitKey().toByteArray());
        }
        serve(
                req.getContext(),
                splitKeys,
                obs,
                e -> Kvrpcpb.SplitRegionResponse.newBuilder().setRegionError(e).build(),
                region -> {
                    regions.split(splitKeys);
                    Kvrpcpb.SplitRegionResponse.Builder resp =
                            Kvrpcpb.SplitRegionResponse.newBuilder();
                    for (Region r : regions.all()) {
                        if (overlaps(r, region)) {
                            resp.addRegions(r.toProto());
                        }
                    }
                    if (resp.getRegionsCount() == 2) {
                        resp.setLeft(resp.getRegions(0)).setRight(resp.getRegions(1));
                    }
                    return resp.build();
                });
    }

    private static boolean overlaps(Region r, Region range) {
        boolean startsBeforeEnd = range.end.length == 0 || KeyCodec.compare(r.start, range.end) < 0;
        boolean endsAfterStart = r.end.length == 0 || KeyCodec.compare(r.end, range.start) > 0;
        return startsBeforeEnd && endsAfterStart;
    }
}
