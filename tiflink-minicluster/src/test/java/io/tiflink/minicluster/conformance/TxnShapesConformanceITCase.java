package io.tiflink.minicluster.conformance;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;

import org.tikv.common.TiSession;
import org.tikv.common.util.ConcreteBackOffer;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;
import org.tikv.txn.KVClient;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The transaction shapes TiDB writes besides client-java's 2PC, over raw gRPC as client-go sends
 * them: async commit (and its crash recovery: CheckTxnStatus, CheckSecondaryLocks, ResolveLock, as
 * client-go's lock resolver runs it), 1PC and pessimistic locks; what they leave is read back
 * through tikv-client-java 3.3.5.
 */
class TxnShapesConformanceITCase {
    /** Keys below "m" and from "m" on live in different regions. */
    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(3).splitAt(Wire.bytes("m")));

    private static Kvrpcpb.Mutation put(String key, String value) {
        return Kvrpcpb.Mutation.newBuilder()
                .setOp(Kvrpcpb.Op.Put)
                .setKey(Wire.bs(key))
                .setValue(Wire.bs(value))
                .build();
    }

    /** A prewrite of keys of one region, as client-go sends it (min_commit_ts = start_ts + 1). */
    private static Kvrpcpb.PrewriteRequest.Builder prewrite(
            Wire wire, String primary, long startTs, Kvrpcpb.Mutation... mutations) {
        return Kvrpcpb.PrewriteRequest.newBuilder()
                .setContext(Wire.context(wire.region(mutations[0].getKey().toStringUtf8())))
                .setPrimaryLock(Wire.bs(primary))
                .setStartVersion(startTs)
                .setLockTtl(3000)
                .setMinCommitTs(startTs + 1)
                .setTxnSize(mutations.length)
                .addAllMutations(List.of(mutations));
    }

    private static Kvrpcpb.PrewriteResponse send(Wire wire, Kvrpcpb.PrewriteRequest req) {
        Kvrpcpb.PrewriteResponse resp =
                wire.leaderOf(req.getMutations(0).getKey().toStringUtf8()).kvPrewrite(req);
        assertThat(resp.hasRegionError()).isFalse();
        assertThat(resp.getErrorsList()).isEmpty();
        return resp;
    }

    /** An async-commit prewrite of some of the txn's keys. */
    private static Kvrpcpb.PrewriteResponse prewriteAsync(
            Wire wire,
            String primary,
            List<String> secondaries,
            long startTs,
            Kvrpcpb.Mutation... mutations) {
        Kvrpcpb.PrewriteRequest.Builder req =
                prewrite(wire, primary, startTs, mutations).setUseAsyncCommit(true);
        secondaries.forEach(k -> req.addSecondaries(Wire.bs(k)));
        return send(wire, req.build());
    }

    /**
     * client-go's resolution of an async-commit txn met by a reader: the primary's status, then
     * every secondary's, region by region; committed at the largest min_commit_ts if every key is
     * still locked, else rolled back. Returns the commit ts, 0 for a rollback.
     */
    private static long resolveAsyncCommit(
            Wire wire, MiniTiKVCluster cluster, String primary, long startTs) {
        long now = cluster.currentTs();
        Kvrpcpb.CheckTxnStatusResponse status =
                wire.leaderOf(primary)
                        .kvCheckTxnStatus(
                                Kvrpcpb.CheckTxnStatusRequest.newBuilder()
                                        .setContext(Wire.context(wire.region(primary)))
                                        .setPrimaryKey(Wire.bs(primary))
                                        .setLockTs(startTs)
                                        .setCallerStartTs(now)
                                        .setCurrentTs(now)
                                        .build());
        Kvrpcpb.LockInfo lock = status.getLockInfo();
        assertThat(lock.getUseAsyncCommit()).isTrue();
        assertThat(status.getAction()).isEqualTo(Kvrpcpb.Action.NoAction);
        Map<Long, List<ByteString>> byRegion = new LinkedHashMap<>();
        for (ByteString k : lock.getSecondariesList()) {
            byRegion.computeIfAbsent(wire.region(k.toStringUtf8()).id, id -> new ArrayList<>())
                    .add(k);
        }
        long commitTs = lock.getMinCommitTs();
        boolean allLocked = true;
        for (List<ByteString> keys : byRegion.values()) {
            String first = keys.get(0).toStringUtf8();
            Kvrpcpb.CheckSecondaryLocksResponse checked =
                    wire.leaderOf(first)
                            .kvCheckSecondaryLocks(
                                    Kvrpcpb.CheckSecondaryLocksRequest.newBuilder()
                                            .setContext(Wire.context(wire.region(first)))
                                            .setStartVersion(startTs)
                                            .addAllKeys(keys)
                                            .build());
            assertThat(checked.hasError()).isFalse();
            allLocked &= checked.getLocksCount() == keys.size();
            for (Kvrpcpb.LockInfo l : checked.getLocksList()) {
                commitTs = Math.max(commitTs, l.getMinCommitTs());
            }
        }
        long decision = allLocked ? commitTs : 0;
        List<String> keys = new ArrayList<>();
        keys.add(primary);
        lock.getSecondariesList().forEach(k -> keys.add(k.toStringUtf8()));
        for (String k : keys) {
            Kvrpcpb.ResolveLockResponse resolved =
                    wire.leaderOf(k)
                            .kvResolveLock(
                                    Kvrpcpb.ResolveLockRequest.newBuilder()
                                            .setContext(Wire.context(wire.region(k)))
                                            .setStartVersion(startTs)
                                            .setCommitVersion(decision)
                                            .addKeys(Wire.bs(k))
                                            .build());
            assertThat(resolved.hasError()).as("%s", resolved.getError()).isFalse();
        }
        return decision;
    }

    private static String read(KVClient kv, String key, long ts) {
        return kv.get(Wire.bs(key), ts).toStringUtf8();
    }

    @Test
    void crashedAsyncCommitWithAMissingSecondaryIsRolledBack(MiniTiKVCluster cluster)
            throws Exception {
        try (Wire wire = new Wire(cluster);
                TiSession session = Wire.session(cluster);
                KVClient kv = session.createKVClient()) {
            long startTs = cluster.currentTs();
            // The txn crashed before prewriting its secondary in the other region.
            prewriteAsync(
                    wire,
                    "ac1-p",
                    List.of("ac1-s", "z-ac1"),
                    startTs,
                    put("ac1-p", "vp"),
                    put("ac1-s", "vs"));

            assertThat(resolveAsyncCommit(wire, cluster, "ac1-p", startTs)).isZero();

            long readTs = cluster.currentTs();
            for (String k : List.of("ac1-p", "ac1-s", "z-ac1")) {
                assertThat(cluster.storage().lock(Wire.bytes(k))).isNull();
                assertThat(read(kv, k, readTs)).isEmpty();
            }
            // The missing secondary's late prewrite cannot land.
            Kvrpcpb.PrewriteResponse late =
                    wire.leaderOf("z-ac1")
                            .kvPrewrite(
                                    prewrite(wire, "ac1-p", startTs, put("z-ac1", "vz"))
                                            .setUseAsyncCommit(true)
                                            .build());
            assertThat(late.getErrors(0).getRetryable()).contains("SelfRolledBack");
        }
    }

    @Test
    void crashedAsyncCommitWithEveryKeyPrewrittenCommitsAtTheLargestMinCommitTs(
            MiniTiKVCluster cluster) throws Exception {
        try (Wire wire = new Wire(cluster);
                TiSession session = Wire.session(cluster);
                KVClient kv = session.createKVClient()) {
            long startTs = cluster.currentTs();
            List<String> secondaries = List.of("ac2-s", "z-ac2");
            long first =
                    prewriteAsync(
                                    wire,
                                    "ac2-p",
                                    secondaries,
                                    startTs,
                                    put("ac2-p", "vp"),
                                    put("ac2-s", "vs"))
                            .getMinCommitTs();
            // A read in between raises max_ts: the other region's min_commit_ts is above it.
            long readTs = cluster.currentTs();
            assertThat(read(kv, "ac2-other", readTs)).isEmpty();
            long second =
                    prewriteAsync(wire, "ac2-p", secondaries, startTs, put("z-ac2", "vz"))
                            .getMinCommitTs();
            assertThat(first).isGreaterThan(startTs);
            assertThat(second).isGreaterThan(readTs);

            long commitTs = resolveAsyncCommit(wire, cluster, "ac2-p", startTs);

            assertThat(commitTs).isEqualTo(Math.max(first, second));
            long after = cluster.currentTs();
            assertThat(read(kv, "ac2-p", after)).isEqualTo("vp");
            assertThat(read(kv, "ac2-s", after)).isEqualTo("vs");
            assertThat(read(kv, "z-ac2", after)).isEqualTo("vz");
            assertThat(read(kv, "z-ac2", commitTs - 1)).isEmpty();
            assertThat(cluster.storage().versions(Wire.bytes("ac2-s"))[0].commitTs)
                    .isEqualTo(commitTs);
        }
    }

    @Test
    void onePcCommitsInThePrewriteAndIsReadAtItsCommitTs(MiniTiKVCluster cluster) throws Exception {
        try (Wire wire = new Wire(cluster);
                TiSession session = Wire.session(cluster);
                KVClient kv = session.createKVClient()) {
            long startTs = cluster.currentTs();
            Kvrpcpb.PrewriteResponse resp =
                    send(
                            wire,
                            prewrite(wire, "1pc-a", startTs, put("1pc-a", "va"), put("1pc-b", "vb"))
                                    .setTryOnePc(true)
                                    .build());

            long commitTs = resp.getOnePcCommitTs();
            assertThat(commitTs).isGreaterThan(startTs);
            assertThat(cluster.storage().lock(Wire.bytes("1pc-a"))).isNull();
            assertThat(read(kv, "1pc-a", commitTs)).isEqualTo("va");
            assertThat(read(kv, "1pc-b", cluster.currentTs())).isEqualTo("vb");
            assertThat(read(kv, "1pc-b", commitTs - 1)).isEmpty();
        }
    }

    @Test
    void pessimisticLocksAreInvisibleToReadsUntilPrewrittenAndCommitted(MiniTiKVCluster cluster)
            throws Exception {
        try (Wire wire = new Wire(cluster);
                TiSession session = Wire.session(cluster);
                KVClient kv = session.createKVClient()) {
            Wire.commit(session, Wire.kvs("pl-a", "old-a", "pl-b", "old-b"));
            long startTs = cluster.currentTs();
            long forUpdateTs = cluster.currentTs();
            Kvrpcpb.PessimisticLockResponse locked =
                    wire.leaderOf("pl-a")
                            .kvPessimisticLock(
                                    Kvrpcpb.PessimisticLockRequest.newBuilder()
                                            .setContext(Wire.context(wire.region("pl-a")))
                                            .setPrimaryLock(Wire.bs("pl-a"))
                                            .setStartVersion(startTs)
                                            .setForUpdateTs(forUpdateTs)
                                            .setLockTtl(3000)
                                            .setReturnValues(true)
                                            .addMutations(pessimisticLock("pl-a"))
                                            .addMutations(pessimisticLock("pl-b"))
                                            .build());
            assertThat(locked.getErrorsList()).isEmpty();
            assertThat(locked.getValuesList()).containsExactly(Wire.bs("old-a"), Wire.bs("old-b"));

            long readTs = cluster.currentTs();
            assertThat(read(kv, "pl-a", readTs)).isEqualTo("old-a");
            assertThat(
                            kv.batchGet(
                                    ConcreteBackOffer.newCustomBackOff(5000),
                                    new ArrayList<>(List.of(Wire.bs("pl-a"), Wire.bs("pl-b"))),
                                    readTs))
                    .extracting(p -> p.getValue().toStringUtf8())
                    .containsExactlyInAnyOrder("old-a", "old-b");
            assertThat(kv.scan(Wire.bs("pl-"), Wire.bs("pl-z"), readTs))
                    .extracting(p -> p.getValue().toStringUtf8())
                    .containsExactly("old-a", "old-b");

            send(
                    wire,
                    prewrite(wire, "pl-a", startTs, put("pl-a", "new-a"), put("pl-b", "new-b"))
                            .setForUpdateTs(forUpdateTs)
                            .addIsPessimisticLock(true)
                            .addIsPessimisticLock(true)
                            .build());
            long commitTs = cluster.currentTs();
            Kvrpcpb.CommitResponse commit =
                    wire.leaderOf("pl-a")
                            .kvCommit(
                                    Kvrpcpb.CommitRequest.newBuilder()
                                            .setContext(Wire.context(wire.region("pl-a")))
                                            .setStartVersion(startTs)
                                            .setCommitVersion(commitTs)
                                            .addKeys(Wire.bs("pl-a"))
                                            .addKeys(Wire.bs("pl-b"))
                                            .build());
            assertThat(commit.hasError()).isFalse();
            assertThat(read(kv, "pl-b", cluster.currentTs())).isEqualTo("new-b");
        }
    }

    private static Kvrpcpb.Mutation pessimisticLock(String key) {
        return Kvrpcpb.Mutation.newBuilder()
                .setOp(Kvrpcpb.Op.PessimisticLock)
                .setKey(Wire.bs(key))
                .build();
    }
}
