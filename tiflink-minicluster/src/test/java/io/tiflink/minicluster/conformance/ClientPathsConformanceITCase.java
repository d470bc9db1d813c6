package io.tiflink.minicluster.conformance;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.fault.FaultInjector;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.region.Region;
import io.tiflink.minicluster.storage.Lock;
import io.tiflink.minicluster.storage.MvccStore;
import io.tiflink.minicluster.storage.Write;

import org.tikv.common.TiSession;
import org.tikv.common.region.TiRegion;
import org.tikv.common.region.TiStore;
import org.tikv.common.util.ConcreteBackOffer;
import org.tikv.common.util.Pair;
import org.tikv.kvproto.Errorpb;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;
import org.tikv.txn.KVClient;
import org.tikv.txn.TwoPhaseCommitter;
import org.tikv.txn.TxnKVClient;
import org.tikv.txn.type.ClientRPCResult;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Further client-java paths: batch get, long values, deletes, heartbeats, more region errors. */
class ClientPathsConformanceITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(3).splitAt(Wire.bytes("cp-m")));

    @AfterEach
    void clearFaults() {
        TIKV.cluster().faults().clear();
    }

    private static String longValue(char c) {
        char[] v = new char[MvccStore.SHORT_VALUE_MAX_LEN + 100];
        Arrays.fill(v, c);
        return new String(v);
    }

    @Test
    void batchGetAcrossRegionsThroughALiveLock(MiniTiKVCluster cluster) throws Exception {
        try (TiSession session = Wire.session(cluster);
                KVClient kv = session.createKVClient()) {
            Wire.commit(session, Wire.kvs("cp-a", "1", "cp-b", "2", "cp-x", "3", "cp-y", "4"));
            long lockTs = session.getTimestamp().getVersion();
            try (TwoPhaseCommitter live = new TwoPhaseCommitter(session, lockTs)) {
                Wire.prewrite(live, Wire.kvs("cp-b", "20", "cp-y", "40"));
                long readTs = session.getTimestamp().getVersion();
                List<Kvrpcpb.KvPair> pairs =
                        kv.batchGet(
                                ConcreteBackOffer.newCustomBackOff(20_000),
                                // client-java sorts the list in place: it must be mutable.
                                new java.util.ArrayList<>(
                                        List.of(
                                                Wire.bs("cp-a"),
                                                Wire.bs("cp-b"),
                                                Wire.bs("cp-missing"),
                                                Wire.bs("cp-x"),
                                                Wire.bs("cp-y"))),
                                readTs);
                Map<String, String> got =
                        pairs.stream()
                                .collect(
                                        Collectors.toMap(
                                                p -> p.getKey().toStringUtf8(),
                                                p -> p.getValue().toStringUtf8()));
                // Only found keys, the locked ones at their committed values.
                assertThat(got)
                        .containsExactlyInAnyOrderEntriesOf(
                                Wire.kvs("cp-a", "1", "cp-b", "2", "cp-x", "3", "cp-y", "4"));
                assertThat(cluster.storage().lock(Wire.bytes("cp-b")).minCommitTs)
                        .isGreaterThan(readTs);
                long commitTs = session.getTimestamp().getVersion();
                Wire.commitPrimary(live, "cp-b", commitTs);
                Wire.commitSecondaries(live, List.of("cp-y"), commitTs);
            }
        }
    }

    /**
     * A client-java 3.3.5 hazard the minicluster reproduces faithfully: {@code KVClient} keeps the
     * locks it was allowed to skip in one field for all versions, so a KVClient reused for a later
     * snapshot skips a lock whose transaction has committed below that snapshot. Snapshot.batchGet
     * (a fresh KVClient per call) reads consistently. Callers must not reuse a KVClient across
     * snapshots for batchGet.
     */
    @Test
    void reusedKvClientLeaksResolvedLocksAcrossSnapshots(MiniTiKVCluster cluster) throws Exception {
        try (TiSession session = Wire.session(cluster);
                KVClient reused = session.createKVClient()) {
            Wire.commit(session, Wire.kvs("cp-lp", "old", "cp-ls", "old"));
            long startTs = session.getTimestamp().getVersion();
            try (TwoPhaseCommitter t = new TwoPhaseCommitter(session, startTs)) {
                Wire.prewrite(t, Wire.kvs("cp-lp", "new", "cp-ls", "new"));
                long r1 = session.getTimestamp().getVersion();
                // The first snapshot pushes T and skips its locks.
                assertThat(values(reused.batchGet(bo(), keys("cp-lp", "cp-ls"), r1)))
                        .containsExactly("old", "old");
                // T commits its primary above r1; the secondary stays locked for now.
                long commitTs = session.getTimestamp().getVersion();
                Wire.commitPrimary(t, "cp-lp", commitTs);
                long r2 = session.getTimestamp().getVersion();
                assertThat(r2).isGreaterThan(commitTs);

                // A fresh KVClient at r2 resolves the secondary and sees all of T.
                org.tikv.common.Snapshot snapshot =
                        session.createSnapshot(
                                new org.tikv.common.meta.TiTimestamp(
                                        r2 >>> 18, r2 & ((1 << 18) - 1)));
                assertThat(
                                snapshot
                                        .batchGet(
                                                5_000,
                                                List.of(Wire.bytes("cp-lp"), Wire.bytes("cp-ls")))
                                        .stream()
                                        .map(p -> new String(p.getValue()))
                                        .collect(Collectors.toList()))
                        .containsExactly("new", "new");
            }
        }
        // Same again with the reused client reading the second snapshot.
        try (TiSession session = Wire.session(cluster);
                KVClient reused = session.createKVClient()) {
            long startTs = session.getTimestamp().getVersion();
            try (TwoPhaseCommitter t = new TwoPhaseCommitter(session, startTs)) {
                Wire.prewrite(t, Wire.kvs("cp-lp", "newer", "cp-ls", "newer"));
                long r1 = session.getTimestamp().getVersion();
                assertThat(values(reused.batchGet(bo(), keys("cp-lp", "cp-ls"), r1)))
                        .containsExactly("new", "new");
                long commitTs = session.getTimestamp().getVersion();
                Wire.commitPrimary(t, "cp-lp", commitTs);
                long r2 = session.getTimestamp().getVersion();
                // The stale skip list hides T's secondary: a torn read (client-java's doing).
                assertThat(values(reused.batchGet(bo(), keys("cp-lp", "cp-ls"), r2)))
                        .containsExactly("newer", "new");
                Wire.commitSecondaries(t, List.of("cp-ls"), commitTs);
            }
        }
    }

    private static ConcreteBackOffer bo() {
        return ConcreteBackOffer.newCustomBackOff(20_000);
    }

    private static List<ByteString> keys(String... keys) {
        List<ByteString> out = new java.util.ArrayList<>();
        for (String k : keys) {
            out.add(Wire.bs(k));
        }
        return out;
    }

    private static List<String> values(List<Kvrpcpb.KvPair> pairs) {
        return pairs.stream()
                .sorted(java.util.Comparator.comparing(p -> p.getKey().toStringUtf8()))
                .map(p -> p.getValue().toStringUtf8())
                .collect(Collectors.toList());
    }

    @Test
    void longValuesLiveInTheDefaultColumnFamily(MiniTiKVCluster cluster) throws Exception {
        String big = longValue('q');
        try (TiSession session = Wire.session(cluster);
                KVClient kv = session.createKVClient()) {
            long commitTs = Wire.commit(session, Wire.kvs("cp-long", big, "cp-short", "s"));
            Write w = cluster.storage().versions(Wire.bytes("cp-long"))[0];
            assertThat(w.commitTs).isEqualTo(commitTs);
            assertThat(w.shortValue).isNull();
            assertThat(cluster.storage().defaultValue(Wire.bytes("cp-long"), w.startTs))
                    .isEqualTo(Wire.bytes(big));
            assertThat(cluster.storage().versions(Wire.bytes("cp-short"))[0].shortValue)
                    .isEqualTo(Wire.bytes("s"));
            long ts = session.getTimestamp().getVersion();
            assertThat(kv.get(Wire.bs("cp-long"), ts).toStringUtf8()).isEqualTo(big);
            assertThat(kv.scan(Wire.bs("cp-long"), Wire.bs("cp-long\0"), ts))
                    .singleElement()
                    .satisfies(p -> assertThat(p.getValue().toStringUtf8()).isEqualTo(big));

            // A crashed writer's long value is removed from the default CF on rollback.
            long startTs = session.getTimestamp().getVersion();
            long ttl = 200;
            try (TwoPhaseCommitter crashed = new TwoPhaseCommitter(session, startTs, ttl)) {
                Wire.prewrite(crashed, Wire.kvs("cp-long", longValue('z')));
            }
            assertThat(cluster.storage().defaultValue(Wire.bytes("cp-long"), startTs)).isNotNull();
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> (cluster.currentTs() >>> 18) > (startTs >>> 18) + ttl);
            assertThat(
                            kv.get(Wire.bs("cp-long"), session.getTimestamp().getVersion())
                                    .toStringUtf8())
                    .isEqualTo(big);
            assertThat(cluster.storage().defaultValue(Wire.bytes("cp-long"), startTs)).isNull();
            assertThat(cluster.storage().lock(Wire.bytes("cp-long"))).isNull();
        }
    }

    @Test
    void emptyValueIsADelete(MiniTiKVCluster cluster) throws Exception {
        try (TiSession session = Wire.session(cluster);
                KVClient kv = session.createKVClient()) {
            Wire.commit(session, Wire.kvs("cp-del1", "x", "cp-del2", "y"));
            long before = session.getTimestamp().getVersion();
            long startTs = session.getTimestamp().getVersion();
            try (TwoPhaseCommitter c = new TwoPhaseCommitter(session, startTs)) {
                Wire.prewrite(c, Wire.kvs("cp-del1", ""));
                assertThat(cluster.storage().lock(Wire.bytes("cp-del1")).type)
                        .isEqualTo(Kvrpcpb.Op.Del);
                Wire.commitPrimary(c, "cp-del1", session.getTimestamp().getVersion());
            }
            assertThat(cluster.storage().versions(Wire.bytes("cp-del1"))[0].type)
                    .isEqualTo(Write.Type.DELETE);
            long after = session.getTimestamp().getVersion();
            assertThat(kv.get(Wire.bs("cp-del1"), after).isEmpty()).isTrue();
            assertThat(kv.get(Wire.bs("cp-del1"), before).toStringUtf8()).isEqualTo("x");
            assertThat(kv.scan(Wire.bs("cp-del"), Wire.bs("cp-dem"), after))
                    .extracting(p -> p.getKey().toStringUtf8())
                    .containsExactly("cp-del2");
        }
    }

    @Test
    void txnHeartBeatThroughTheClient(MiniTiKVCluster cluster) throws Exception {
        try (TiSession session = Wire.session(cluster);
                TxnKVClient txn = session.createTxnClient()) {
            long startTs = session.getTimestamp().getVersion();
            try (TwoPhaseCommitter c = new TwoPhaseCommitter(session, startTs, 3_000)) {
                Wire.prewrite(c, Wire.kvs("cp-hb", "v"));
                Pair<TiRegion, TiStore> pair =
                        session.getRegionManager().getRegionStorePairByKey(Wire.bs("cp-hb"));
                ClientRPCResult ok =
                        txn.txnHeartBeat(
                                ConcreteBackOffer.newCustomBackOff(5000),
                                Wire.bs("cp-hb"),
                                startTs,
                                60_000,
                                pair.first,
                                pair.second);
                assertThat(ok.isSuccess()).isTrue();
                Lock lock = cluster.storage().lock(Wire.bytes("cp-hb"));
                assertThat(lock.ttl).isEqualTo(60_000);
                // A smaller advice never shortens the TTL.
                txn.txnHeartBeat(
                        ConcreteBackOffer.newCustomBackOff(5000),
                        Wire.bs("cp-hb"),
                        startTs,
                        1_000,
                        pair.first,
                        pair.second);
                assertThat(cluster.storage().lock(Wire.bytes("cp-hb")).ttl).isEqualTo(60_000);

                ClientRPCResult unknown =
                        txn.txnHeartBeat(
                                ConcreteBackOffer.newCustomBackOff(5000),
                                Wire.bs("cp-hb"),
                                startTs + 1,
                                60_000,
                                pair.first,
                                pair.second);
                assertThat(unknown.isSuccess()).isFalse();
                Wire.commitPrimary(c, "cp-hb", session.getTimestamp().getVersion());
            }
        }
    }

    @Test
    void staleCommandIsRetried(MiniTiKVCluster cluster) throws Exception {
        try (TiSession session = Wire.session(cluster);
                KVClient kv = session.createKVClient()) {
            Wire.commit(session, Wire.kvs("cp-stale", "v"));
            Region r = cluster.regions().locate(Wire.bytes("cp-stale"));
            cluster.faults()
                    .injectRegionError(
                            r.leaderStoreId,
                            r.id,
                            Errorpb.Error.newBuilder()
                                    .setMessage("stale command")
                                    .setStaleCommand(Errorpb.StaleCommand.getDefaultInstance())
                                    .build(),
                            2);
            assertThat(kv.get(Wire.bs("cp-stale"), session.getTimestamp().getVersion()))
                    .isEqualTo(ByteString.copyFromUtf8("v"));
            assertThat(cluster.faults().takeRegionError(r.leaderStoreId, r.id)).isNull();
        }
    }

    @Test
    void slowPdRepliesStillServeTheClient(MiniTiKVCluster cluster) throws Exception {
        cluster.faults().delay(FaultInjector.PD, Duration.ofMillis(50));
        try (TiSession session = Wire.session(cluster);
                KVClient kv = session.createKVClient()) {
            // Region lookups (GetRegion, GetStore) are answered late, and still in time.
            Wire.commit(session, Wire.kvs("cp-pd", "v"));
            assertThat(kv.get(Wire.bs("cp-pd"), session.getTimestamp().getVersion()).toStringUtf8())
                    .isEqualTo("v");
        }
    }
}
