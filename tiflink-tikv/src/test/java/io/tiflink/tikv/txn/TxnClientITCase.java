package io.tiflink.tikv.txn;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.storage.Lock;
import io.tiflink.minicluster.storage.Modify;
import io.tiflink.minicluster.workload.TiDBLikeWriter;
import io.tiflink.minicluster.workload.TiDBLikeWriter.Crash;
import io.tiflink.minicluster.workload.TiDBLikeWriter.Shape;
import io.tiflink.tikv.ByteKey;
import io.tiflink.tikv.UnavailableTimeout;

import org.tikv.common.TiConfiguration;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The Percolator commands the sink relies on, against the minicluster's TiKV semantics. */
@Timeout(60)
class TxnClientITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(2));

    private static TxnClient txn;

    @BeforeAll
    static void connect(MiniTiKVCluster cluster) {
        txn = TxnClient.open(TiConfiguration.createDefault(cluster.pdAddress()));
    }

    @AfterAll
    static void close() throws Exception {
        txn.close();
    }

    private static byte[] key(String k) {
        return k.getBytes(StandardCharsets.US_ASCII);
    }

    private static long prewrite(byte[] primary, long ttl, byte[]... secondaries) {
        long startTs = txn.timestamp();
        List<Kvrpcpb.Mutation> mutations = new java.util.ArrayList<>();
        for (byte[] k : List.of(primary)) {
            mutations.add(put(k));
        }
        for (byte[] k : secondaries) {
            mutations.add(put(k));
        }
        txn.prewrite(primary, mutations, startTs, ttl);
        return startTs;
    }

    private static Kvrpcpb.Mutation put(byte[] k) {
        return Kvrpcpb.Mutation.newBuilder()
                .setOp(Kvrpcpb.Op.Put)
                .setKey(ByteString.copyFrom(k))
                .setValue(ByteString.copyFromUtf8("v"))
                .build();
    }

    /** A live async-commit transaction's lock on {@code k}, its own primary; returns its ts. */
    private static long plantAsyncCommitLock(MiniTiKVCluster cluster, byte[] k) {
        long lockTs = cluster.currentTs();
        cluster.percolator()
                .store()
                .write(
                        (store, batch) ->
                                batch.add(
                                        Modify.putLock(
                                                k,
                                                new Lock(
                                                        Kvrpcpb.Op.Put,
                                                        k,
                                                        lockTs,
                                                        600_000,
                                                        new byte[] {'v'},
                                                        0,
                                                        1,
                                                        0,
                                                        true,
                                                        List.of(),
                                                        0))));
        return lockTs;
    }

    /** A reader with a start ts ahead of ours meets the lock and pushes min_commit_ts. */
    private static void pushMinCommitTs(
            MiniTiKVCluster cluster, byte[] primary, long lockTs, long to) {
        Kvrpcpb.CheckTxnStatusResponse r =
                cluster.percolator()
                        .checkTxnStatus(
                                Kvrpcpb.CheckTxnStatusRequest.newBuilder()
                                        .setPrimaryKey(ByteString.copyFrom(primary))
                                        .setLockTs(lockTs)
                                        .setCallerStartTs(to)
                                        .setCurrentTs(cluster.currentTs())
                                        .build());
        assertThat(r.getAction()).isEqualTo(Kvrpcpb.Action.MinCommitTSPushed);
    }

    @Test
    void commitsWithAFreshTimestampWhenAReaderPushedMinCommitTs(MiniTiKVCluster cluster) {
        byte[] primary = key("push/p");
        long startTs = prewrite(primary, 10_000, key("push/s"));
        // A reader 300 ms ahead: commits at TSOs until then expire.
        long readerTs = cluster.currentTs() + (300L << 18);
        pushMinCommitTs(cluster, primary, startTs, readerTs);
        long commitTs = txn.commitPrimary(primary, startTs);
        assertThat(commitTs).isGreaterThan(readerTs);
        assertThat(txn.status(primary, startTs).commitTs).isEqualTo(commitTs);
        txn.resolveRange(key("push/"), key("push0"), startTs, commitTs);
        assertThat(txn.get(cluster.currentTs(), List.of(key("push/s")))).hasSize(1);
    }

    @Test
    void asksWhetherItMayCommitAtEachCommitTsItTries(MiniTiKVCluster cluster) {
        byte[] primary = key("ask/p");
        long startTs = prewrite(primary, 10_000);
        List<Long> asked = new java.util.ArrayList<>();
        long commitTs =
                txn.commitPrimary(
                        primary,
                        startTs,
                        ts -> {
                            asked.add(ts);
                            if (asked.size() == 1) {
                                // A reader ahead of the first commit ts meets the lock meanwhile.
                                pushMinCommitTs(
                                        cluster,
                                        primary,
                                        startTs,
                                        cluster.currentTs() + (300L << 18));
                            }
                            return true;
                        });
        assertThat(asked).hasSizeGreaterThan(1);
        assertThat(commitTs).isEqualTo(asked.get(asked.size() - 1));
        assertThat(txn.status(primary, startTs).commitTs).isEqualTo(commitTs);
    }

    @Test
    void commitsNothingAtACommitTsItMayNotCommitAt() {
        byte[] primary = key("refuse/p");
        long startTs = prewrite(primary, 10_000);
        assertThat(txn.commitPrimary(primary, startTs, ts -> false)).isZero();
        assertThat(txn.status(primary, startTs).locked).isTrue();
        txn.rollbackPrimary(primary, startTs);
    }

    @Test
    void concurrentCommittersAgreeOnTheCommitTs() throws Exception {
        byte[] primary = key("race/p");
        long startTs = prewrite(primary, 10_000);
        List<CompletableFuture<Long>> committers = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
            committers.add(
                    CompletableFuture.supplyAsync(() -> txn.commitPrimary(primary, startTs)));
        }
        long first = committers.get(0).get();
        for (CompletableFuture<Long> c : committers) {
            assertThat(c.get()).isEqualTo(first);
        }
        assertThat(txn.status(primary, startTs).commitTs).isEqualTo(first);
    }

    @Test
    void aScanReadsCommittedKeysAcrossRegionsAndWaitsForLiveAsyncCommitLocksUpToTheDeadline(
            MiniTiKVCluster cluster) throws Exception {
        byte[] primary = key("scan/a");
        long startTs = prewrite(primary, 10_000, key("scan/b"), key("scan/c"), key("scan/d"));
        long commitTs = txn.commitPrimary(primary, startTs);
        assertThat(
                        txn.commit(
                                List.of(key("scan/b"), key("scan/c"), key("scan/d")),
                                startTs,
                                commitTs))
                .isNull();
        cluster.split(key("scan/c"));
        long ts = txn.timestamp();
        assertThat(txn.scan(ts, key("scan/"), key("scan0"), 10))
                .extracting(p -> p.getKey().toStringUtf8())
                .containsExactly("scan/a", "scan/b", "scan/c", "scan/d");
        assertThat(txn.scan(ts, key("scan/b"), key("scan/d"), 10))
                .extracting(p -> p.getKey().toStringUtf8())
                .containsExactly("scan/b", "scan/c");
        assertThat(txn.scan(ts, key("scan/"), key("scan0"), 3)).hasSize(3);
        assertThat(txn.scan(startTs - 1, key("scan/"), key("scan0"), 10)).isEmpty();

        // A live transaction's lock is read past (its min_commit_ts pushed above the read).
        prewrite(key("scan/e"), 60_000);
        assertThat(txn.scan(txn.timestamp(), key("scan/"), key("scan0"), 10)).hasSize(4);
        // A live async-commit transaction's is not: it is waited for, up to the deadline. (Planted:
        // another test's reader from the future raised max_ts past a new one's max_commit_ts.)
        long lockTs = plantAsyncCommitLock(cluster, key("scan/f"));
        try (TxnClient impatient =
                TxnClient.open(
                        TiConfiguration.createDefault(cluster.pdAddress()),
                        UnavailableTimeout.of(Duration.ofSeconds(2), null),
                        0)) {
            assertThatThrownBy(
                            () ->
                                    impatient.scan(
                                            cluster.currentTs(), key("scan/"), key("scan0"), 10))
                    .isInstanceOf(TxnException.class)
                    .hasMessageContaining("scanning at")
                    .hasMessageContaining("still finds keys locked after 2000 ms: key scan/f")
                    .hasMessageContaining("transaction " + lockTs);
        }
    }

    @Test
    void aRolledBackTransactionIsNeverCommitted() {
        byte[] primary = key("gone/p");
        long startTs = prewrite(primary, 10_000);
        assertThat(txn.rollbackPrimary(primary, startTs)).isZero();
        assertThat(txn.status(primary, startTs).rolledBack()).isTrue();
        assertThatThrownBy(() -> txn.commitPrimary(primary, startTs))
                .isInstanceOf(TxnException.class)
                .hasMessageContaining("cannot be committed: it is rolled back");
        // and a late prewrite of its primary fails (the rollback record is protected)
        assertThatThrownBy(() -> txn.prewrite(primary, List.of(put(primary)), startTs, 10_000))
                .isInstanceOf(TxnException.class)
                .hasMessageContaining("SelfRolledBack");
    }

    @Test
    void statusChangesNothingAndHeartbeatsKeepALockAlive(MiniTiKVCluster cluster) {
        byte[] primary = key("ttl/p");
        long startTs = prewrite(primary, 3_000);
        assertThat(txn.heartBeat(primary, startTs, 60_000)).isTrue();
        // A reader 10 s later finds the lock alive thanks to the heartbeat.
        Kvrpcpb.CheckTxnStatusResponse r =
                cluster.percolator()
                        .checkTxnStatus(
                                Kvrpcpb.CheckTxnStatusRequest.newBuilder()
                                        .setPrimaryKey(ByteString.copyFrom(primary))
                                        .setLockTs(startTs)
                                        .setCallerStartTs(cluster.currentTs())
                                        .setCurrentTs(cluster.currentTs() + (10_000L << 18))
                                        .build());
        assertThat(r.getLockTtl()).isGreaterThan(10_000);
        assertThat(txn.status(primary, startTs).locked).isTrue();
        txn.rollbackPrimary(primary, startTs);
        assertThat(txn.heartBeat(primary, startTs, 60_000)).isFalse();
    }

    @Test
    void theTransactionsOfAMarkedClientCarryItsTxnSource(MiniTiKVCluster cluster) throws Exception {
        byte[] primary = key("source/p");
        byte[] secondary = key("source/s");
        try (TxnClient marked =
                TxnClient.open(
                        TiConfiguration.createDefault(cluster.pdAddress()),
                        UnavailableTimeout.DEFAULT,
                        3)) {
            long startTs = marked.timestamp();
            marked.prewrite(primary, List.of(put(primary), put(secondary)), startTs, 10_000);
            assertThat(cluster.storage().lock(primary).txnSource).isEqualTo(3);
            assertThat(cluster.storage().lock(secondary).txnSource).isEqualTo(3);
            long commitTs = marked.commitPrimary(primary, startTs);
            assertThat(marked.commit(List.of(secondary), startTs, commitTs)).isNull();
            assertThat(cluster.storage().txnRecord(primary, startTs).txnSource).isEqualTo(3);
            assertThat(cluster.storage().txnRecord(secondary, startTs).txnSource).isEqualTo(3);
        }
        long unmarked = prewrite(key("source/q"), 10_000);
        assertThat(cluster.storage().lock(key("source/q")).txnSource).isZero();
        txn.rollbackPrimary(key("source/q"), unmarked);
    }

    @Test
    void aWriteConflictIsReportedNotRetried(MiniTiKVCluster cluster) {
        byte[] k = key("conflict/k");
        long ours = txn.timestamp();
        long theirs = prewrite(k, 10_000);
        txn.commitPrimary(k, theirs);
        assertThatThrownBy(() -> txn.prewrite(key("conflict/p"), List.of(put(k)), ours, 10_000))
                .isInstanceOf(WriteConflictException.class)
                .hasMessageContaining("write conflict")
                .hasMessageContaining("conflict/k");
    }

    /**
     * A lock the reader can neither resolve nor read past (an async-commit lock, whose
     * min_commit_ts TiKV does not push and whose secondaries tikv-client-java 3.3.5 cannot check;
     * here with a long TTL) fails a read within the retry budget, naming the key and the lock's
     * owner, instead of waiting as long as the lock lives.
     */
    @Test
    void aReadMeetingALockItCannotResolveFailsWithinTheDeadline(MiniTiKVCluster cluster)
            throws Exception {
        byte[] k = key("async-locked");
        long lockTs = plantAsyncCommitLock(cluster, k);
        try (TxnClient impatient =
                TxnClient.open(
                        TiConfiguration.createDefault(cluster.pdAddress()),
                        UnavailableTimeout.of(Duration.ofSeconds(2), null),
                        0)) {
            long started = System.nanoTime();
            assertThatThrownBy(() -> impatient.get(impatient.timestamp(), List.of(k)))
                    .isInstanceOf(TxnException.class)
                    .hasMessageContaining("async-locked")
                    .hasMessageContaining("transaction " + lockTs);
            assertThat(Duration.ofNanos(System.nanoTime() - started))
                    .isLessThan(Duration.ofSeconds(30));
        }
    }

    /**
     * A crashed async-commit transaction (TiDB's default): tikv-client-java 3.3.5 would wait for it
     * forever; reads and prewrites settle it from its secondaries once its TTL ran out.
     */
    @Test
    void readsAndPrewritesSettleCrashedAsyncCommitTransactions(MiniTiKVCluster cluster)
            throws Exception {
        cluster.split(key("ac-m"));
        Map<byte[], byte[]> committed = new LinkedHashMap<>();
        committed.put(key("ac-a"), key("a1"));
        committed.put(key("ac-z"), key("z1"));
        Map<byte[], byte[]> rolledBack = new LinkedHashMap<>();
        rolledBack.put(key("ac-b"), key("b1"));
        rolledBack.put(key("ac-y"), key("y1"));
        try (TiDBLikeWriter tidb = new TiDBLikeWriter(cluster, 100);
                TxnClient impatient =
                        TxnClient.open(
                                TiConfiguration.createDefault(cluster.pdAddress()),
                                UnavailableTimeout.of(Duration.ofSeconds(10), null),
                                0)) {
            // Every key prewritten: committed, at the largest min_commit_ts.
            tidb.crash(Shape.ASYNC_COMMIT, Crash.AFTER_PREWRITE, committed);
            // The other region's key never prewritten: rolled back.
            tidb.crash(Shape.ASYNC_COMMIT, Crash.MISSING_SECONDARIES, rolledBack);
            Map<ByteKey, byte[]> read =
                    impatient.get(
                            cluster.currentTs(),
                            List.of(key("ac-a"), key("ac-z"), key("ac-b"), key("ac-y")));
            assertThat(read)
                    .containsOnlyKeys(new ByteKey(key("ac-a")), new ByteKey(key("ac-z")))
                    .containsEntry(new ByteKey(key("ac-z")), key("z1"));
            tidb.crash(Shape.ASYNC_COMMIT, Crash.AFTER_PREWRITE, Map.of(key("ac-c"), key("c1")));
            assertThat(impatient.scan(cluster.currentTs(), key("ac-"), key("ac-d"), 10))
                    .extracting(p -> p.getKey().toStringUtf8())
                    .containsExactly("ac-a", "ac-c");

            tidb.crash(Shape.ASYNC_COMMIT, Crash.AFTER_PREWRITE, rolledBack);
            long startTs = impatient.timestamp();
            impatient.prewrite(key("ac-b"), List.of(put(key("ac-b"))), startTs, 3000);
            assertThat(impatient.get(cluster.currentTs(), List.of(key("ac-y"))))
                    .containsEntry(new ByteKey(key("ac-y")), key("y1"));
            impatient.rollbackPrimary(key("ac-b"), startTs);
        }
    }
}
