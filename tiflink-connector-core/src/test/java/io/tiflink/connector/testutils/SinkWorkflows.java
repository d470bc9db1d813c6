package io.tiflink.connector.testutils;

import io.tiflink.connector.sink.TiKVSink;
import io.tiflink.connector.sink.TiKVSinkOptions;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.table.TableCodec;
import io.tiflink.tidb.write.RowWrite;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiter;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.tikv.common.TiSession;
import org.tikv.common.operation.iterator.ConcreteScanIterator;
import org.tikv.shade.com.google.protobuf.ByteString;

import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongFunction;

import static org.apache.flink.core.execution.SavepointFormatType.CANONICAL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The TiKV sink under the workflows operators run, for the tests of those workflows: a job writing
 * account changes (upserts, deletes) into {@code accounts<n>} (a primary key, a unique and a
 * non-unique index) and appending every change to {@code events<n>} (no primary key: a change lost
 * or written twice changes its count), fed by a gated source that emits only the input the test
 * released, with checkpoints, savepoints, stops, cancels, injected failures and downtime driven by
 * the test; and the checks that the tables are the input applied once.
 *
 * <p>A JUnit extension, registered after the {@link MiniTiKVExtension} it uses ({@code @Order(}
 * {@link #ORDER}{@code )}: JUnit orders unordered extension fields as it likes): it creates the
 * tables before all tests, cancels the jobs a test left running after it, and closes its TiDB
 * session after all. The gate and the injected failures are static: every attempt of every job runs
 * in this JVM, one test at a time.
 */
public final class SinkWorkflows implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {
    /** The sinks' {@code sink.transaction.lock-ttl}: its minimum, so that downtime is short. */
    public static final Duration LOCK_TTL = Duration.ofSeconds(3);

    public static final int ACCOUNTS = 40;

    /** The {@code @Order} of the extension's field: after the other extensions (unordered ones). */
    public static final int ORDER = Order.DEFAULT + 1;

    /** How long one step (a checkpoint, a savepoint, the input emitted, ...) may take. */
    private static final Duration STEP_TIMEOUT = Duration.ofMinutes(1);

    /** Records the source may emit so far (every attempt of every job shares it). */
    private static final AtomicLong RELEASED = new AtomicLong();

    /** Records the source emitted, in the job's current attempt. */
    private static final AtomicLong EMITTED = new AtomicLong();

    /** The record at which {@link Changes} fails once, or -1. */
    private static final AtomicLong FAIL_AT_RECORD = new AtomicLong(-1);

    /** Whether {@link Changes} fails once the next checkpoint completes. */
    private static final AtomicBoolean FAIL_AFTER_CHECKPOINT = new AtomicBoolean();

    private static final AtomicInteger FAILURES = new AtomicInteger();

    /** Records the source emitted past {@link #RELEASED}: the gate failed (the test is wrong). */
    private static final AtomicInteger OVERRUNS = new AtomicInteger();

    private final MiniTiKVExtension tikv;
    private final String database;
    private final int[] tableNumbers;
    private final List<JobClient> jobs = new ArrayList<>();
    private MiniTiKVCluster cluster;
    private TiDBTables tables;

    /** Workflows on the tables {@code accounts<n>} and {@code events<n>} of {@code database}. */
    public SinkWorkflows(MiniTiKVExtension tikv, String database, int... n) {
        this.tikv = tikv;
        this.database = database;
        this.tableNumbers = n.clone();
    }

    /** Creates the database and its tables. */
    @Override
    public void beforeAll(ExtensionContext context) {
        cluster = tikv.cluster();
        tables = new TiDBTables(cluster);
        StringBuilder ddl = new StringBuilder("CREATE DATABASE " + database + "; USE " + database);
        for (int i : tableNumbers) {
            ddl.append("; CREATE TABLE accounts")
                    .append(i)
                    .append(" (id BIGINT PRIMARY KEY, name VARCHAR(24) NOT NULL, balance BIGINT,")
                    .append(" UNIQUE KEY uk_name (name), KEY k_balance (balance))")
                    .append("; CREATE TABLE events")
                    .append(i)
                    .append(" (seq BIGINT, account BIGINT, KEY k_account (account))");
        }
        tables.ddl(ddl.append(';').toString());
    }

    /** Cancels what a failed test left running, so that the next one gets the slots. */
    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        for (JobClient job : jobs) {
            if (!job.getJobStatus().get().isGloballyTerminalState()) {
                job.cancel().get();
            }
        }
        jobs.clear();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        tables.close();
    }

    // ---- the input ----

    /** The account change {@code i} is about. */
    public static long account(long i) {
        return (i * 7) % ACCOUNTS;
    }

    /** Change {@code i}: an upsert or delete of an account, many per account. */
    public static RowWrite change(long i) {
        long id = account(i);
        if (i % 9 == 0) {
            return RowWrite.delete(new Object[] {id, null, null});
        }
        return RowWrite.upsert(new Object[] {id, "n" + id + "-" + (i % 4), i});
    }

    /** Lets the source emit up to {@code n} records in all. */
    public static void release(long n) {
        RELEASED.set(n);
        Gate.openAll();
    }

    /** Releases the input up to {@code n} and waits until the source emitted it. */
    public static void emitUpTo(long n) {
        release(n);
        await().atMost(STEP_TIMEOUT).until(() -> EMITTED.get() >= n);
    }

    /** Fails the job once, in the operator between source and sinks, at record {@code i}. */
    public static void failAtRecord(long i) {
        FAIL_AT_RECORD.set(i);
    }

    /**
     * Fails the job once, in the operator between source and sinks, when it learns that the next
     * checkpoint completed: while the coordinator and the committers commit its epoch, or before.
     */
    public static void failAfterNextCheckpoint() {
        FAIL_AFTER_CHECKPOINT.set(true);
    }

    /** Failures injected so far. */
    public static int failuresInjected() {
        return FAILURES.get();
    }

    /**
     * Holds the source at {@link #RELEASED}. (Compiles against Flink 1.20's {@link RateLimiter},
     * whose abstract method is {@code acquire()}, and 2.x's, whose is {@code acquire(int)}.)
     */
    static final class Gate implements RateLimiter {
        private static final List<CompletableFuture<Void>> WAITING = new ArrayList<>();

        /** Lets the source go on if it may (a completed wait lets it emit one more record). */
        static synchronized void openAll() {
            if (EMITTED.get() < RELEASED.get()) {
                WAITING.forEach(f -> f.complete(null));
                WAITING.clear();
            }
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
     * Chained to the source: counts what it emitted ({@link #EMITTED}), in its state too, so that a
     * restart or a restore, which takes the source back to its checkpoint, takes the count back
     * with it (and the gate lets the source emit again what it emitted after the checkpoint).
     */
    static final class Position implements MapFunction<Long, Long>, CheckpointedFunction {
        private transient ListState<Long> state;
        private long next;

        @Override
        public Long map(Long i) {
            if (i >= RELEASED.get()) {
                OVERRUNS.incrementAndGet();
            }
            next = i + 1;
            EMITTED.set(next);
            return i;
        }

        @Override
        public void snapshotState(FunctionSnapshotContext context) throws Exception {
            state.update(List.of(next));
        }

        @Override
        public void initializeState(FunctionInitializationContext context) throws Exception {
            state =
                    context.getOperatorStateStore()
                            .getListState(new ListStateDescriptor<>("next", Types.LONG));
            next = 0;
            for (Long n : state.get()) {
                next = n;
            }
            EMITTED.set(next);
        }
    }

    /** Turns record {@code i} into {@link #change}; fails when told to. */
    static final class Changes implements MapFunction<Long, RowWrite>, CheckpointListener {
        @Override
        public RowWrite map(Long i) {
            if (FAIL_AT_RECORD.compareAndSet(i, -1)) {
                FAILURES.incrementAndGet();
                throw new IllegalStateException("injected failure at record " + i);
            }
            return change(i);
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            if (FAIL_AFTER_CHECKPOINT.compareAndSet(true, false)) {
                FAILURES.incrementAndGet();
                throw new IllegalStateException(
                        "injected failure after checkpoint " + checkpointId + " completed");
            }
        }
    }

    // ---- the job ----

    /**
     * Starts the job writing into {@code accounts<n>} and {@code events<n>} through sinks of {@code
     * parallelism} subtasks, from the savepoint {@code restoreFrom} (then its source resumes where
     * the savepoint left it), or anew (then no input is released yet). Checkpoints are taken only
     * when the test triggers them; failures restart the job from the last one.
     */
    public JobClient start(int n, int parallelism, String restoreFrom) throws Exception {
        return start(n, parallelism, restoreFrom, Long.MAX_VALUE);
    }

    /**
     * The job of {@link #start(int, int, String)}, whose first checkpoint taken once {@code
     * failCheckpointAfter} records passed fails after every task took part in it ({@link
     * FailingCheckpoint}).
     */
    public JobClient start(int n, int parallelism, String restoreFrom, long failCheckpointAfter)
            throws Exception {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 1000);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
        conf.set(CheckpointingOptions.TOLERABLE_FAILURE_NUMBER, 5);
        if (restoreFrom != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, restoreFrom);
        } else {
            RELEASED.set(0);
            OVERRUNS.set(0);
            FAIL_AT_RECORD.set(-1);
            FAIL_AFTER_CHECKPOINT.set(false);
        }
        EMITTED.set(0); // until the job's Position restores it
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.enableCheckpointing(Duration.ofHours(1).toMillis());
        env.setMaxParallelism(128);
        DataGeneratorSource<Long> source =
                new DataGeneratorSource<>(
                        index -> index, Long.MAX_VALUE, p -> new Gate(), Types.LONG);
        DataStream<RowWrite> changes =
                env.fromSource(source, WatermarkStrategy.noWatermarks(), "input")
                        .uid("input")
                        .setParallelism(1)
                        .map(new Position())
                        .uid("position")
                        .setParallelism(1)
                        .map(new FailingCheckpoint(failCheckpointAfter))
                        .uid("failing-checkpoint")
                        .setParallelism(1)
                        .keyBy(SinkWorkflows::account)
                        .map(new Changes())
                        .uid("changes")
                        .returns(TypeInformation.of(RowWrite.class))
                        .setParallelism(parallelism)
                        // A task of its own: a failure after a checkpoint races the commits.
                        .disableChaining();
        changes.sinkTo(sink("accounts" + n)).uid("accounts").setParallelism(parallelism);
        changes.map(c -> RowWrite.insert(new Object[] {c.row()[2], c.row()[0]}))
                .uid("event")
                .returns(TypeInformation.of(RowWrite.class))
                .setParallelism(parallelism)
                .sinkTo(sink("events" + n))
                .uid("events")
                .setParallelism(parallelism);
        JobClient job = env.executeAsync("workflow " + n);
        jobs.add(job);
        return job;
    }

    private TiKVSink<RowWrite> sink(String table) {
        return TiKVSink.<RowWrite>builder()
                .pdAddresses(cluster.pdAddress())
                .database(database)
                .table(table)
                .option(TiKVSinkOptions.BUFFER_FLUSH_MAX_ROWS, 8)
                .option(TiKVSinkOptions.LOCK_TTL, LOCK_TTL)
                .serializer(c -> c)
                .build();
    }

    // ---- steps ----

    /** Triggers a checkpoint and waits until it completed, retrying while the job (re)starts. */
    public static String checkpoint(MiniCluster flink, JobClient job) {
        return retried(job, "a checkpoint", () -> flink.triggerCheckpoint(job.getJobID()));
    }

    /**
     * Checkpoints until the tables hold the first {@code count} changes: a checkpoint commits what
     * came before the one before it.
     */
    public void commitUpTo(MiniCluster flink, JobClient job, int n, long count) {
        await().atMost(STEP_TIMEOUT.multipliedBy(2))
                .pollInterval(Duration.ofMillis(200))
                .untilAsserted(
                        () -> {
                            checkpoint(flink, job);
                            long ts = cluster.currentTs();
                            assertThat(accounts(n, ts)).isEqualTo(expectedAccounts(count));
                            assertThat(events(n, ts)).isEqualTo(expectedEvents(count));
                        });
    }

    /**
     * The end of a workflow: checkpoints until the first {@code count} changes are committed,
     * cancels the job, and checks that the tables hold them exactly once, with every index entry
     * and no lock.
     */
    public void endExactly(MiniCluster flink, JobClient job, int n, long count) throws Exception {
        commitUpTo(flink, job, n, count);
        cancel(job);
        assertExactly(n, count);
    }

    /** Takes a savepoint into {@code dir}, retrying while the job (re)starts. */
    public static String savepoint(JobClient job, Path dir) {
        return retried(job, "a savepoint", () -> job.triggerSavepoint(dir.toString(), CANONICAL));
    }

    /**
     * Stops the job with a savepoint into {@code dir} (without draining it); waits until it ended.
     */
    public static String stopWithSavepoint(JobClient job, Path dir) throws Exception {
        String path =
                retried(
                        job,
                        "stop-with-savepoint",
                        () -> job.stopWithSavepoint(false, dir.toString(), CANONICAL));
        await().atMost(STEP_TIMEOUT)
                .until(() -> job.getJobStatus().get().isGloballyTerminalState());
        assertThat(job.getJobStatus().get()).isEqualTo(JobStatus.FINISHED);
        return path;
    }

    public static void cancel(JobClient job) throws Exception {
        checkNotFailed(job);
        job.cancel().get();
        await().atMost(STEP_TIMEOUT)
                .until(() -> job.getJobStatus().get().isGloballyTerminalState());
    }

    /** Waits until {@link #failuresInjected()} exceeds {@code before}; fails if the job failed. */
    public static void awaitFailureInjected(JobClient job, int before) {
        await().atMost(STEP_TIMEOUT)
                .pollInterval(Duration.ofMillis(50))
                .until(
                        () -> {
                            checkNotFailed(job);
                            return FAILURES.get() > before;
                        });
    }

    /**
     * The job stays down past its locks' TTL; a tikv-client-java reader scans the tables (and so
     * rolls back the expired locks it meets, as a TiDB reader would) until it meets none; then GC
     * runs.
     */
    public void downPastTheLockTtl(int n) {
        long downAt = System.currentTimeMillis();
        List<TableInfo> scanned = List.of(table("accounts" + n), table("events" + n));
        await().atMost(STEP_TIMEOUT)
                .pollDelay(LOCK_TTL.plusMillis(500))
                .pollInterval(Duration.ofMillis(500))
                .until(
                        () -> {
                            for (TableInfo t : scanned) {
                                scan(t);
                            }
                            return scanned.stream()
                                    .allMatch(
                                            t ->
                                                    cluster.percolator()
                                                            .scanLocks(
                                                                    TableCodec.recordPrefix(t.id),
                                                                    TableCodec.recordPrefix(
                                                                            t.id + 1),
                                                                    Long.MAX_VALUE,
                                                                    1)
                                                            .isEmpty());
                        });
        assertThat(System.currentTimeMillis() - downAt).isGreaterThan(LOCK_TTL.toMillis());
        cluster.gc(cluster.currentTs());
    }

    private void scan(TableInfo table) {
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

    /**
     * Runs {@code step} until it succeeds (a trigger meeting a job that restarts, or a task still
     * being deployed, fails); fails at once if the job failed for good.
     */
    private static <T> T retried(JobClient job, String what, Callable<CompletableFuture<T>> step) {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> last = new AtomicReference<>();
        try {
            await().atMost(STEP_TIMEOUT)
                    .pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(200))
                    .until(
                            () -> {
                                checkNotFailed(job);
                                try {
                                    result.set(step.call().get(30, TimeUnit.SECONDS));
                                    return true;
                                } catch (ExecutionException | TimeoutException e) {
                                    last.set(e instanceof ExecutionException ? e.getCause() : e);
                                    return false;
                                }
                            });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(
                    what + " never succeeded; the last attempt: " + last, last.get());
        }
        return result.get();
    }

    /**
     * Throws the job's failure if it failed for good (or ended some other way). Not an {@link
     * AssertionError}, which awaits take for a condition not met yet: waiting on is pointless.
     */
    public static void checkNotFailed(JobClient job) throws Exception {
        JobStatus status = job.getJobStatus().get();
        if (!status.isGloballyTerminalState()) {
            return;
        }
        try {
            job.getJobExecutionResult().get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("the job is " + status, e.getCause());
        }
        throw new IllegalStateException("the job is " + status);
    }

    // ---- what the tables must hold ----

    public static Map<Long, String> expectedAccounts(long count) {
        return rowsAfter(SinkWorkflows::change, count);
    }

    /** Each change's event ({@code balance@account}) and how often the first changes make it. */
    public static Map<String, Integer> expectedEvents(long count) {
        return eventsOf(SinkWorkflows::change, count);
    }

    /**
     * The rows of an accounts table ({@code id,name,balance} by id) once the first {@code count} of
     * {@code changes} are applied.
     */
    public static Map<Long, String> rowsAfter(LongFunction<RowWrite> changes, long count) {
        Map<Long, String> rows = new TreeMap<>();
        for (long i = 0; i < count; i++) {
            RowWrite c = changes.apply(i);
            Object[] row = c.row();
            if (c.kind() == RowWrite.Kind.DELETE) {
                rows.remove((Long) row[0]);
            } else {
                rows.put((Long) row[0], row[0] + "," + row[1] + "," + row[2]);
            }
        }
        return rows;
    }

    /** The events ({@code balance@account}) the first {@code count} of {@code changes} append. */
    public static Map<String, Integer> eventsOf(LongFunction<RowWrite> changes, long count) {
        Map<String, Integer> events = new TreeMap<>();
        for (long i = 0; i < count; i++) {
            Object[] row = changes.apply(i).row();
            events.merge(row[2] + "@" + row[0], 1, Integer::sum);
        }
        return events;
    }

    public Map<Long, String> accounts(int n, long ts) {
        Map<Long, String> rows = new TreeMap<>();
        for (Object[] r : tables.rows(database, "accounts" + n, ts)) {
            rows.put((Long) r[0], r[0] + "," + r[1] + "," + r[2]);
        }
        return rows;
    }

    public Map<String, Integer> events(int n, long ts) {
        Map<String, Integer> events = new TreeMap<>();
        for (Object[] r : tables.rows(database, "events" + n, ts)) {
            events.merge(r[0] + "@" + r[1], 1, Integer::sum);
        }
        return events;
    }

    /**
     * What must hold at any time while the first {@code released} changes are written: no change
     * appended more often than it was made, and every index entry matching the rows.
     */
    public void assertNothingWrittenTwice(int n, long released) {
        assertThat(OVERRUNS.get())
                .as("records the source emitted past the released input")
                .isZero();
        long ts = cluster.currentTs();
        Map<String, Integer> expected = expectedEvents(released);
        events(n, ts)
                .forEach(
                        (event, count) ->
                                assertThat(count)
                                        .as("times event %s was appended", event)
                                        .isLessThanOrEqualTo(expected.getOrDefault(event, 0)));
        assertIndexesMatchRows(n, ts);
    }

    private void assertIndexesMatchRows(int n, long ts) {
        for (String name : List.of("accounts" + n, "events" + n)) {
            assertThat(tables.indexEntries(database, name, ts))
                    .as("index entries of %s", name)
                    .containsExactlyInAnyOrderEntriesOf(
                            tables.expectedIndexEntries(database, name, ts));
        }
    }

    /** The tables hold exactly the first {@code count} changes, with every index entry, no lock. */
    public void assertExactly(int n, long count) {
        assertThat(OVERRUNS.get())
                .as("records the source emitted past the released input")
                .isZero();
        long ts = cluster.currentTs();
        assertThat(accounts(n, ts)).as("rows of accounts%s", n).isEqualTo(expectedAccounts(count));
        assertThat(events(n, ts)).as("events%s", n).isEqualTo(expectedEvents(count));
        assertIndexesMatchRows(n, ts);
        for (String name : List.of("accounts" + n, "events" + n)) {
            TableInfo t = table(name);
            byte[] start = Arrays.copyOf(TableCodec.recordPrefix(t.id), 9); // t{id}
            byte[] end = Arrays.copyOf(TableCodec.recordPrefix(t.id + 1), 9);
            await().atMost(Duration.ofSeconds(30))
                    .untilAsserted(
                            () ->
                                    assertThat(
                                                    cluster.percolator()
                                                            .scanLocks(
                                                                    start, end, Long.MAX_VALUE, 10))
                                            .as("locks left in %s", name)
                                            .isEmpty());
        }
    }

    public TableInfo table(String name) {
        return tables.table(database, name);
    }

    public MiniTiKVCluster cluster() {
        return cluster;
    }

    public TiDBTables tables() {
        return tables;
    }

    /** The locks in the record keys of table {@code name}, at most {@code limit}. */
    public int recordLocks(String name, int limit) {
        TableInfo t = table(name);
        return cluster.percolator()
                .scanLocks(
                        TableCodec.recordPrefix(t.id),
                        TableCodec.recordPrefix(t.id + 1),
                        Long.MAX_VALUE,
                        limit)
                .size();
    }
}
