package io.tiflink.minicluster.conformance;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.codec.KeyCodec;
import io.tiflink.minicluster.junit.MiniTiKVExtension;

import org.tikv.common.TiSession;
import org.tikv.common.util.ConcreteBackOffer;
import org.tikv.common.util.Pair;
import org.tikv.kvproto.Metapb;
import org.tikv.kvproto.Pdpb;
import org.tikv.shade.com.google.protobuf.ByteString;
import org.tikv.shade.io.grpc.Status;
import org.tikv.shade.io.grpc.StatusRuntimeException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** PD as the real client and raw gRPC see it: TSO, cluster-id validation, regions and stores. */
class PdConformanceITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(3).splitAt(Wire.bytes("pd-m")));

    @Test
    void tsoIsStrictlyIncreasingAcrossConcurrentCallers(MiniTiKVCluster cluster) throws Exception {
        int threads = 4;
        int perThread = 200;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (TiSession a = Wire.session(cluster);
                TiSession b = Wire.session(cluster)) {
            List<Future<long[]>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                TiSession s = t % 2 == 0 ? a : b;
                Callable<long[]> task =
                        () -> {
                            long[] seen = new long[perThread];
                            for (int i = 0; i < perThread; i++) {
                                seen[i] = s.getTimestamp().getVersion();
                            }
                            return seen;
                        };
                futures.add(pool.submit(task));
            }
            List<Long> all = new ArrayList<>();
            for (Future<long[]> f : futures) {
                long[] seen = f.get();
                for (int i = 1; i < seen.length; i++) {
                    // Each caller sees its own timestamps strictly increase.
                    assertThat(seen[i]).isGreaterThan(seen[i - 1]);
                }
                for (long ts : seen) {
                    all.add(ts);
                }
            }
            // No two callers ever get the same timestamp.
            assertThat(all).doesNotHaveDuplicates().hasSize(threads * perThread);
            // Physical part is wall-clock milliseconds, logical part below 2^18.
            long ts = a.getTimestamp().getVersion();
            assertThat(ts >>> 18)
                    .isCloseTo(
                            System.currentTimeMillis(),
                            org.assertj.core.data.Offset.offset(5_000L));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void tsoOverRawGrpcAnswersEachRequestOnOneStream(MiniTiKVCluster cluster) {
        try (Wire wire = new Wire(cluster)) {
            // The client calls the bidi Tso as a unary call: one request, one response, completed.
            Pdpb.TsoResponse resp =
                    org.tikv.shade.io.grpc.stub.ClientCalls.blockingUnaryCall(
                            wire.pd().getChannel(),
                            org.tikv.kvproto.PDGrpc.getTsoMethod(),
                            org.tikv.shade.io.grpc.CallOptions.DEFAULT.withDeadlineAfter(
                                    5, java.util.concurrent.TimeUnit.SECONDS),
                            Pdpb.TsoRequest.newBuilder()
                                    .setHeader(wire.pdHeader())
                                    .setCount(10)
                                    .build());
            assertThat(resp.getHeader().getClusterId()).isEqualTo(cluster.clusterId());
            assertThat(resp.getHeader().hasError()).isFalse();
            assertThat(resp.getCount()).isEqualTo(10);
            assertThat(resp.getTimestamp().getLogical()).isBetween(10L, (1L << 18) - 1);
            // With count n, PD returns the last timestamp of the batch: the next one is above it.
            long last =
                    (resp.getTimestamp().getPhysical() << 18) + resp.getTimestamp().getLogical();
            assertThat(cluster.currentTs()).isGreaterThan(last);

            assertThatThrownBy(
                            () ->
                                    org.tikv.shade.io.grpc.stub.ClientCalls.blockingUnaryCall(
                                            wire.pd().getChannel(),
                                            org.tikv.kvproto.PDGrpc.getTsoMethod(),
                                            org.tikv.shade.io.grpc.CallOptions.DEFAULT,
                                            Pdpb.TsoRequest.newBuilder()
                                                    .setHeader(
                                                            Pdpb.RequestHeader.newBuilder()
                                                                    .setClusterId(
                                                                            cluster.clusterId()
                                                                                    + 1))
                                                    .setCount(1)
                                                    .build()))
                    .isInstanceOfSatisfying(
                            StatusRuntimeException.class,
                            e ->
                                    assertThat(e.getStatus().getCode())
                                            .isEqualTo(Status.Code.FAILED_PRECONDITION));
        }
    }

    @Test
    void tsoWithCountZeroIsRefused(MiniTiKVCluster cluster) {
        try (Wire wire = new Wire(cluster)) {
            assertThatThrownBy(
                            () ->
                                    org.tikv.shade.io.grpc.stub.ClientCalls.blockingUnaryCall(
                                            wire.pd().getChannel(),
                                            org.tikv.kvproto.PDGrpc.getTsoMethod(),
                                            org.tikv.shade.io.grpc.CallOptions.DEFAULT,
                                            Pdpb.TsoRequest.newBuilder()
                                                    .setHeader(wire.pdHeader())
                                                    .build()))
                    .isInstanceOfSatisfying(
                            StatusRuntimeException.class,
                            e -> {
                                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNKNOWN);
                                assertThat(e.getStatus().getDescription())
                                        .contains("tso count should be positive");
                            });
        }
    }

    @Test
    void getMembersNeedsNoClusterIdAndNamesAReachableLeader(MiniTiKVCluster cluster) {
        try (Wire wire = new Wire(cluster)) {
            Pdpb.GetMembersResponse resp =
                    wire.pd()
                            .getMembers(
                                    Pdpb.GetMembersRequest.newBuilder()
                                            .setHeader(Pdpb.RequestHeader.getDefaultInstance())
                                            .build());
            assertThat(resp.getHeader().getClusterId()).isEqualTo(cluster.clusterId()).isNotZero();
            assertThat(resp.getLeader().getMemberId()).isNotZero();
            assertThat(resp.getLeader().getClientUrls(0))
                    .isEqualTo("http://" + cluster.pdAddress());
            assertThat(resp.getMembersList()).contains(resp.getLeader());
        }
    }

    @Test
    void wrongClusterIdOnGetRegionFailsPrecondition(MiniTiKVCluster cluster) {
        try (Wire wire = new Wire(cluster)) {
            Pdpb.GetRegionRequest wrong =
                    Pdpb.GetRegionRequest.newBuilder()
                            .setHeader(
                                    Pdpb.RequestHeader.newBuilder()
                                            .setClusterId(cluster.clusterId() ^ 0x5a5a))
                            .setRegionKey(
                                    ByteString.copyFrom(KeyCodec.encodeBytes(Wire.bytes("a"))))
                            .build();
            assertThatThrownBy(() -> wire.pd().getRegion(wrong))
                    .isInstanceOfSatisfying(
                            StatusRuntimeException.class,
                            e -> {
                                assertThat(e.getStatus().getCode())
                                        .isEqualTo(Status.Code.FAILED_PRECONDITION);
                                assertThat(e.getStatus().getDescription())
                                        .contains("mismatch cluster id");
                            });
        }
    }

    @Test
    void getRegionAnswersEncodedBoundariesAndALeaderAmongThePeers(MiniTiKVCluster cluster) {
        try (Wire wire = new Wire(cluster)) {
            Pdpb.GetRegionResponse resp =
                    wire.pd()
                            .getRegion(
                                    Pdpb.GetRegionRequest.newBuilder()
                                            .setHeader(wire.pdHeader())
                                            .setRegionKey(
                                                    ByteString.copyFrom(
                                                            KeyCodec.encodeBytes(
                                                                    Wire.bytes("pd-z"))))
                                            .build());
            assertThat(resp.getHeader().hasError()).isFalse();
            Metapb.Region region = resp.getRegion();
            assertThat(region.getId()).isNotZero();
            assertThat(region.getStartKey().toByteArray())
                    .isEqualTo(KeyCodec.encodeBytes(Wire.bytes("pd-m")));
            assertThat(region.getRegionEpoch().getVersion()).isGreaterThanOrEqualTo(1);
            assertThat(region.getRegionEpoch().getConfVer()).isGreaterThanOrEqualTo(1);
            assertThat(region.getPeersList()).hasSize(3).contains(resp.getLeader());
        }
        // Through the client: PDClient decodes the boundaries back to raw keys.
        try (TiSession session = Wire.session(cluster)) {
            Pair<Metapb.Region, Metapb.Peer> pair =
                    session.getPDClient()
                            .getRegionByKey(
                                    ConcreteBackOffer.newCustomBackOff(5000), Wire.bs("pd-a"));
            assertThat(pair.first.getEndKey().toStringUtf8()).isEqualTo("pd-m");
            assertThat(pair.first.getPeersList()).contains(pair.second);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void getStoreOfAnUnknownIdAnswersAHeaderError(MiniTiKVCluster cluster) {
        try (Wire wire = new Wire(cluster)) {
            Pdpb.GetStoreResponse resp =
                    wire.pd()
                            .getStore(
                                    Pdpb.GetStoreRequest.newBuilder()
                                            .setHeader(wire.pdHeader())
                                            .setStoreId(987_654)
                                            .build());
            assertThat(resp.getHeader().hasError()).isTrue();
            assertThat(resp.getHeader().getError().getType()).isEqualTo(Pdpb.ErrorType.UNKNOWN);
            assertThat(resp.getHeader().getError().getMessage())
                    .contains("invalid store ID 987654, not found");
            assertThat(resp.hasStore()).isFalse();

            long known = cluster.storeIds().get(0);
            Pdpb.GetStoreResponse ok =
                    wire.pd()
                            .getStore(
                                    Pdpb.GetStoreRequest.newBuilder()
                                            .setHeader(wire.pdHeader())
                                            .setStoreId(known)
                                            .build());
            assertThat(ok.getHeader().hasError()).isFalse();
            assertThat(ok.getStore().getId()).isEqualTo(known);
            assertThat(ok.getStore().getAddress()).isEqualTo(cluster.storeAddress(known));
        }
    }

    @Test
    void getAllStoresListsEveryStoreAsUpWithVersion653(MiniTiKVCluster cluster) throws Exception {
        try (TiSession session = Wire.session(cluster)) {
            List<Metapb.Store> stores =
                    session.getPDClient().getAllStores(ConcreteBackOffer.newCustomBackOff(5000));
            assertThat(stores)
                    .extracting(Metapb.Store::getId)
                    .containsExactlyInAnyOrderElementsOf(cluster.storeIds());
            for (Metapb.Store s : stores) {
                assertThat(s.getVersion()).isEqualTo("6.5.3");
                assertThat(s.getState()).isEqualTo(Metapb.StoreState.Up);
                assertThat(s.getAddress()).isEqualTo(cluster.storeAddress(s.getId()));
                assertThat(s.getLabelsList())
                        .noneMatch(
                                l -> l.getKey().equals("engine") && l.getValue().equals("tiflash"));
            }
            // The client's own store lookup goes through GetStore.
            long id = cluster.storeIds().get(1);
            assertThat(session.getRegionManager().getStoreById(id).getStore().getAddress())
                    .isEqualTo(cluster.storeAddress(id));
        }
    }
}
