package io.tiflink.minicluster.conformance;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.codec.KeyCodec;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.region.Region;

import org.tikv.common.TiSession;
import org.tikv.common.region.TiRegion;
import org.tikv.kvproto.Errorpb;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.kvproto.Metapb;
import org.tikv.txn.KVClient;
import org.tikv.txn.TwoPhaseCommitter;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Region errors: the exact errorpb shapes over raw gRPC, and the real client recovering from each
 * with a stale region cache.
 */
class RegionErrorConformanceITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(3));

    private static long otherStore(MiniTiKVCluster cluster, long storeId) {
        return cluster.storeIds().stream().filter(s -> s != storeId).findFirst().orElseThrow();
    }

    private static Kvrpcpb.GetResponse rawGet(
            Wire wire, long storeId, Kvrpcpb.Context ctx, String key, long ts) {
        return wire.tikv(storeId)
                .kvGet(
                        Kvrpcpb.GetRequest.newBuilder()
                                .setContext(ctx)
                                .setKey(Wire.bs(key))
                                .setVersion(ts)
                                .build());
    }

    private static String read(TiSession session, String key) {
        try (KVClient kv = session.createKVClient()) {
            return kv.get(Wire.bs(key), session.getTimestamp().getVersion()).toStringUtf8();
        }
    }

    @Test
    void notLeaderAfterTransferLeaderIsFollowed(MiniTiKVCluster cluster) throws Exception {
        try (TiSession session = Wire.session(cluster);
                Wire wire = new Wire(cluster)) {
            Wire.commit(session, Wire.kvs("nl-a", "1", "nl-b", "2"));
            assertThat(read(session, "nl-a")).isEqualTo("1"); // caches region and leader
            Region before = wire.region("nl-a");
            long oldLeader = before.leaderStoreId;
            long newLeader = otherStore(cluster, oldLeader);
            Region after = cluster.transferLeader(before.id, newLeader);
            assertThat(after.version).isEqualTo(before.version);

            // The old leader answers NotLeader naming the new leader's peer.
            Kvrpcpb.GetResponse resp =
                    rawGet(wire, oldLeader, Wire.context(before), "nl-a", cluster.currentTs());
            Errorpb.Error err = resp.getRegionError();
            assertThat(err.hasNotLeader()).isTrue();
            assertThat(err.getNotLeader().getRegionId()).isEqualTo(before.id);
            assertThat(err.getNotLeader().getLeader()).isEqualTo(after.leader());
            assertThat(err.getNotLeader().getLeader().getStoreId()).isEqualTo(newLeader);
            assertThat(err.getMessage()).isNotEmpty();
            assertThat(resp.getValue().isEmpty()).isTrue();

            // The client, with its stale leader, follows the hint for reads and writes.
            assertThat(read(session, "nl-b")).isEqualTo("2");
            TiRegion cached = session.getRegionManager().getRegionByKey(Wire.bs("nl-a"));
            assertThat(cached.getLeader().getStoreId()).isEqualTo(newLeader);
            Wire.commit(session, Wire.kvs("nl-a", "10", "nl-c", "30"));
            assertThat(read(session, "nl-a")).isEqualTo("10");
            assertThat(read(session, "nl-c")).isEqualTo("30");
        }
    }

    @Test
    void rawGetProbesFindTheLeader(MiniTiKVCluster cluster) {
        // client-java's seekLeaderStore probes followers with RawGet after the leader's store
        // stops answering; only the leader answers without a region error.
        try (Wire wire = new Wire(cluster)) {
            Region r = wire.region("probe");
            for (long storeId : cluster.storeIds()) {
                Kvrpcpb.RawGetResponse resp =
                        wire.tikv(storeId)
                                .rawGet(
                                        Kvrpcpb.RawGetRequest.newBuilder()
                                                .setContext(
                                                        Wire.context(r).toBuilder()
                                                                .setPeer(r.peerOn(storeId)))
                                                .setKey(Wire.bs("probe"))
                                                .build());
                if (storeId == r.leaderStoreId) {
                    assertThat(resp.hasRegionError()).isFalse();
                } else {
                    assertThat(resp.getRegionError().hasNotLeader()).isTrue();
                    assertThat(resp.getRegionError().getNotLeader().getLeader())
                            .isEqualTo(r.leader());
                }
            }
        }
    }

    @Test
    void notLeaderWithoutAKnownLeaderMakesTheClientReload(MiniTiKVCluster cluster)
            throws Exception {
        try (TiSession session = Wire.session(cluster)) {
            Wire.commit(session, Wire.kvs("nn-a", "1"));
            Region r = cluster.regions().locate(Wire.bytes("nn-a"));
            cluster.faults().notLeader(r.leaderStoreId, r.id, null, 2);
            assertThat(read(session, "nn-a")).isEqualTo("1");
            // Both injected errors were served.
            assertThat(cluster.faults().takeRegionError(r.leaderStoreId, r.id)).isNull();
        }
    }

    @Test
    void epochNotMatchAfterSplitCarriesTheNewRegions(MiniTiKVCluster cluster) throws Exception {
        try (TiSession session = Wire.session(cluster);
                Wire wire = new Wire(cluster)) {
            Wire.commit(session, Wire.kvs("en-a", "1", "en-x", "2"));
            assertThat(read(session, "en-a")).isEqualTo("1");
            Region before = wire.region("en-a");
            cluster.split(Wire.bytes("en-m"));
            Region right = cluster.regions().byId(before.id);
            Region left = wire.region("en-a");
            // TiKV keeps the id on the right part and bumps the version of both.
            assertThat(right.start).isEqualTo(Wire.bytes("en-m"));
            assertThat(left.id).isNotEqualTo(before.id);
            assertThat(right.version).isGreaterThan(before.version);
            assertThat(left.version).isEqualTo(right.version);

            Kvrpcpb.GetResponse resp =
                    rawGet(
                            wire,
                            before.leaderStoreId,
                            Wire.context(before),
                            "en-a",
                            cluster.currentTs());
            Errorpb.Error err = resp.getRegionError();
            assertThat(err.hasEpochNotMatch()).isTrue();
            List<Metapb.Region> current = err.getEpochNotMatch().getCurrentRegionsList();
            assertThat(current).contains(right.toProto(), left.toProto());
            for (Metapb.Region m : current) {
                assertThat(m.getRegionEpoch().getVersion()).isEqualTo(right.version);
            }
            // Boundaries are memcomparable-encoded on the wire.
            assertThat(right.toProto().getStartKey().toByteArray())
                    .isEqualTo(KeyCodec.encodeBytes(Wire.bytes("en-m")));

            // The stale client re-fetches and succeeds on both sides of the split.
            assertThat(read(session, "en-a")).isEqualTo("1");
            assertThat(read(session, "en-x")).isEqualTo("2");
        }
    }

    @Test
    void splitsDuringTwoPhaseCommitAreRetried(MiniTiKVCluster cluster) throws Exception {
        try (TiSession session = Wire.session(cluster)) {
            Wire.commit(session, Wire.kvs("sp-a", "0", "sp-z", "0"));
            long startTs = session.getTimestamp().getVersion();
            try (TwoPhaseCommitter committer = new TwoPhaseCommitter(session, startTs)) {
                committer.prewritePrimaryKey(
                        org.tikv.common.util.ConcreteBackOffer.newCustomBackOff(5000),
                        Wire.bytes("sp-a"),
                        Wire.bytes("1"));
                cluster.split(Wire.bytes("sp-k"));
                committer.prewriteSecondaryKeys(
                        Wire.bytes("sp-a"),
                        Wire.pairs(Wire.kvs("sp-m", "1", "sp-z", "1")).iterator(),
                        5000);
                cluster.split(Wire.bytes("sp-b"), Wire.bytes("sp-n"));
                long commitTs = session.getTimestamp().getVersion();
                Wire.commitPrimary(committer, "sp-a", commitTs);
                Wire.commitSecondaries(committer, List.of("sp-m", "sp-z"), commitTs);
            }
            assertThat(read(session, "sp-a")).isEqualTo("1");
            assertThat(read(session, "sp-m")).isEqualTo("1");
            assertThat(read(session, "sp-z")).isEqualTo("1");
        }
    }

    @Test
    void serverIsBusyIsBackedOffAndRetried(MiniTiKVCluster cluster) throws Exception {
        try (TiSession session = Wire.session(cluster);
                Wire wire = new Wire(cluster)) {
            Wire.commit(session, Wire.kvs("sb-a", "1"));
            Region r = wire.region("sb-a");

            cluster.faults().serverIsBusy(r.leaderStoreId, 1);
            Kvrpcpb.GetResponse resp =
                    rawGet(wire, r.leaderStoreId, Wire.context(r), "sb-a", cluster.currentTs());
            assertThat(resp.getRegionError().hasServerIsBusy()).isTrue();
            assertThat(resp.getRegionError().getServerIsBusy().getReason()).isNotEmpty();

            // client-java backs off (BoServerBusy, 2 s and up) and retries.
            cluster.faults().serverIsBusy(r.leaderStoreId, 1);
            assertThat(read(session, "sb-a")).isEqualTo("1");
            assertThat(cluster.faults().takeRegionError(r.leaderStoreId, r.id)).isNull();
            // Writes too.
            cluster.faults().serverIsBusy(r.leaderStoreId, 1);
            Wire.commit(session, Wire.kvs("sb-a", "2"));
            assertThat(read(session, "sb-a")).isEqualTo("2");
        }
    }

    @Test
    void storeNotMatchForARequestMeantForAnotherStore(MiniTiKVCluster cluster) {
        try (Wire wire = new Wire(cluster)) {
            Region r = wire.region("snm");
            long actual = r.leaderStoreId;
            long other = otherStore(cluster, actual);
            Kvrpcpb.Context wrongStore =
                    Wire.context(r).toBuilder().setPeer(r.peerOn(other)).build();
            Errorpb.Error err =
                    rawGet(wire, actual, wrongStore, "snm", cluster.currentTs()).getRegionError();
            assertThat(err.hasStoreNotMatch()).isTrue();
            assertThat(err.getStoreNotMatch().getRequestStoreId()).isEqualTo(other);
            assertThat(err.getStoreNotMatch().getActualStoreId()).isEqualTo(actual);

            // A context without a peer names store 0: TiKV rejects it the same way.
            Kvrpcpb.Context noPeer = Wire.context(r).toBuilder().clearPeer().build();
            Errorpb.Error err0 =
                    rawGet(wire, actual, noPeer, "snm", cluster.currentTs()).getRegionError();
            assertThat(err0.hasStoreNotMatch()).isTrue();
            assertThat(err0.getStoreNotMatch().getRequestStoreId()).isZero();

            // The right store but another peer id: a plain "mismatch peer id" error.
            Kvrpcpb.Context wrongPeer =
                    Wire.context(r).toBuilder()
                            .setPeer(r.leader().toBuilder().setId(r.leader().getId() + 10_000))
                            .build();
            Errorpb.Error errPeer =
                    rawGet(wire, actual, wrongPeer, "snm", cluster.currentTs()).getRegionError();
            assertThat(errPeer.getMessage()).contains("mismatch peer id");
            assertThat(errPeer.hasNotLeader()).isFalse();
            assertThat(errPeer.hasStoreNotMatch()).isFalse();
        }
    }

    @Test
    void regionNotFoundForAMergedAwayRegion(MiniTiKVCluster cluster) throws Exception {
        try (TiSession session = Wire.session(cluster);
                Wire wire = new Wire(cluster)) {
            cluster.split(Wire.bytes("mg-m"), Wire.bytes("mg-t"));
            Wire.commit(session, Wire.kvs("mg-a", "1", "mg-p", "2"));
            assertThat(read(session, "mg-p")).isEqualTo("2"); // caches [mg-m, mg-t)
            Region source = wire.region("mg-p");
            Region target = wire.region("mg-a");
            Region merged = cluster.merge(source.id, target.id);
            assertThat(merged.id).isEqualTo(target.id);
            assertThat(merged.version).isGreaterThan(Math.max(source.version, target.version));
            assertThat(cluster.regions().byId(source.id)).isNull();

            Errorpb.Error err =
                    rawGet(
                                    wire,
                                    source.leaderStoreId,
                                    Wire.context(source),
                                    "mg-p",
                                    cluster.currentTs())
                            .getRegionError();
            assertThat(err.hasRegionNotFound()).isTrue();
            assertThat(err.getRegionNotFound().getRegionId()).isEqualTo(source.id);

            // The client drops the stale region and finds the merged one.
            assertThat(read(session, "mg-p")).isEqualTo("2");
            assertThat(session.getRegionManager().getRegionByKey(Wire.bs("mg-p")).getId())
                    .isEqualTo(merged.id);
        }
    }

    @Test
    void keyNotInRegion(MiniTiKVCluster cluster) {
        try (Wire wire = new Wire(cluster)) {
            cluster.split(Wire.bytes("kn-m"));
            Region left = wire.region("kn-a");
            Errorpb.Error err =
                    rawGet(
                                    wire,
                                    left.leaderStoreId,
                                    Wire.context(left),
                                    "kn-x",
                                    cluster.currentTs())
                            .getRegionError();
            assertThat(err.hasKeyNotInRegion()).isTrue();
            Errorpb.KeyNotInRegion knir = err.getKeyNotInRegion();
            assertThat(knir.getKey().toStringUtf8()).isEqualTo("kn-x");
            assertThat(knir.getRegionId()).isEqualTo(left.id);
            assertThat(knir.getStartKey().toByteArray()).isEqualTo(left.encodedStart());
            assertThat(knir.getEndKey().toByteArray())
                    .isEqualTo(KeyCodec.encodeBytes(Wire.bytes("kn-m")));

            // Write commands check every key.
            Kvrpcpb.PrewriteResponse pw =
                    wire.tikv(left.leaderStoreId)
                            .kvPrewrite(
                                    Kvrpcpb.PrewriteRequest.newBuilder()
                                            .setContext(Wire.context(left))
                                            .setPrimaryLock(Wire.bs("kn-a"))
                                            .setStartVersion(cluster.currentTs())
                                            .setLockTtl(3000)
                                            .addMutations(
                                                    Kvrpcpb.Mutation.newBuilder()
                                                            .setOp(Kvrpcpb.Op.Put)
                                                            .setKey(Wire.bs("kn-a"))
                                                            .setValue(Wire.bs("v")))
                                            .addMutations(
                                                    Kvrpcpb.Mutation.newBuilder()
                                                            .setOp(Kvrpcpb.Op.Put)
                                                            .setKey(Wire.bs("kn-z"))
                                                            .setValue(Wire.bs("v")))
                                            .build());
            assertThat(pw.getRegionError().hasKeyNotInRegion()).isTrue();
            assertThat(pw.getErrorsCount()).isZero();
            assertThat(cluster.storage().lock(Wire.bytes("kn-a"))).isNull();
        }
    }
}
