package io.tiflink.minicluster.pd;

import io.tiflink.minicluster.fault.FaultInjector;
import io.tiflink.minicluster.region.IdAllocator;
import io.tiflink.minicluster.region.Region;
import io.tiflink.minicluster.region.RegionManager;
import io.tiflink.minicluster.storage.TimeStamps;

import org.tikv.kvproto.Metapb;
import org.tikv.kvproto.PDGrpc;
import org.tikv.kvproto.Pdpb;
import org.tikv.shade.com.google.protobuf.ByteString;
import org.tikv.shade.io.grpc.Status;
import org.tikv.shade.io.grpc.stub.StreamObserver;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** The {@code pdpb.PD} service: members, TSO, region and store lookups, GC safe points. */
public final class PdService extends PDGrpc.PDImplBase {
    private final long clusterId;
    private final Pdpb.Member member;
    private final TsoAllocator tso;
    private final RegionManager regions;
    private final IdAllocator ids;
    private final GcSafePoints safePoints;
    private final Supplier<List<Metapb.Store>> stores;
    private final FaultInjector faults;
    private final ScheduledExecutorService delayer;

    public PdService(
            long clusterId,
            Pdpb.Member member,
            TsoAllocator tso,
            RegionManager regions,
            IdAllocator ids,
            GcSafePoints safePoints,
            Supplier<List<Metapb.Store>> stores,
            FaultInjector faults,
            ScheduledExecutorService delayer) {
        this.clusterId = clusterId;
        this.member = member;
        this.tso = tso;
        this.regions = regions;
        this.ids = ids;
        this.safePoints = safePoints;
        this.stores = stores;
        this.faults = faults;
        this.delayer = delayer;
    }

    private Pdpb.ResponseHeader header() {
        return Pdpb.ResponseHeader.newBuilder().setClusterId(clusterId).build();
    }

    private Pdpb.ResponseHeader errorHeader(Pdpb.ErrorType type, String message) {
        return Pdpb.ResponseHeader.newBuilder()
                .setClusterId(clusterId)
                .setError(Pdpb.Error.newBuilder().setType(type).setMessage(message))
                .build();
    }

    /** PD's validateRequest: a wrong cluster id fails the call with FAILED_PRECONDITION. */
    private boolean validate(Pdpb.RequestHeader header, StreamObserver<?> observer) {
        if (header.getClusterId() != clusterId) {
            observer.onError(
                    Status.FAILED_PRECONDITION
                            .withDescription(
                                    "mismatch cluster id, need "
                                            + clusterId
                                            + " but got "
                                            + header.getClusterId())
                            .asRuntimeException());
            return false;
        }
        return true;
    }

    private <R> void reply(StreamObserver<R> observer, Supplier<R> response) {
        Runnable run =
                () -> {
                    R r;
                    try {
                        r = response.get();
                    } catch (IllegalArgumentException e) {
                        // PD returns such errors (e.g. on gc_worker's safe point) as a failed call.
                        observer.onError(
                                Status.UNKNOWN
                                        .withDescription(e.getMessage())
                                        .asRuntimeException());
                        return;
                    }
                    observer.onNext(r);
                    observer.onCompleted();
                };
        Duration delay = faults.delayOf(FaultInjector.PD);
        if (delay.isZero()) {
            run.run();
        } else {
            delayer.schedule(run, delay.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void getMembers(
            Pdpb.GetMembersRequest req, StreamObserver<Pdpb.GetMembersResponse> obs) {
        // PD does not check the cluster id here: this is how clients learn it.
        reply(
                obs,
                () ->
                        Pdpb.GetMembersResponse.newBuilder()
                                .setHeader(header())
                                .addMembers(member)
                                .setLeader(member)
                                .setEtcdLeader(member)
                                .build());
    }

    @Override
    public StreamObserver<Pdpb.TsoRequest> tso(StreamObserver<Pdpb.TsoResponse> responses) {
        return new StreamObserver<>() {
            private boolean failed;

            @Override
            public void onNext(Pdpb.TsoRequest req) {
                if (failed) {
                    return;
                }
                if (req.getHeader().getClusterId() != clusterId) {
                    failed = true;
                    responses.onError(
                            Status.FAILED_PRECONDITION
                                    .withDescription(
                                            "mismatch cluster id, need "
                                                    + clusterId
                                                    + " but got "
                                                    + req.getHeader().getClusterId())
                                    .asRuntimeException());
                    return;
                }
                if (req.getCount() == 0) {
                    // PD's GenerateTSO refuses an empty batch; the stream ends with Unknown.
                    failed = true;
                    responses.onError(
                            Status.UNKNOWN
                                    .withDescription(
                                            "[PD:tso:ErrGenerateTimestamp]generate timestamp"
                                                    + " failed, tso count should be positive")
                                    .asRuntimeException());
                    return;
                }
                int count = req.getCount();
                long ts = tso.allocate(count);
                responses.onNext(
                        Pdpb.TsoResponse.newBuilder()
                                .setHeader(header())
                                .setCount(count)
                                .setTimestamp(
                                        Pdpb.Timestamp.newBuilder()
                                                .setPhysical(TimeStamps.physical(ts))
                                                .setLogical(TimeStamps.logical(ts)))
                                .build());
            }

            @Override
            public void onError(Throwable t) {
                // The client went away; nothing to clean up.
            }

            @Override
            public void onCompleted() {
                if (!failed) {
                    responses.onCompleted();
                }
            }
        };
    }

    private Pdpb.GetRegionResponse regionResponse(Region r) {
        Pdpb.GetRegionResponse.Builder resp =
                Pdpb.GetRegionResponse.newBuilder().setHeader(header());
        if (r != null) {
            resp.setRegion(r.toProto()).setLeader(r.leader());
        }
        return resp.build();
    }

    @Override
    public void getRegion(Pdpb.GetRegionRequest req, StreamObserver<Pdpb.GetRegionResponse> obs) {
        if (validate(req.getHeader(), obs)) {
            reply(
                    obs,
                    () -> regionResponse(regions.locateEncoded(req.getRegionKey().toByteArray())));
        }
    }

    @Override
    public void getPrevRegion(
            Pdpb.GetRegionRequest req, StreamObserver<Pdpb.GetRegionResponse> obs) {
        if (validate(req.getHeader(), obs)) {
            reply(
                    obs,
                    () -> {
                        Region r = regions.locateEncoded(req.getRegionKey().toByteArray());
                        return regionResponse(r == null ? null : regions.leftSibling(r));
                    });
        }
    }

    @Override
    public void getRegionByID(
            Pdpb.GetRegionByIDRequest req, StreamObserver<Pdpb.GetRegionResponse> obs) {
        if (validate(req.getHeader(), obs)) {
            reply(obs, () -> regionResponse(regions.byId(req.getRegionId())));
        }
    }

    @Override
    public void scanRegions(
            Pdpb.ScanRegionsRequest req, StreamObserver<Pdpb.ScanRegionsResponse> obs) {
        if (validate(req.getHeader(), obs)) {
            reply(
                    obs,
                    () -> {
                        Pdpb.ScanRegionsResponse.Builder resp =
                                Pdpb.ScanRegionsResponse.newBuilder().setHeader(header());
                        for (Region r :
                                regions.scanEncoded(
                                        req.getStartKey().toByteArray(),
                                        req.getEndKey().toByteArray(),
                                        req.getLimit())) {
                            resp.addRegionMetas(r.toProto())
                                    .addLeaders(r.leader())
                                    .addRegions(
                                            Pdpb.Region.newBuilder()
                                                    .setRegion(r.toProto())
                                                    .setLeader(r.leader()));
                        }
                        return resp.build();
                    });
        }
    }

    @Override
    public void getStore(Pdpb.GetStoreRequest req, StreamObserver<Pdpb.GetStoreResponse> obs) {
        if (validate(req.getHeader(), obs)) {
            reply(
                    obs,
                    () -> {
                        for (Metapb.Store s : stores.get()) {
                            if (s.getId() == req.getStoreId()) {
                                return Pdpb.GetStoreResponse.newBuilder()
                                        .setHeader(header())
                                        .setStore(s)
                                        .build();
                            }
                        }
                        return Pdpb.GetStoreResponse.newBuilder()
                                .setHeader(
                                        errorHeader(
                                                Pdpb.ErrorType.UNKNOWN,
                                                "invalid store ID "
                                                        + req.getStoreId()
                                                        + ", not found"))
                                .build();
                    });
        }
    }

    @Override
    public void getAllStores(
            Pdpb.GetAllStoresRequest req, StreamObserver<Pdpb.GetAllStoresResponse> obs) {
        if (validate(req.getHeader(), obs)) {
            reply(
                    obs,
                    () -> {
                        Pdpb.GetAllStoresResponse.Builder resp =
                                Pdpb.GetAllStoresResponse.newBuilder().setHeader(header());
                        for (Metapb.Store s : stores.get()) {
                            if (!req.getExcludeTombstoneStores()
                                    || s.getState() != Metapb.StoreState.Tombstone) {
                                resp.addStores(s);
                            }
                        }
                        return resp.build();
                    });
        }
    }

    @Override
    public void isBootstrapped(
            Pdpb.IsBootstrappedRequest req, StreamObserver<Pdpb.IsBootstrappedResponse> obs) {
        if (validate(req.getHeader(), obs)) {
            reply(
                    obs,
                    () ->
                            Pdpb.IsBootstrappedResponse.newBuilder()
                                    .setHeader(header())
                                    .setBootstrapped(true)
                                    .build());
        }
    }

    @Override
    public void allocID(Pdpb.AllocIDRequest req, StreamObserver<Pdpb.AllocIDResponse> obs) {
        if (validate(req.getHeader(), obs)) {
            reply(
                    obs,
                    () ->
                            Pdpb.AllocIDResponse.newBuilder()
                                    .setHeader(header())
                                    .setId(ids.allocate())
                                    .build());
        }
    }

    @Override
    public void getClusterConfig(
            Pdpb.GetClusterConfigRequest req, StreamObserver<Pdpb.GetClusterConfigResponse> obs) {
        if (validate(req.getHeader(), obs)) {
            reply(
                    obs,
                    () ->
                            Pdpb.GetClusterConfigResponse.newBuilder()
                                    .setHeader(header())
                                    .setCluster(
                                            Metapb.Cluster.newBuilder()
                                                    .setId(clusterId)
                                                    .setMaxPeerCount(stores.get().size()))
                                    .build());
        }
    }

    @Override
    public void getGCSafePoint(
            Pdpb.GetGCSafePointRequest req, StreamObserver<Pdpb.GetGCSafePointResponse> obs) {
        if (validate(req.getHeader(), obs)) {
            reply(
                    obs,
                    () ->
                            Pdpb.GetGCSafePointResponse.newBuilder()
                                    .setHeader(header())
                                    .setSafePoint(safePoints.gcSafePoint())
                                    .build());
        }
    }

    @Override
    public void updateGCSafePoint(
            Pdpb.UpdateGCSafePointRequest req, StreamObserver<Pdpb.UpdateGCSafePointResponse> obs) {
        if (validate(req.getHeader(), obs)) {
            reply(
                    obs,
                    () ->
                            Pdpb.UpdateGCSafePointResponse.newBuilder()
                                    .setHeader(header())
                                    .setNewSafePoint(
                                            safePoints.updateGcSafePoint(req.getSafePoint()))
                                    .build());
        }
    }

    @Override
    public void updateServiceGCSafePoint(
            Pdpb.UpdateServiceGCSafePointRequest req,
            StreamObserver<Pdpb.UpdateServiceGCSafePointResponse> obs) {
        if (validate(req.getHeader(), obs)) {
            reply(
                    obs,
                    () -> {
                        long nowSec = TimeStamps.physical(tso.next()) / 1000;
                        GcSafePoints.ServiceSafePoint min =
                                safePoints.updateServiceSafePoint(
                                        req.getServiceId().toString(StandardCharsets.UTF_8),
                                        req.getSafePoint(),
                                        req.getTTL(),
                                        nowSec);
                        return Pdpb.UpdateServiceGCSafePointResponse.newBuilder()
                                .setHeader(header())
                                .setServiceId(ByteString.copyFromUtf8(min.serviceId))
                                .setTTL(
                                        // PD reports MaxInt64 - now for a safe point that never
                                        // expires.
                                        min.expiresAtSec - nowSec)
                                .setMinSafePoint(min.safePoint)
                                .build();
                    });
        }
    }

    @Override
    public void scatterRegion(
            Pdpb.ScatterRegionRequest req, StreamObserver<Pdpb.ScatterRegionResponse> obs) {
        if (validate(req.getHeader(), obs)) {
            // Every region already has a peer on every store: nothing to scatter.
            reply(obs, () -> Pdpb.ScatterRegionResponse.newBuilder().setHeader(header()).build());
        }
    }

    @Override
    public void getOperator(
            Pdpb.GetOperatorRequest req, StreamObserver<Pdpb.GetOperatorResponse> obs) {
        if (validate(req.getHeader(), obs)) {
            reply(
                    obs,
                    () ->
                            Pdpb.GetOperatorResponse.newBuilder()
                                    .setHeader(header())
                                    .setRegionId(req.getRegionId())
                                    .setStatus(Pdpb.OperatorStatus.SUCCESS)
                                    .build());
        }
    }
}
