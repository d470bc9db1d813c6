package io.tiflink.connector.sink;

import io.tiflink.connector.testutils.FailingCheckpoint;
import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.SinkWorkflows;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.txn.Percolator;
import io.tiflink.tidb.meta.CIStr;
import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.meta.FieldType;
import io.tiflink.tidb.meta.SchemaWriter;
import io.tiflink.tidb.types.MysqlType;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.ExceptionUtils;

import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.tiflink.connector.testutils.SinkWorkflows.awaitFailureInjected;
import static io.tiflink.connector.testutils.SinkWorkflows.cancel;
import static io.tiflink.connector.testutils.SinkWorkflows.emitUpTo;
import static io.tiflink.connector.testutils.SinkWorkflows.failAtRecord;
import static io.tiflink.connector.testutils.SinkWorkflows.failuresInjected;
import static io.tiflink.connector.testutils.SinkWorkflows.savepoint;
import static io.tiflink.connector.testutils.SinkWorkflows.stopWithSavepoint;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * The sink under the workflows operators run: a savepoint then a cancel, the job down past the
 * locks' TTL with readers meeting them and GC running, stop-with-savepoint and restores at another
 * parallelism, an aborted checkpoint, a DDL while an epoch is open. The input is released in steps
 * and checkpoints are triggered by the test, so each step lands in the epoch it is meant for.
 * Afterwards the table is the input applied once, its indexes are complete, and no lock is left.
 * ({@link SinkWorkflows} has the job and the checks; {@code TiKVSinkSoakITCase} runs these
 * workflows and more in random sequences.)
 */
@Timeout(240)
class TiKVSinkWorkflowsITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(2));

    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(4);

    @RegisterExtension
    @Order(SinkWorkflows.ORDER)
    static final SinkWorkflows WORKFLOWS =
            new SinkWorkflows(TIKV, "ops", 1, 2, 3, 4, 5, 6, 7, 8, 9);

    /**
     * {@code flink savepoint}, {@code flink cancel}, down past the TTL, {@code flink run -s}: the
     * savepoint holds the epoch written before it, which its completion (notified to no one) never
     * committed and the cancel rolled back.
     */
    @Test
    void savepointCancelDowntimeRestore(@InjectMiniCluster MiniCluster flink, @TempDir Path dir)
            throws Exception {
        JobClient job = WORKFLOWS.start(1, 2, null);
        emitUpTo(100);
        WORKFLOWS.commitUpTo(flink, job, 1, 100);
        emitUpTo(200);
        String savepoint = savepoint(job, dir);
        cancel(job);
        WORKFLOWS.downPastTheLockTtl(1);

        JobClient restored = WORKFLOWS.start(1, 2, savepoint);
        emitUpTo(300);
        WORKFLOWS.endExactly(flink, restored, 1, 300);
    }

    /**
     * A savepoint before any checkpoint completed, then a cancel (which then leaves the epoch's
     * locks: a checkpoint holding it might have completed unseen), down past the TTL: a reader
     * rolls the epoch back, and the restore must write it again.
     */
    @Test
    void anEpochRolledBackByAReaderWhileTheJobIsDownIsWrittenAgain(
            @InjectMiniCluster MiniCluster flink, @TempDir Path dir) throws Exception {
        JobClient job = WORKFLOWS.start(2, 2, null);
        emitUpTo(150);
        String savepoint = savepoint(job, dir);
        cancel(job);
        WORKFLOWS.downPastTheLockTtl(2);

        JobClient restored = WORKFLOWS.start(2, 2, savepoint);
        emitUpTo(250);
        WORKFLOWS.endExactly(flink, restored, 2, 250);
    }

    /**
     * Stop-with-savepoint, then restores at parallelism 1 → 3 → 1: the writers' state (changes
     * deferred past the last epoch) and the committers' are spread over other subtasks, whose rows'
     * new owners must read them committed.
     */
    @Test
    void stopWithSavepointAndRescale(@InjectMiniCluster MiniCluster flink, @TempDir Path dir)
            throws Exception {
        String savepoint = null;
        long emitted = 0;
        for (int parallelism : new int[] {1, 3}) {
            JobClient job = WORKFLOWS.start(3, parallelism, savepoint);
            emitted += 120;
            emitUpTo(emitted);
            savepoint = stopWithSavepoint(job, dir);
        }
        JobClient last = WORKFLOWS.start(3, 1, savepoint);
        emitUpTo(emitted + 120);
        WORKFLOWS.endExactly(flink, last, 3, emitted + 120);
    }

    /**
     * A checkpoint that fails after the writers took part in it: its epoch opens all the same, so
     * the writers go on writing as their buffers fill, instead of holding everything until the next
     * checkpoint completes.
     */
    @Test
    void writersGoOnWritingAfterAnAbortedCheckpoint(@InjectMiniCluster MiniCluster flink)
            throws Exception {
        FailingCheckpoint.failEveryCheckpoint();
        JobClient job = WORKFLOWS.start(4, 2, null, 100);
        emitUpTo(100);
        // The writers' buffers hold the first changes when they take part in the checkpoint. It
        // is triggered until one starts (a trigger meeting a task still being deployed is
        // refused); it fails, as would any other until stopFailing().
        await().atMost(Duration.ofMinutes(1))
                .pollInterval(Duration.ofMillis(100))
                .until(
                        () -> {
                            Throwable t =
                                    catchThrowable(
                                            () ->
                                                    flink.triggerCheckpoint(job.getJobID())
                                                            .get(10, TimeUnit.SECONDS));
                            return t == null
                                    || !ExceptionUtils.findThrowableWithMessage(
                                                    t, "not being executed")
                                            .isPresent();
                        });
        await().atMost(Duration.ofMinutes(1)).until(() -> FailingCheckpoint.aborted().isDone());
        emitUpTo(400);
        // Each of the two writers buffers at most 8 changes (sink.buffer-flush.max-rows).
        await().atMost(Duration.ofMinutes(1))
                .untilAsserted(
                        () ->
                                assertThat(WORKFLOWS.recordLocks("events4", 1000))
                                        .as("events prewritten without a completed checkpoint")
                                        .isGreaterThanOrEqualTo(400 - 2 * 8));
        FailingCheckpoint.stopFailing();
        WORKFLOWS.endExactly(flink, job, 4, 400);
    }

    /**
     * A savepoint triggered while a checkpoint completes (Flink takes it beside the checkpoints in
     * flight): the savepoint's epoch opens at its trigger, before the checkpoint's completion is
     * known. The checkpoint's epoch must open all the same, since the writers that took part in it
     * write into it until the savepoint's barrier reaches them; with full buffers they wait for it,
     * and the savepoint with them.
     */
    @Test
    void aSavepointBesideACompletingCheckpointLetsTheCheckpointsEpochOpen(
            @InjectMiniCluster MiniCluster flink, @TempDir Path dir) throws Exception {
        CompletableFuture<Long> held = FailingCheckpoint.holdFirstCheckpoint();
        JobClient job = WORKFLOWS.start(9, 2, null, 0);
        emitUpTo(50);
        // Checkpoint c: its barriers pass, its completion waits (a trigger meeting a task still
        // being deployed is refused: triggered until one is held).
        await().atMost(Duration.ofMinutes(1))
                .pollInterval(Duration.ofMillis(200))
                .until(
                        () -> {
                            flink.triggerCheckpoint(job.getJobID());
                            return held.isDone();
                        });
        long c = held.get();
        // More than the writers buffer (8 changes each), after c's barriers: they need epoch c.
        emitUpTo(150);
        CompletableFuture<String> savepoint =
                job.triggerSavepoint(dir.toString(), SavepointFormatType.CANONICAL);
        await().atMost(Duration.ofMinutes(1))
                .until(
                        () ->
                                sinkLocks().stream()
                                                .filter(TiKVSinkWorkflowsITCase::isPlainEpochKey)
                                                .filter(k -> epochOfKey(k) > c)
                                                .count()
                                        >= 2);
        FailingCheckpoint.releaseHeld();
        assertThat(savepoint.get(1, TimeUnit.MINUTES)).isNotNull();
        WORKFLOWS.endExactly(flink, job, 9, 150);
    }

    private static long epochOfKey(String key) {
        return Long.parseLong(key.substring(key.lastIndexOf('/') + 1));
    }

    /**
     * ADD COLUMN and ADD INDEX become public while an epoch holds rows written without them. TiDB's
     * backfill does not see the epoch's new rows (not committed yet), and TiDB would refuse to
     * commit a transaction that spans such a change: the sink rolls the epoch back and writes it
     * again with the new schema, so every row has the new index's entries, and none is lost or
     * written twice.
     */
    @Test
    void aDdlWhileAnEpochIsOpenIsWrittenAgainWithTheNewSchema(@InjectMiniCluster MiniCluster flink)
            throws Exception {
        JobClient job = WORKFLOWS.start(5, 2, null);
        emitUpTo(100);
        WORKFLOWS.commitUpTo(flink, job, 5, 100);
        emitUpTo(150);
        await().atMost(Duration.ofMinutes(1)).until(() -> WORKFLOWS.recordLocks("events5", 1) > 0);
        SchemaWriter ddl = new SchemaWriter(WORKFLOWS.tables().session());
        ColumnInfo note = new ColumnInfo();
        note.name = CIStr.of("note");
        note.type = new FieldType(MysqlType.VARCHAR);
        note.type.flen = 8;
        note.type.charset = "utf8mb4";
        note.type.collate = "utf8mb4_bin";
        note.defaultValue = "none";
        ddl.addColumn("ops", "accounts5", note);
        ddl.addIndex("ops", "events5", "k_seq", false, "seq");
        emitUpTo(200);
        WORKFLOWS.endExactly(flink, job, 5, 200);
        assertThat(
                        WORKFLOWS
                                .tables()
                                .indexEntries("ops", "events5", WORKFLOWS.cluster().currentTs()))
                .as("entries of both indexes of events5")
                .hasSize(2 * 200);
    }

    /**
     * After a failure, the job restarts from checkpoint {@code c} and writes again in epoch {@code
     * c}. A writer of the failed attempt that is still running (a lost TaskManager not dead yet)
     * looks for epoch {@code c} by its primary key: the restarted epoch must have a key of its own,
     * which only the writers of the restart know.
     */
    @Test
    void aWriterOfAnEarlierAttemptCannotFindTheRestartedEpoch(@InjectMiniCluster MiniCluster flink)
            throws Exception {
        JobClient job = WORKFLOWS.start(6, 2, null);
        emitUpTo(100);
        WORKFLOWS.commitUpTo(flink, job, 6, 100);
        // The epoch the failed attempt writes, as its writers found it: a plain epoch key (the
        // coordinator opens it once the commit is done).
        await().atMost(Duration.ofMinutes(1))
                .until(
                        () ->
                                sinkLocks().stream()
                                        .anyMatch(TiKVSinkWorkflowsITCase::isPlainEpochKey));
        Set<String> before = sinkLocks();
        int failures = failuresInjected();
        failAtRecord(120);
        emitUpTo(150);
        awaitFailureInjected(job, failures);
        // The restart writes in a restarted epoch; the failed attempt's plain keys are gone.
        await().atMost(Duration.ofMinutes(1))
                .untilAsserted(
                        () ->
                                assertThat(sinkLocks())
                                        .anyMatch(k -> k.contains("/restart-"))
                                        .noneMatch(before::contains));
        WORKFLOWS.endExactly(flink, job, 6, 150);
    }

    /**
     * A sink leaves one key per epoch (its primary, whose commit record tells a restore the epoch's
     * fate), and per restore (its transaction's primary, the applied marks of the states it
     * restored). Once no retained checkpoint refers to an epoch (Flink retains one by default), its
     * keys go; the table stays exact, and a restore from the latest checkpoint after a failure
     * still finds what it needs.
     */
    @Test
    void theKeysOfEpochsNoRetainedCheckpointNeedsAreRemoved(@InjectMiniCluster MiniCluster flink)
            throws Exception {
        JobClient job = WORKFLOWS.start(7, 2, null);
        emitUpTo(50);
        WORKFLOWS.commitUpTo(flink, job, 7, 50);
        int failures = failuresInjected();
        failAtRecord(70);
        emitUpTo(100);
        awaitFailureInjected(job, failures);
        WORKFLOWS.commitUpTo(flink, job, 7, 100);
        assertThat(sinkKeys("ops.accounts7")).anyMatch(k -> k.endsWith("/restore"));
        for (long n = 120; n <= 200; n += 20) {
            emitUpTo(n);
            WORKFLOWS.commitUpTo(flink, job, 7, n);
        }
        // Removed at most once a lock TTL: checkpoints go on until then.
        await().atMost(Duration.ofMinutes(1))
                .pollInterval(Duration.ofMillis(500))
                .untilAsserted(
                        () -> {
                            SinkWorkflows.checkpoint(flink, job);
                            for (String table : List.of("ops.accounts7", "ops.events7")) {
                                // Left: the primary of the epoch the latest checkpoint
                                // committed (the one before it, not yet removed, at most), and
                                // the sink's cleaned mark.
                                assertThat(sinkKeys(table))
                                        .as("keys of the sink into %s", table)
                                        .allMatch(
                                                k ->
                                                        isPlainEpochKey(k)
                                                                || k.matches(".*/restart-\\d{20}")
                                                                || k.endsWith("/cleaned"))
                                        .filteredOn(k -> !k.endsWith("/cleaned"))
                                        .hasSizeLessThanOrEqualTo(2);
                            }
                        });
        emitUpTo(260);
        WORKFLOWS.commitUpTo(flink, job, 7, 260);
        // A failure after the removals: the restore finds what it needs.
        failures = failuresInjected();
        failAtRecord(280);
        emitUpTo(300);
        awaitFailureInjected(job, failures);
        WORKFLOWS.endExactly(flink, job, 7, 300);
    }

    /**
     * A savepoint older than the oldest retained checkpoint refers to an epoch whose keys the sink
     * removed, and which TiKV then forgot (GC): restoring it must not take the epoch for rolled
     * back and write it again (its events would be appended twice).
     */
    @Test
    void aSavepointOlderThanTheRemovedKeysDoesNotWriteItsEpochAgain(
            @InjectMiniCluster MiniCluster flink, @TempDir Path dir) throws Exception {
        JobClient job = WORKFLOWS.start(8, 2, null);
        emitUpTo(50);
        WORKFLOWS.commitUpTo(flink, job, 8, 50);
        emitUpTo(80);
        // The open epoch, which the savepoint's writer states refer to.
        MiniTiKVCluster cluster = WORKFLOWS.cluster();
        String sinkId =
                sinkKeys("ops.events8").stream()
                        .map(k -> EpochKeys.sinkIdOf(k.getBytes(StandardCharsets.US_ASCII)))
                        .findFirst()
                        .orElseThrow();
        byte[] prefix = EpochKeys.prefix(sinkId);
        List<Kvrpcpb.LockInfo> open =
                cluster.percolator().scanLocks(prefix, EpochKeys.end(prefix), Long.MAX_VALUE, 10);
        assertThat(open).hasSize(1);
        byte[] primary = open.get(0).getKey().toByteArray();
        long epoch = EpochKeys.epochOf(sinkId, primary);
        String older = savepoint(job, dir);
        // Checkpoints (no more input) commit that epoch, and its keys go.
        await().atMost(Duration.ofMinutes(1))
                .pollInterval(Duration.ofMillis(500))
                .untilAsserted(
                        () -> {
                            SinkWorkflows.checkpoint(flink, job);
                            byte[] mark =
                                    cluster.percolator()
                                            .get(
                                                    EpochKeys.cleaned(sinkId),
                                                    new Percolator.ReadContext(
                                                            cluster.currentTs(), Set.of(), false));
                            assertThat(mark).isNotNull();
                            assertThat(EpochKeys.cleanedEpoch(mark)).isGreaterThan(epoch);
                        });
        cancel(job);
        cluster.gc(cluster.currentTs());
        Kvrpcpb.CheckTxnStatusResponse forgotten =
                cluster.percolator()
                        .checkTxnStatus(
                                Kvrpcpb.CheckTxnStatusRequest.newBuilder()
                                        .setPrimaryKey(ByteString.copyFrom(primary))
                                        .setLockTs(open.get(0).getLockVersion())
                                        .build());
        assertThat(forgotten.getError().hasTxnNotFound()).as("TiKV forgot the epoch").isTrue();

        JobClient restored = WORKFLOWS.start(8, 2, older);
        WORKFLOWS.endExactly(flink, restored, 8, 80);
    }

    /**
     * The committed keys of the sinks into {@code table} (whose epoch and restore primaries hold
     * its name), and the applied marks of the states their restores applied.
     */
    private static Set<String> sinkKeys(String table) {
        MiniTiKVCluster cluster = WORKFLOWS.cluster();
        List<Kvrpcpb.KvPair> pairs =
                cluster.percolator()
                        .scan(
                                "TiFlink/sink/".getBytes(StandardCharsets.US_ASCII),
                                "TiFlink/sink0".getBytes(StandardCharsets.US_ASCII),
                                100_000,
                                false,
                                false,
                                new Percolator.ReadContext(cluster.currentTs(), Set.of(), false));
        Set<String> sinks = new TreeSet<>();
        for (Kvrpcpb.KvPair p : pairs) {
            if (!p.hasError() && p.getValue().toStringUtf8().equals(table)) {
                sinks.add(EpochKeys.sinkIdOf(p.getKey().toByteArray()));
            }
        }
        Set<String> keys = new TreeSet<>();
        for (Kvrpcpb.KvPair p : pairs) {
            String owner =
                    EpochKeys.sinkIdOf(
                            (p.getKey().toStringUtf8().startsWith("TiFlink/sink/applied/")
                                            ? p.getValue()
                                            : p.getKey())
                                    .toByteArray());
            if (!p.hasError() && sinks.contains(owner)) {
                keys.add(p.getKey().toStringUtf8());
            }
        }
        return keys;
    }

    /** The keys of the sinks' open transactions ({@code TiFlink/sink/...}). */
    private static Set<String> sinkLocks() {
        Set<String> keys = new TreeSet<>();
        for (Kvrpcpb.LockInfo lock :
                WORKFLOWS
                        .cluster()
                        .percolator()
                        .scanLocks(
                                "TiFlink/sink/".getBytes(StandardCharsets.US_ASCII),
                                "TiFlink/sink0".getBytes(StandardCharsets.US_ASCII),
                                Long.MAX_VALUE,
                                1000)) {
            keys.add(lock.getKey().toStringUtf8());
        }
        return keys;
    }

    /** {@code TiFlink/sink/<sink id>/<epoch, 20 digits>}. */
    private static boolean isPlainEpochKey(String key) {
        return key.matches("TiFlink/sink/[^/]+/\\d{20}");
    }
}
