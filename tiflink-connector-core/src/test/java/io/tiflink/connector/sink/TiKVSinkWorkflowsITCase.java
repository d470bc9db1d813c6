package io.tiflink.connector.sink;

import io.tiflink.connector.testutils.FailingCheckpoint;
import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.tidb.meta.CIStr;
import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.meta.FieldType;
import io.tiflink.tidb.meta.SchemaWriter;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.table.TableCodec;
import io.tiflink.tidb.types.MysqlType;
import io.tiflink.tidb.write.RowWrite;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiter;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.checkpoint.CheckpointException;
import org.apache.flink.runtime.client.JobStatusMessage;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.ExceptionUtils;

import org.tikv.common.TiSession;
import org.tikv.common.operation.iterator.ConcreteScanIterator;
import org.tikv.shade.com.google.protobuf.ByteString;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.apache.flink.core.execution.SavepointFormatType.CANONICAL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The sink under the workflows operators run: a savepoint then a cancel, the job down past the
 * locks' TTL with readers meeting them and GC running, stop-with-savepoint, and restores at another
 * parallelism. The input is released in steps and checkpoints are triggered by the test, so each
 * step lands in the epoch it is meant for. Afterwards the table is the input applied once, its
 * indexes are complete, and no lock is left.
 */
@Timeout(240)
class TiKVSinkWorkflowsITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(2));

    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(4);

    private static final Duration LOCK_TTL = Duration.ofSeconds(3);
    private static final int ACCOUNTS = 40;

    /** Records the source may emit so far (every attempt of every job shares it: one JVM). */
    private static final AtomicLong RELEASED = new AtomicLong();

    /** Records the source emitted, in the job's current attempt. */
    private static final AtomicLong EMITTED = new AtomicLong();

    private static TiDBTables tables;

    @BeforeAll
    static void schema(MiniTiKVCluster cluster) {
        tables = new TiDBTables(cluster);
        tables.ddl(
                "CREATE DATABASE ops; USE ops;"
                        + " CREATE TABLE accounts1 (id BIGINT PRIMARY KEY, name VARCHAR(24) NOT NULL,"
                        + "   balance BIGINT, UNIQUE KEY uk_name (name), KEY k_balance (balance));"
                        + " CREATE TABLE events1 (seq BIGINT, account BIGINT, KEY k_account (account));"
                        + " CREATE TABLE accounts2 (id BIGINT PRIMARY KEY, name VARCHAR(24) NOT NULL,"
                        + "   balance BIGINT, UNIQUE KEY uk_name (name), KEY k_balance (balance));"
                        + " CREATE TABLE events2 (seq BIGINT, account BIGINT, KEY k_account (account));"
                        + " CREATE TABLE accounts3 (id BIGINT PRIMARY KEY, name VARCHAR(24) NOT NULL,"
                        + "   balance BIGINT, UNIQUE KEY uk_name (name), KEY k_balance (balance));"
                        + " CREATE TABLE events3 (seq BIGINT, account BIGINT, KEY k_account (account));"
                        + " CREATE TABLE accounts4 (id BIGINT PRIMARY KEY, name VARCHAR(24) NOT NULL,"
                        + "   balance BIGINT, UNIQUE KEY uk_name (name), KEY k_balance (balance));"
                        + " CREATE TABLE events4 (seq BIGINT, account BIGINT, KEY k_account (account));"
                        + " CREATE TABLE accounts5 (id BIGINT PRIMARY KEY, name VARCHAR(24) NOT NULL,"
                        + "   balance BIGINT, UNIQUE KEY uk_name (name), KEY k_balance (balance));"
                        + " CREATE TABLE events5 (seq BIGINT, account BIGINT, KEY k_account (account));");
    }

    @AfterAll
    static void close() throws Exception {
        tables.close();
    }

    // ---- the input ----

    /** Change {@code i}: an upsert or delete of an account, many per account. */
    static RowWrite change(long i) {
        long id = (i * 7) % ACCOUNTS;
        if (i % 9 == 0) {
            return RowWrite.delete(new Object[] {id, null, null});
        }
        return RowWrite.upsert(new Object[] {id, "n" + id + "-" + (i % 4), i});
    }

    /** Lets the source emit up to {@code n} records in all. */
    private static void release(long n) {
        RELEASED.set(n);
        Gate.openAll();
    }

    /**
     * Holds the source at {@link #RELEASED}. (Compiles against Flink 1.20's {@link RateLimiter},
     * whose abstract method is {@code acquire()}, and 2.x's, whose is {@code acquire(int)}.)
     */
    static final class Gate implements RateLimiter {
        private static final List<CompletableFuture<Void>> WAITING = new ArrayList<>();

        static synchronized void openAll() {
            WAITING.forEach(f -> f.complete(null));
            WAITING.clear();
        }

        @Override
        public CompletionStage<Void> acquire() {
            synchronized (Gate.class) {
                if (EMITTED.get() < RELEASED.get()) {
                    return CompletableFuture.completedFuture(null);
                }
                CompletableFuture<Void> f = new CompletableFuture<>();
                WAITING.add(f);
                return f;
            }
        }

        public CompletionStage<Void> acquire(int permits) {
            return acquire();
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {}
    }

    /**
     * The job: changes into {@code accounts<n>} (upserts, deletes) and each change appended to
     * {@code events<n>} (a change written twice or lost changes its row count), through sinks of
     * {@code parallelism} subtasks; checkpoints only when the test triggers them. A restored job's
     * source resumes after the {@code emitted} records its savepoint holds.
     */
    private static JobClient start(
            MiniTiKVCluster cluster, int n, int parallelism, String restoreFrom, long emitted)
            throws Exception {
        return start(cluster, n, parallelism, restoreFrom, emitted, Long.MAX_VALUE);
    }

    /** The job, whose first checkpoint taken after {@code failAfter} records fails. */
    private static JobClient start(
            MiniTiKVCluster cluster,
            int n,
            int parallelism,
            String restoreFrom,
            long emitted,
            long failAfter)
            throws Exception {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
        conf.set(CheckpointingOptions.TOLERABLE_FAILURE_NUMBER, 5);
        if (restoreFrom != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, restoreFrom);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.enableCheckpointing(Duration.ofHours(1).toMillis());
        env.setMaxParallelism(128);
        EMITTED.set(emitted);
        DataGeneratorSource<Long> source =
                new DataGeneratorSource<>(
                        index -> {
                            EMITTED.set(index + 1);
                            return index;
                        },
                        Long.MAX_VALUE,
                        p -> new Gate(),
                        Types.LONG);
        DataStream<RowWrite> changes =
                env.fromSource(source, WatermarkStrategy.noWatermarks(), "changes")
                        .uid("changes")
                        .setParallelism(1)
                        .map(new FailingCheckpoint(failAfter))
                        .uid("fail")
                        .setParallelism(1)
                        .map(TiKVSinkWorkflowsITCase::change)
                        .uid("change")
                        .returns(TypeInformation.of(RowWrite.class))
                        .setParallelism(1)
                        .keyBy(c -> (Long) c.row()[0]);
        changes.sinkTo(sink(cluster, "accounts" + n)).uid("accounts").setParallelism(parallelism);
        changes.map(c -> RowWrite.insert(new Object[] {c.row()[2], c.row()[0]}))
                .uid("event")
                .returns(TypeInformation.of(RowWrite.class))
                .setParallelism(parallelism)
                .sinkTo(sink(cluster, "events" + n))
                .uid("events")
                .setParallelism(parallelism);
        return env.executeAsync("workflow " + n);
    }

    private static TiKVSink<RowWrite> sink(MiniTiKVCluster cluster, String table) {
        return TiKVSink.<RowWrite>builder()
                .pdAddresses(cluster.pdAddress())
                .database("ops")
                .table(table)
                .option(TiKVSinkOptions.BUFFER_FLUSH_MAX_ROWS, 8)
                .option(TiKVSinkOptions.LOCK_TTL, LOCK_TTL)
                .serializer(c -> c)
                .build();
    }

    // ---- steps ----

    /** Releases the input up to {@code n} and waits until the source emitted it. */
    private static void emitUpTo(long n) {
        release(n);
        await().atMost(Duration.ofMinutes(1)).until(() -> EMITTED.get() >= n);
    }

    /**
     * Checkpoints until the tables hold the first {@code n} changes: a checkpoint commits what came
     * before the one before it.
     */
    private static void commitUpTo(MiniCluster flink, JobID job, int table, long n) {
        await().atMost(Duration.ofMinutes(1))
                .pollInterval(Duration.ofMillis(200))
                .ignoreExceptionsMatching(TiKVSinkWorkflowsITCase::notRunningYet)
                .untilAsserted(
                        () -> {
                            flink.triggerCheckpoint(job).get();
                            long ts = tables.session().getTimestamp().getVersion();
                            assertThat(accounts(table, ts)).isEqualTo(expectedAccounts(n));
                            assertThat(events(table, ts)).isEqualTo(expectedEvents(n));
                        });
    }

    /** Takes a savepoint once every task runs (a trigger meeting a deploying task fails). */
    private static String savepoint(Callable<CompletableFuture<String>> trigger) {
        AtomicReference<String> path = new AtomicReference<>();
        await().atMost(Duration.ofMinutes(1))
                .pollInterval(Duration.ofMillis(100))
                .ignoreExceptionsMatching(TiKVSinkWorkflowsITCase::notRunningYet)
                .until(
                        () -> {
                            path.set(trigger.call().get());
                            return true;
                        });
        return path.get();
    }

    /**
     * A checkpoint triggered while some task is still being deployed, or while the job restarts, is
     * refused so.
     */
    private static boolean notRunningYet(Throwable e) {
        return ExceptionUtils.findThrowable(e, CheckpointException.class).isPresent();
    }

    /** Cancels what a failed test left running, so that the next one gets the slots. */
    @AfterEach
    void cancelJobs(@InjectMiniCluster MiniCluster flink) throws Exception {
        for (JobStatusMessage job : flink.listJobs().get()) {
            if (!job.getJobState().isGloballyTerminalState()) {
                flink.cancelJob(job.getJobId()).get();
            }
        }
    }

    private static void cancel(JobClient job) throws Exception {
        job.cancel().get();
        await().atMost(Duration.ofMinutes(1))
                .until(() -> job.getJobStatus().get().isGloballyTerminalState());
    }

    /**
     * The job stays down past its locks' TTL; a tikv-client-java reader scans the tables (and so
     * rolls back the expired locks it meets, as a TiDB reader would) until none of the sink's
     * transactions is left open; then GC runs.
     */
    private static void downPastTheLockTtl(MiniTiKVCluster cluster, int table) {
        long downAt = System.currentTimeMillis();
        await().atMost(Duration.ofMinutes(1))
                .pollDelay(LOCK_TTL.plusMillis(500))
                .pollInterval(Duration.ofMillis(500))
                .until(
                        () -> {
                            for (String name : List.of("accounts" + table, "events" + table)) {
                                scan(tables.table("ops", name));
                            }
                            // The sink's primaries ("TiFlink/sink/...") are rolled back with them.
                            return cluster.percolator()
                                    .scanLocks(
                                            new byte[] {'T'}, new byte[] {'U'}, Long.MAX_VALUE, 1)
                                    .isEmpty();
                        });
        assertThat(System.currentTimeMillis() - downAt).isGreaterThan(LOCK_TTL.toMillis());
        cluster.gc(cluster.currentTs());
    }

    private static void scan(TableInfo table) {
        TiSession session = tables.session();
        ConcreteScanIterator scan =
                new ConcreteScanIterator(
                        session.getConf(),
                        session.getRegionStoreClientBuilder(),
                        ByteString.copyFrom(TableCodec.recordPrefix(table.id)),
                        ByteString.copyFrom(TableCodec.recordPrefix(table.id + 1)),
                        session.getTimestamp().getVersion());
        while (scan.hasNext()) {
            scan.next();
        }
    }

    // ---- what the tables must hold ----

    private static Map<Long, String> expectedAccounts(long n) {
        Map<Long, String> rows = new TreeMap<>();
        for (long i = 0; i < n; i++) {
            RowWrite c = change(i);
            Object[] row = c.row();
            if (c.kind() == RowWrite.Kind.DELETE) {
                rows.remove((Long) row[0]);
            } else {
                rows.put((Long) row[0], row[0] + "," + row[1] + "," + row[2]);
            }
        }
        return rows;
    }

    private static Map<String, Integer> expectedEvents(long n) {
        Map<String, Integer> events = new TreeMap<>();
        for (long i = 0; i < n; i++) {
            Object[] row = change(i).row();
            events.merge(row[2] + "@" + row[0], 1, Integer::sum);
        }
        return events;
    }

    private static Map<Long, String> accounts(int table, long ts) {
        Map<Long, String> rows = new TreeMap<>();
        for (Object[] r : tables.rows("ops", "accounts" + table, ts)) {
            rows.put((Long) r[0], r[0] + "," + r[1] + "," + r[2]);
        }
        return rows;
    }

    private static Map<String, Integer> events(int table, long ts) {
        Map<String, Integer> events = new TreeMap<>();
        for (Object[] r : tables.rows("ops", "events" + table, ts)) {
            events.merge(r[0] + "@" + r[1], 1, Integer::sum);
        }
        return events;
    }

    /** The tables hold exactly the first {@code n} changes, with every index entry, no lock. */
    private static void assertExactly(MiniTiKVCluster cluster, int table, long n) {
        long ts = cluster.currentTs();
        assertThat(accounts(table, ts)).isEqualTo(expectedAccounts(n));
        assertThat(events(table, ts)).isEqualTo(expectedEvents(n));
        for (String name : List.of("accounts" + table, "events" + table)) {
            assertThat(tables.indexEntries("ops", name, ts))
                    .as("index entries of %s", name)
                    .containsExactlyInAnyOrderEntriesOf(
                            tables.expectedIndexEntries("ops", name, ts));
            TableInfo t = tables.table("ops", name);
            await().atMost(Duration.ofSeconds(30))
                    .untilAsserted(
                            () ->
                                    assertThat(
                                                    cluster.percolator()
                                                            .scanLocks(
                                                                    TableCodec.recordPrefix(t.id),
                                                                    TableCodec.recordPrefix(
                                                                            t.id + 1),
                                                                    Long.MAX_VALUE,
                                                                    10))
                                            .as("locks left in %s", name)
                                            .isEmpty());
        }
    }

    // ---- the workflows ----

    /**
     * {@code flink savepoint}, {@code flink cancel}, down past the TTL, {@code flink run -s}: the
     * savepoint holds the epoch written before it, which its completion (notified to no one) never
     * committed and the cancel rolled back.
     */
    @Test
    void savepointCancelDowntimeRestore(
            MiniTiKVCluster cluster, @InjectMiniCluster MiniCluster flink, @TempDir Path dir)
            throws Exception {
        JobClient job = start(cluster, 1, 2, null, 0);
        emitUpTo(100);
        commitUpTo(flink, job.getJobID(), 1, 100);
        emitUpTo(200);
        String savepoint =
                savepoint(
                        () ->
                                flink.triggerSavepoint(
                                        job.getJobID(), dir.toString(), false, CANONICAL));
        cancel(job);
        downPastTheLockTtl(cluster, 1);

        JobClient restored = start(cluster, 1, 2, savepoint, 200);
        emitUpTo(300);
        commitUpTo(flink, restored.getJobID(), 1, 300);
        cancel(restored);
        assertExactly(cluster, 1, 300);
    }

    /**
     * A savepoint before any checkpoint completed, then a cancel (which then leaves the epoch's
     * locks: a checkpoint holding it might have completed unseen), down past the TTL: a reader
     * rolls the epoch back, and the restore must write it again.
     */
    @Test
    void anEpochRolledBackByAReaderWhileTheJobIsDownIsWrittenAgain(
            MiniTiKVCluster cluster, @InjectMiniCluster MiniCluster flink, @TempDir Path dir)
            throws Exception {
        JobClient job = start(cluster, 2, 2, null, 0);
        emitUpTo(150);
        String savepoint =
                savepoint(
                        () ->
                                flink.triggerSavepoint(
                                        job.getJobID(), dir.toString(), false, CANONICAL));
        cancel(job);
        downPastTheLockTtl(cluster, 2);

        JobClient restored = start(cluster, 2, 2, savepoint, 150);
        emitUpTo(250);
        commitUpTo(flink, restored.getJobID(), 2, 250);
        cancel(restored);
        assertExactly(cluster, 2, 250);
    }

    /**
     * Stop-with-savepoint, then restores at parallelism 1 → 3 → 1: the writers' state (changes
     * deferred past the last epoch) and the committers' are spread over other subtasks.
     */
    @Test
    void stopWithSavepointAndRescale(
            MiniTiKVCluster cluster, @InjectMiniCluster MiniCluster flink, @TempDir Path dir)
            throws Exception {
        String savepoint = null;
        long emitted = 0;
        for (int parallelism : new int[] {1, 3}) {
            JobClient job = start(cluster, 3, parallelism, savepoint, emitted);
            emitted += 120;
            emitUpTo(emitted);
            savepoint =
                    savepoint(
                            () ->
                                    flink.stopWithSavepoint(
                                            job.getJobID(), dir.toString(), false, CANONICAL));
            await().atMost(Duration.ofMinutes(1))
                    .until(() -> job.getJobStatus().get().isGloballyTerminalState());
        }
        JobClient last = start(cluster, 3, 1, savepoint, emitted);
        emitUpTo(emitted + 120);
        commitUpTo(flink, last.getJobID(), 3, emitted + 120);
        cancel(last);
        assertExactly(cluster, 3, emitted + 120);
    }

    /**
     * A checkpoint that fails after the writers took part in it: its epoch opens all the same, so
     * the writers go on writing as their buffers fill, instead of holding everything until the next
     * checkpoint completes.
     */
    @Test
    void writersGoOnWritingAfterAnAbortedCheckpoint(
            MiniTiKVCluster cluster, @InjectMiniCluster MiniCluster flink) throws Exception {
        FailingCheckpoint.reset();
        JobClient job = start(cluster, 4, 2, null, 0, 100);
        emitUpTo(100);
        // The writers' buffers hold the first changes when they take part in the checkpoint.
        await().atMost(Duration.ofMinutes(1))
                .pollInterval(Duration.ofMillis(100))
                .ignoreExceptionsMatching(TiKVSinkWorkflowsITCase::notRunningYet)
                .untilAsserted(
                        () ->
                                assertThatThrownBy(
                                                () -> flink.triggerCheckpoint(job.getJobID()).get())
                                        .hasStackTraceContaining(
                                                "injected failure writing a checkpoint"));
        await().atMost(Duration.ofMinutes(1)).until(() -> FailingCheckpoint.aborted().isDone());
        emitUpTo(400);
        // Each of the two writers buffers at most 8 changes (sink.buffer-flush.max-rows).
        TableInfo events = tables.table("ops", "events4");
        await().atMost(Duration.ofMinutes(1))
                .untilAsserted(
                        () ->
                                assertThat(
                                                cluster.percolator()
                                                        .scanLocks(
                                                                TableCodec.recordPrefix(events.id),
                                                                TableCodec.recordPrefix(
                                                                        events.id + 1),
                                                                Long.MAX_VALUE,
                                                                1000))
                                        .as("events prewritten without a completed checkpoint")
                                        .hasSizeGreaterThanOrEqualTo(400 - 2 * 8));
        commitUpTo(flink, job.getJobID(), 4, 400);
        cancel(job);
        assertExactly(cluster, 4, 400);
    }

    /**
     * ADD COLUMN and ADD INDEX become public while an epoch holds rows written without them. TiDB's
     * backfill does not see the epoch's new rows (not committed yet), and TiDB would refuse to
     * commit a transaction that spans such a change: the sink rolls the epoch back and writes it
     * again with the new schema, so every row has the new index's entries, and none is lost or
     * written twice.
     */
    @Test
    void aDdlWhileAnEpochIsOpenIsWrittenAgainWithTheNewSchema(
            MiniTiKVCluster cluster, @InjectMiniCluster MiniCluster flink) throws Exception {
        JobClient job = start(cluster, 5, 2, null, 0);
        emitUpTo(100);
        commitUpTo(flink, job.getJobID(), 5, 100);
        emitUpTo(150);
        TableInfo events = tables.table("ops", "events5");
        await().atMost(Duration.ofMinutes(1))
                .until(
                        () ->
                                !cluster.percolator()
                                        .scanLocks(
                                                TableCodec.recordPrefix(events.id),
                                                TableCodec.recordPrefix(events.id + 1),
                                                Long.MAX_VALUE,
                                                1)
                                        .isEmpty());
        SchemaWriter ddl = new SchemaWriter(tables.session());
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
        commitUpTo(flink, job.getJobID(), 5, 200);
        cancel(job);
        assertExactly(cluster, 5, 200);
        assertThat(tables.indexEntries("ops", "events5", cluster.currentTs()))
                .as("entries of both indexes of events5")
                .hasSize(2 * 200);
    }
}
