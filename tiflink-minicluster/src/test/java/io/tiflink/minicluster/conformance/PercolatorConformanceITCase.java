package io.tiflink.minicluster.conformance;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.storage.Lock;
import io.tiflink.minicluster.storage.Write;

import org.tikv.common.TiSession;
import org.tikv.common.util.ConcreteBackOffer;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;
import org.tikv.txn.KVClient;
import org.tikv.txn.TwoPhaseCommitter;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Percolator through the real client (TwoPhaseCommitter, KVClient and its lock resolver) with the
 * exact KeyErrors checked over raw gRPC.
 */
class PercolatorConformanceITCase {
    /** Keys below "m" and from "m" on live in different regions. */
    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(3).splitAt(Wire.bytes("m")));

    private static long physical(long ts) {
        return ts >>> 18;
    }

    private static Kvrpcpb.Mutation put(String key, String value) {
        return Kvrpcpb.Mutation.newBuilder()
                .setOp(Kvrpcpb.Op.Put)
                .setKey(Wire.bs(key))
                .setValue(Wire.bs(value))
                .build();
    }

    /** A prewrite as client-java sends it (V4 path): min_commit_ts = start_ts, txn_size 16. */
    private static Kvrpcpb.PrewriteRequest prewriteRequest(
            Wire wire, String primary, long startTs, long ttl, Kvrpcpb.Mutation... mutations) {
        return Kvrpcpb.PrewriteRequest.newBuilder()
                .setContext(Wire.context(wire.region(mutations[0].getKey().toStringUtf8())))
                .setPrimaryLock(Wire.bs(primary))
                .setStartVersion(startTs)
                .setLockTtl(ttl)
                .setMinCommitTs(startTs)
                .setTxnSize(16)
                .addAllMutations(List.of(mutations))
                .build();
    }

    private static Kvrpcpb.CommitResponse rawCommit(
            Wire wire, String key, long startTs, long commitTs) {
        return wire.leaderOf(key)
                .kvCommit(
                        Kvrpcpb.CommitRequest.newBuilder()
                                .setContext(Wire.context(wire.region(key)))
                                .addKeys(Wire.bs(key))
                                .setStartVersion(startTs)
                                .setCommitVersion(commitTs)
                                .build());
    }

    @Test
    void twoPhaseCommitAcrossRegionsLeavesWriteRecordsAndNoLocks(MiniTiKVCluster cluster)
            throws Exception {
        Map<String, String> kvs = Wire.kvs("2pc-p", "vp", "2pc-s", "vs", "z-2pc", "vz");
        try (TiSession session = Wire.session(cluster);
                KVClient kv = session.createKVClient()) {
            long startTs = session.getTimestamp().getVersion();
            long commitTs;
            try (TwoPhaseCommitter committer = new TwoPhaseCommitter(session, startTs)) {
                Wire.prewrite(committer, kvs);
                for (String k : kvs.keySet()) {
                    Lock lock = cluster.storage().lock(Wire.bytes(k));
                    assertThat(lock).as("lock on %s", k).isNotNull();
                    assertThat(lock.startTs).isEqualTo(startTs);
                    assertThat(new String(lock.primary)).isEqualTo("2pc-p");
                    // client-java's V4 prewrite sets min_commit_ts = start_ts.
                    assertThat(lock.minCommitTs).isEqualTo(startTs);
                }
                commitTs = session.getTimestamp().getVersion();
                Wire.commitPrimary(committer, "2pc-p", commitTs);
                // The primary is committed, the secondaries still locked.
                assertThat(cluster.storage().lock(Wire.bytes("2pc-p"))).isNull();
                assertThat(cluster.storage().lock(Wire.bytes("z-2pc"))).isNotNull();
                Wire.commitSecondaries(committer, List.of("2pc-s", "z-2pc"), commitTs);
            }
            for (Map.Entry<String, String> e : kvs.entrySet()) {
                byte[] key = Wire.bytes(e.getKey());
                assertThat(cluster.storage().lock(key)).isNull();
                Write w = cluster.storage().versions(key)[0];
                assertThat(w.type).isEqualTo(Write.Type.PUT);
                assertThat(w.startTs).isEqualTo(startTs);
                assertThat(w.commitTs).isEqualTo(commitTs);
                long readTs = session.getTimestamp().getVersion();
                assertThat(kv.get(Wire.bs(e.getKey()), readTs).toStringUtf8())
                        .isEqualTo(e.getValue());
                // Snapshot isolation: nothing at a ts before the commit.
                assertThat(kv.get(Wire.bs(e.getKey()), commitTs - 1).isEmpty()).isTrue();
            }
        }
    }

    @Test
    void readerPushesMinCommitTsSoTheStaleCommitTsExpires(MiniTiKVCluster cluster)
            throws Exception {
        try (TiSession writer = Wire.session(cluster);
                TiSession reader = Wire.session(cluster);
                KVClient kv = reader.createKVClient();
                Wire wire = new Wire(cluster)) {
            Wire.commit(
                    writer, Wire.kvs("apush-p", "old-p", "apush-s", "old-s", "z-push", "old-z"));

            long startTs = writer.getTimestamp().getVersion();
            try (TwoPhaseCommitter committer = new TwoPhaseCommitter(writer, startTs)) {
                Wire.prewrite(
                        committer,
                        Wire.kvs("apush-p", "new-p", "apush-s", "new-s", "z-push", "new-z"));
                long staleCommitTs = writer.getTimestamp().getVersion();

                // A reader after that commit ts meets the locks: CheckTxnStatus pushes the
                // primary's min_commit_ts and the read bypasses the locks via resolved_locks.
                long readTs = reader.getTimestamp().getVersion();
                assertThat(kv.get(Wire.bs("apush-p"), readTs).toStringUtf8()).isEqualTo("old-p");
                assertThat(kv.get(Wire.bs("apush-s"), readTs).toStringUtf8()).isEqualTo("old-s");
                assertThat(kv.get(Wire.bs("z-push"), readTs).toStringUtf8()).isEqualTo("old-z");
                Lock primary = cluster.storage().lock(Wire.bytes("apush-p"));
                assertThat(primary).isNotNull();
                assertThat(primary.startTs).isEqualTo(startTs);
                assertThat(primary.minCommitTs).isGreaterThan(readTs);
                // Secondaries keep their min_commit_ts; only the primary is pushed.
                assertThat(cluster.storage().lock(Wire.bytes("z-push")).minCommitTs)
                        .isEqualTo(startTs);

                // Over the wire, the stale commit fails with commit_ts_expired.
                Kvrpcpb.CommitResponse expired = rawCommit(wire, "apush-p", startTs, staleCommitTs);
                assertThat(expired.hasRegionError()).isFalse();
                assertThat(expired.getError().hasCommitTsExpired()).isTrue();
                Kvrpcpb.CommitTsExpired cte = expired.getError().getCommitTsExpired();
                assertThat(cte.getStartTs()).isEqualTo(startTs);
                assertThat(cte.getAttemptedCommitTs()).isEqualTo(staleCommitTs);
                assertThat(cte.getKey().toStringUtf8()).isEqualTo("apush-p");
                assertThat(cte.getMinCommitTs()).isEqualTo(primary.minCommitTs);
                assertThat(expired.getCommitVersion()).isZero();
                assertThat(cluster.storage().lock(Wire.bytes("apush-p"))).isNotNull();

                // client-java retries the same commit ts until its backoff runs out.
                assertThatThrownBy(
                                () ->
                                        committer.commitPrimaryKey(
                                                ConcreteBackOffer.newCustomBackOff(300),
                                                Wire.bytes("apush-p"),
                                                staleCommitTs))
                        .isInstanceOf(RuntimeException.class);

                // With a fresh commit ts the commit succeeds.
                long commitTs = writer.getTimestamp().getVersion();
                assertThat(commitTs).isGreaterThan(primary.minCommitTs);
                Wire.commitPrimary(committer, "apush-p", commitTs);
                Wire.commitSecondaries(committer, List.of("apush-s", "z-push"), commitTs);

                // The reader's snapshot still sees the old values, a new one the new values.
                assertThat(kv.get(Wire.bs("apush-s"), readTs).toStringUtf8()).isEqualTo("old-s");
                long later = reader.getTimestamp().getVersion();
                assertThat(kv.get(Wire.bs("apush-p"), later).toStringUtf8()).isEqualTo("new-p");
                assertThat(kv.get(Wire.bs("z-push"), later).toStringUtf8()).isEqualTo("new-z");
            }
        }
    }

    @Test
    void crashedWriterIsRolledBackAfterItsTtlAndCannotPrewriteAgain(MiniTiKVCluster cluster)
            throws Exception {
        long ttlMs = 300;
        try (TiSession writer = Wire.session(cluster);
                TiSession reader = Wire.session(cluster);
                KVClient kv = reader.createKVClient();
                Wire wire = new Wire(cluster)) {
            Wire.commit(
                    writer, Wire.kvs("crash-p", "old-p", "crash-s", "old-s", "z-crash", "old-z"));

            long startTs = writer.getTimestamp().getVersion();
            try (TwoPhaseCommitter committer = new TwoPhaseCommitter(writer, startTs, ttlMs)) {
                Wire.prewrite(
                        committer,
                        Wire.kvs("crash-p", "new-p", "crash-s", "new-s", "z-crash", "new-z"));
            }
            // The writer "crashes": it never commits. Its lock TTL runs out on the TSO clock.
            assertThat(cluster.storage().lock(Wire.bytes("crash-p")).ttl).isEqualTo(ttlMs);
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> physical(cluster.currentTs()) > physical(startTs) + ttlMs);

            long readTs = reader.getTimestamp().getVersion();
            assertThat(kv.get(Wire.bs("crash-s"), readTs).toStringUtf8()).isEqualTo("old-s");
            assertThat(kv.get(Wire.bs("crash-p"), readTs).toStringUtf8()).isEqualTo("old-p");
            assertThat(kv.get(Wire.bs("z-crash"), readTs).toStringUtf8()).isEqualTo("old-z");

            // CheckTxnStatus rolled the primary back, ResolveLock (without keys, as txn_size is
            // 16) the rest: no locks, and rollback records at start_ts.
            for (String k : List.of("crash-p", "crash-s", "z-crash")) {
                assertThat(cluster.storage().lock(Wire.bytes(k))).as("lock on %s", k).isNull();
                Write record = cluster.storage().txnRecord(Wire.bytes(k), startTs);
                assertThat(record).as("record on %s", k).isNotNull();
                assertThat(record.type).isEqualTo(Write.Type.ROLLBACK);
            }

            // A late prewrite of the rolled-back txn meets its own rollback: SelfRolledBack.
            Kvrpcpb.PrewriteResponse late =
                    wire.leaderOf("crash-p")
                            .kvPrewrite(
                                    prewriteRequest(
                                            wire, "crash-p", startTs, ttlMs, put("crash-p", "x")));
            assertThat(late.hasRegionError()).isFalse();
            assertThat(late.getErrorsCount()).isEqualTo(1);
            Kvrpcpb.KeyError err = late.getErrors(0);
            assertThat(err.hasConflict()).isTrue();
            assertThat(err.getConflict().getStartTs()).isEqualTo(startTs);
            assertThat(err.getConflict().getConflictTs()).isEqualTo(startTs);
            assertThat(err.getConflict().getConflictCommitTs()).isEqualTo(startTs);
            assertThat(err.getConflict().getKey().toStringUtf8()).isEqualTo("crash-p");
            assertThat(err.getConflict().getPrimary().toStringUtf8()).isEqualTo("crash-p");
            assertThat(err.getRetryable()).contains("WriteConflict").contains("SelfRolledBack");
            assertThat(cluster.storage().lock(Wire.bytes("crash-p"))).isNull();

            // And a late commit finds no lock: TxnLockNotFound, as a retryable KeyError.
            Kvrpcpb.CommitResponse lateCommit =
                    rawCommit(wire, "crash-p", startTs, writer.getTimestamp().getVersion());
            assertThat(lateCommit.getError().getRetryable()).contains("TxnLockNotFound");
            assertThat(
                            kv.get(Wire.bs("crash-p"), reader.getTimestamp().getVersion())
                                    .toStringUtf8())
                    .isEqualTo("old-p");
        }
    }

    @Test
    void prewriteBelowANewerCommitIsAWriteConflict(MiniTiKVCluster cluster) throws Exception {
        try (TiSession session = Wire.session(cluster);
                Wire wire = new Wire(cluster)) {
            long oldStartTs = session.getTimestamp().getVersion();
            long winnerStart = session.getTimestamp().getVersion();
            long winnerCommit = Wire.commit(session, Wire.kvs("wc-k", "winner"));
            Write winner = cluster.storage().versions(Wire.bytes("wc-k"))[0];
            assertThat(winner.commitTs).isEqualTo(winnerCommit);
            assertThat(winner.startTs).isGreaterThan(winnerStart);

            Kvrpcpb.PrewriteResponse resp =
                    wire.leaderOf("wc-k")
                            .kvPrewrite(
                                    prewriteRequest(
                                            wire, "wc-k", oldStartTs, 3000, put("wc-k", "loser")));
            assertThat(resp.hasRegionError()).isFalse();
            assertThat(resp.getErrorsCount()).isEqualTo(1);
            Kvrpcpb.KeyError err = resp.getErrors(0);
            assertThat(err.hasConflict()).isTrue();
            assertThat(err.getRetryable()).isNotEmpty().contains("WriteConflict");
            assertThat(err.getConflict().getStartTs()).isEqualTo(oldStartTs);
            assertThat(err.getConflict().getConflictTs()).isEqualTo(winner.startTs);
            assertThat(err.getConflict().getConflictCommitTs()).isEqualTo(winnerCommit);
            assertThat(err.getConflict().getKey().toStringUtf8()).isEqualTo("wc-k");
            assertThat(err.getConflict().getPrimary().toStringUtf8()).isEqualTo("wc-k");
            assertThat(err.hasLocked()).isFalse();
            assertThat(cluster.storage().lock(Wire.bytes("wc-k"))).isNull();

            // The real client gives up on it once its backoff runs out.
            try (TwoPhaseCommitter loser = new TwoPhaseCommitter(session, oldStartTs)) {
                assertThatThrownBy(
                                () ->
                                        loser.prewritePrimaryKey(
                                                ConcreteBackOffer.newCustomBackOff(300),
                                                Wire.bytes("wc-k"),
                                                Wire.bytes("loser")))
                        .isInstanceOf(RuntimeException.class);
            }
            assertThat(cluster.storage().lock(Wire.bytes("wc-k"))).isNull();
        }
    }

    @Test
    void prewriteMeetingLocksReportsEveryLockAndWritesNothing(MiniTiKVCluster cluster) {
        try (Wire wire = new Wire(cluster)) {
            long holder = cluster.currentTs();
            Kvrpcpb.PrewriteResponse first =
                    wire.leaderOf("lk-a")
                            .kvPrewrite(
                                    prewriteRequest(
                                            wire,
                                            "lk-a",
                                            holder,
                                            60_000,
                                            put("lk-a", "h"),
                                            put("lk-b", "h")));
            assertThat(first.getErrorsCount()).isZero();
            // A duplicated prewrite of the same txn is idempotent.
            assertThat(
                            wire.leaderOf("lk-a")
                                    .kvPrewrite(
                                            prewriteRequest(
                                                    wire, "lk-a", holder, 60_000, put("lk-a", "h")))
                                    .getErrorsCount())
                    .isZero();

            long other = cluster.currentTs();
            Kvrpcpb.PrewriteResponse blocked =
                    wire.leaderOf("lk-a")
                            .kvPrewrite(
                                    prewriteRequest(
                                            wire,
                                            "lk-c",
                                            other,
                                            60_000,
                                            put("lk-a", "o"),
                                            put("lk-b", "o"),
                                            put("lk-c", "o")));
            assertThat(blocked.getErrorsCount()).isEqualTo(2);
            for (Kvrpcpb.KeyError e : blocked.getErrorsList()) {
                assertThat(e.hasLocked()).isTrue();
                assertThat(e.getLocked().getLockVersion()).isEqualTo(holder);
                assertThat(e.getLocked().getPrimaryLock().toStringUtf8()).isEqualTo("lk-a");
                assertThat(e.getLocked().getLockTtl()).isEqualTo(60_000);
                assertThat(e.getLocked().getLockType()).isEqualTo(Kvrpcpb.Op.Put);
                assertThat(e.getLocked().getTxnSize()).isEqualTo(16);
            }
            assertThat(blocked.getErrorsList())
                    .extracting(e -> e.getLocked().getKey().toStringUtf8())
                    .containsExactly("lk-a", "lk-b");
            // The request wrote nothing, not even the unlocked key.
            assertThat(cluster.storage().lock(Wire.bytes("lk-c"))).isNull();

            // CheckTxnStatus by a reader of the live lock: TTL, lock info, pushed.
            long callerTs = cluster.currentTs();
            Kvrpcpb.CheckTxnStatusResponse status =
                    wire.leaderOf("lk-a")
                            .kvCheckTxnStatus(
                                    Kvrpcpb.CheckTxnStatusRequest.newBuilder()
                                            .setContext(Wire.context(wire.region("lk-a")))
                                            .setPrimaryKey(Wire.bs("lk-a"))
                                            .setLockTs(holder)
                                            .setCallerStartTs(callerTs)
                                            .setCurrentTs(cluster.currentTs())
                                            .build());
            assertThat(status.hasError()).isFalse();
            assertThat(status.getLockTtl()).isEqualTo(60_000);
            assertThat(status.getCommitVersion()).isZero();
            assertThat(status.getAction()).isEqualTo(Kvrpcpb.Action.MinCommitTSPushed);
            assertThat(status.getLockInfo().getLockVersion()).isEqualTo(holder);
            assertThat(status.getLockInfo().getMinCommitTs()).isGreaterThan(callerTs);

            // TxnHeartBeat extends the TTL; for an unknown txn it answers txn_not_found.
            Kvrpcpb.TxnHeartBeatResponse hb =
                    wire.leaderOf("lk-a")
                            .kvTxnHeartBeat(
                                    Kvrpcpb.TxnHeartBeatRequest.newBuilder()
                                            .setContext(Wire.context(wire.region("lk-a")))
                                            .setPrimaryLock(Wire.bs("lk-a"))
                                            .setStartVersion(holder)
                                            .setAdviseLockTtl(90_000)
                                            .build());
            assertThat(hb.hasError()).isFalse();
            assertThat(hb.getLockTtl()).isEqualTo(90_000);
            Kvrpcpb.TxnHeartBeatResponse unknown =
                    wire.leaderOf("lk-a")
                            .kvTxnHeartBeat(
                                    Kvrpcpb.TxnHeartBeatRequest.newBuilder()
                                            .setContext(Wire.context(wire.region("lk-a")))
                                            .setPrimaryLock(Wire.bs("lk-a"))
                                            .setStartVersion(other)
                                            .setAdviseLockTtl(90_000)
                                            .build());
            assertThat(unknown.getError().hasTxnNotFound()).isTrue();

            // Roll the holder back (ResolveLock without keys: the whole region).
            Kvrpcpb.ResolveLockResponse resolved =
                    wire.leaderOf("lk-a")
                            .kvResolveLock(
                                    Kvrpcpb.ResolveLockRequest.newBuilder()
                                            .setContext(Wire.context(wire.region("lk-a")))
                                            .setStartVersion(holder)
                                            .build());
            assertThat(resolved.hasError()).isFalse();
            assertThat(resolved.hasRegionError()).isFalse();
            assertThat(cluster.storage().lock(Wire.bytes("lk-a"))).isNull();
            assertThat(cluster.storage().lock(Wire.bytes("lk-b"))).isNull();
        }
    }

    @Test
    void checkTxnStatusWithoutLockOrRecord(MiniTiKVCluster cluster) {
        try (Wire wire = new Wire(cluster)) {
            long ghost = cluster.currentTs();
            Kvrpcpb.CheckTxnStatusRequest.Builder req =
                    Kvrpcpb.CheckTxnStatusRequest.newBuilder()
                            .setContext(Wire.context(wire.region("ghost")))
                            .setPrimaryKey(Wire.bs("ghost"))
                            .setLockTs(ghost)
                            .setCallerStartTs(cluster.currentTs())
                            .setCurrentTs(cluster.currentTs());
            Kvrpcpb.CheckTxnStatusResponse notFound =
                    wire.leaderOf("ghost").kvCheckTxnStatus(req.build());
            assertThat(notFound.getError().hasTxnNotFound()).isTrue();
            assertThat(notFound.getError().getTxnNotFound().getStartTs()).isEqualTo(ghost);
            assertThat(notFound.getError().getTxnNotFound().getPrimaryKey().toStringUtf8())
                    .isEqualTo("ghost");

            Kvrpcpb.CheckTxnStatusResponse rolledBack =
                    wire.leaderOf("ghost")
                            .kvCheckTxnStatus(req.setRollbackIfNotExist(true).build());
            assertThat(rolledBack.hasError()).isFalse();
            assertThat(rolledBack.getAction()).isEqualTo(Kvrpcpb.Action.LockNotExistRollback);
            assertThat(rolledBack.getLockTtl()).isZero();
            assertThat(rolledBack.getCommitVersion()).isZero();

            // The protected rollback stops the txn's prewrite from arriving late.
            Kvrpcpb.PrewriteResponse late =
                    wire.leaderOf("ghost")
                            .kvPrewrite(
                                    prewriteRequest(wire, "ghost", ghost, 3000, put("ghost", "x")));
            assertThat(late.getErrors(0).hasConflict()).isTrue();
            assertThat(late.getErrors(0).getRetryable()).contains("SelfRolledBack");

            // Asking again: the txn is known to be rolled back.
            Kvrpcpb.CheckTxnStatusResponse again =
                    wire.leaderOf("ghost").kvCheckTxnStatus(req.build());
            assertThat(again.hasError()).isFalse();
            assertThat(again.getAction()).isEqualTo(Kvrpcpb.Action.NoAction);
            assertThat(again.getCommitVersion()).isZero();
            assertThat(again.getLockTtl()).isZero();
        }
    }

    @Test
    void commitEdgeCases(MiniTiKVCluster cluster) throws Exception {
        try (TiSession session = Wire.session(cluster);
                Wire wire = new Wire(cluster)) {
            long startTs = session.getTimestamp().getVersion();
            Kvrpcpb.PrewriteResponse pw =
                    wire.leaderOf("ce-k")
                            .kvPrewrite(
                                    prewriteRequest(wire, "ce-k", startTs, 3000, put("ce-k", "v")));
            assertThat(pw.getErrorsCount()).isZero();
            // commit_ts <= start_ts: InvalidTxnTso, an abort.
            Kvrpcpb.CommitResponse invalid = rawCommit(wire, "ce-k", startTs, startTs);
            assertThat(invalid.getError().getAbort()).isNotEmpty();
            assertThat(cluster.storage().lock(Wire.bytes("ce-k"))).isNotNull();

            long commitTs = session.getTimestamp().getVersion();
            Kvrpcpb.CommitResponse ok = rawCommit(wire, "ce-k", startTs, commitTs);
            assertThat(ok.hasError()).isFalse();
            assertThat(ok.getCommitVersion()).isEqualTo(commitTs);
            // Committing again is idempotent.
            assertThat(rawCommit(wire, "ce-k", startTs, commitTs).hasError()).isFalse();
            // A retried prewrite of the committed txn succeeds and writes nothing.
            Kvrpcpb.PrewriteResponse retried =
                    wire.leaderOf("ce-k")
                            .kvPrewrite(
                                    prewriteRequest(wire, "ce-k", startTs, 3000, put("ce-k", "v")));
            assertThat(retried.getErrorsCount()).isZero();
            assertThat(cluster.storage().lock(Wire.bytes("ce-k"))).isNull();
            // CheckTxnStatus of a committed txn answers its commit ts.
            Kvrpcpb.CheckTxnStatusResponse status =
                    wire.leaderOf("ce-k")
                            .kvCheckTxnStatus(
                                    Kvrpcpb.CheckTxnStatusRequest.newBuilder()
                                            .setContext(Wire.context(wire.region("ce-k")))
                                            .setPrimaryKey(Wire.bs("ce-k"))
                                            .setLockTs(startTs)
                                            .setCallerStartTs(cluster.currentTs())
                                            .setCurrentTs(cluster.currentTs())
                                            .build());
            assertThat(status.getCommitVersion()).isEqualTo(commitTs);
            assertThat(status.getLockTtl()).isZero();
        }
    }

    @Test
    void readResponseShapes(MiniTiKVCluster cluster) throws Exception {
        try (TiSession session = Wire.session(cluster);
                Wire wire = new Wire(cluster)) {
            Wire.commit(session, Wire.kvs("ers-a", "A", "ers-c", "C", "ers-d", "D", "z-ers", "Z"));
            long lockTs = session.getTimestamp().getVersion();
            assertThat(
                            wire.leaderOf("ers-b")
                                    .kvPrewrite(
                                            prewriteRequest(
                                                    wire,
                                                    "ers-b",
                                                    lockTs,
                                                    60_000,
                                                    put("ers-b", "B"),
                                                    put("ers-c", "C2")))
                                    .getErrorsCount())
                    .isZero();
            long readTs = session.getTimestamp().getVersion();
            Kvrpcpb.Context ctx = Wire.context(wire.region("ers-a"));

            Kvrpcpb.GetResponse missing =
                    wire.leaderOf("ers-a")
                            .kvGet(
                                    Kvrpcpb.GetRequest.newBuilder()
                                            .setContext(ctx)
                                            .setKey(Wire.bs("ers-zzz"))
                                            .setVersion(readTs)
                                            .build());
            assertThat(missing.getNotFound()).isTrue();
            assertThat(missing.getValue().isEmpty()).isTrue();
            Kvrpcpb.GetResponse locked =
                    wire.leaderOf("ers-a")
                            .kvGet(
                                    Kvrpcpb.GetRequest.newBuilder()
                                            .setContext(ctx)
                                            .setKey(Wire.bs("ers-b"))
                                            .setVersion(readTs)
                                            .build());
            assertThat(locked.getError().getLocked().getKey().toStringUtf8()).isEqualTo("ers-b");
            assertThat(locked.getError().getLocked().getLockVersion()).isEqualTo(lockTs);
            // resolved_locks lets the read through to the committed version (none here).
            Kvrpcpb.GetResponse bypassed =
                    wire.leaderOf("ers-a")
                            .kvGet(
                                    Kvrpcpb.GetRequest.newBuilder()
                                            .setContext(ctx.toBuilder().addResolvedLocks(lockTs))
                                            .setKey(Wire.bs("ers-c"))
                                            .setVersion(readTs)
                                            .build());
            assertThat(bypassed.hasError()).isFalse();
            assertThat(bypassed.getValue().toStringUtf8()).isEqualTo("C");
            // A read below the lock's start ts is not blocked.
            Kvrpcpb.GetResponse older =
                    wire.leaderOf("ers-a")
                            .kvGet(
                                    Kvrpcpb.GetRequest.newBuilder()
                                            .setContext(ctx)
                                            .setKey(Wire.bs("ers-c"))
                                            .setVersion(lockTs - 1)
                                            .build());
            assertThat(older.getValue().toStringUtf8()).isEqualTo("C");

            // BatchGet: only found keys as pairs, a locked key as a pair with the lock.
            Kvrpcpb.BatchGetResponse batch =
                    wire.leaderOf("ers-a")
                            .kvBatchGet(
                                    Kvrpcpb.BatchGetRequest.newBuilder()
                                            .setContext(ctx)
                                            .addKeys(Wire.bs("ers-a"))
                                            .addKeys(Wire.bs("ers-b"))
                                            .addKeys(Wire.bs("ers-zzz"))
                                            .setVersion(readTs)
                                            .build());
            assertThat(batch.getPairsCount()).isEqualTo(2);
            assertThat(batch.getPairs(0).getKey().toStringUtf8()).isEqualTo("ers-a");
            assertThat(batch.getPairs(0).getValue().toStringUtf8()).isEqualTo("A");
            assertThat(batch.getPairs(1).getError().getLocked().getKey().toStringUtf8())
                    .isEqualTo("ers-b");

            // Scan: a locked key counts as an entry and the scan continues past it.
            Kvrpcpb.ScanResponse scan =
                    wire.leaderOf("ers-a")
                            .kvScan(
                                    Kvrpcpb.ScanRequest.newBuilder()
                                            .setContext(ctx)
                                            .setStartKey(Wire.bs("ers-"))
                                            .setEndKey(Wire.bs("ers."))
                                            .setLimit(3)
                                            .setVersion(readTs)
                                            .build());
            assertThat(scan.getPairsCount()).isEqualTo(3);
            assertThat(scan.getPairs(0).getKey().toStringUtf8()).isEqualTo("ers-a");
            assertThat(scan.getPairs(1).getError().getLocked().getKey().toStringUtf8())
                    .isEqualTo("ers-b");
            assertThat(scan.getPairs(2).getError().getLocked().getKey().toStringUtf8())
                    .isEqualTo("ers-c");
            // Without an end key the scan stops at the region's end ("m").
            Kvrpcpb.ScanResponse toRegionEnd =
                    wire.leaderOf("ers-a")
                            .kvScan(
                                    Kvrpcpb.ScanRequest.newBuilder()
                                            .setContext(ctx.toBuilder().addResolvedLocks(lockTs))
                                            .setStartKey(Wire.bs("ers-"))
                                            .setLimit(10240)
                                            .setKeyOnly(true)
                                            .setVersion(readTs)
                                            .build());
            assertThat(toRegionEnd.getPairsList())
                    .extracting(p -> p.getKey().toStringUtf8())
                    .startsWith("ers-a", "ers-c", "ers-d")
                    .doesNotContain("z-ers")
                    .allMatch(k -> k.compareTo("m") < 0);
            assertThat(toRegionEnd.getPairsList()).allMatch(p -> p.getValue().isEmpty());

            // Clean up the lock so other readers are not blocked.
            wire.leaderOf("ers-a")
                    .kvResolveLock(
                            Kvrpcpb.ResolveLockRequest.newBuilder()
                                    .setContext(ctx)
                                    .setStartVersion(lockTs)
                                    .build());
            ByteString after =
                    session.createKVClient()
                            .get(Wire.bs("ers-c"), session.getTimestamp().getVersion());
            assertThat(after.toStringUtf8()).isEqualTo("C");
        }
    }
}
