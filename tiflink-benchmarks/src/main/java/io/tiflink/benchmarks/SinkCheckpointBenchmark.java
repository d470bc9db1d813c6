package io.tiflink.benchmarks;

import io.tiflink.connector.sink.EpochKeys;
import io.tiflink.connector.sink.TiKVSink;
import io.tiflink.connector.sink.TiKVSinkOptions;
import io.tiflink.connector.sink.writer.ChangeCodec;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.storage.Lock;
import io.tiflink.minicluster.storage.MvccStore;
import io.tiflink.minicluster.storage.Write;
import io.tiflink.minicluster.tidb.MiniClusterRows;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.table.KeyValue;
import io.tiflink.tidb.table.TableCodec;
import io.tiflink.tidb.write.RowWrite;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiter;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.core.fs.Path;
import org.apache.flink.runtime.checkpoint.Checkpoints;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.runtime.state.OperatorStateHandle;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.FileUtils;

import org.tikv.common.TiSession;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the exactly-once TiKV sink's checkpoints cost now that each writer keeps its part of an
 * epoch (the changes it prewrote) in its state until it sees the epoch committed (docs/sink.md,
 * "Epochs written again"), against an in-process {@link MiniTiKVCluster} and Flink {@link
 * MiniCluster}, on {@link SinkBenchmark}'s table and rows. Jobs read a gated source (it emits the
 * rows the harness releases) into an exactly-once sink; checkpoints and savepoints are triggered by
 * hand, so each holds a known number of rows. Two parts:
 *
 * <ul>
 *   <li><b>state</b>: the sink writer operator's state in checkpoints (filesystem checkpoint
 *       storage, read back with {@link Checkpoints#loadCheckpointMetadata}: the size of every
 *       subtask's managed operator state of the operator holding Flink's {@value #WRITER_STATE}),
 *       divided by the rows written in the interval before the checkpoint; next to {@link
 *       ChangeCodec}'s bytes for the same rows and the TiKV keys and values they write, and the
 *       time {@code ChangeCodec.write} takes next to encoding those keys and values;
 *   <li><b>restore</b>: from submitting a job restored from a savepoint whose epoch holds {@code
 *       rows} rows until a checkpoint after the restore completed and the rows are visible, when
 *       TiKV rolled that epoch back while the job was down (cancelled, down past the lock TTL, a
 *       tikv-client-java scan met the locks: the writers write the rows again) and when it
 *       committed (a checkpoint after the savepoint committed it: the writers forget it); next to
 *       {@link SinkBenchmark#raw} writing the same rows, each round timing the three in turn.
 * </ul>
 *
 * <p>Settings, as for {@link SinkBenchmark}: {@code rows} (per interval and per savepoint, default
 * 100000), {@code parallelism} (default {@code 1,2}), {@code intervals} (checkpoints measured per
 * parallelism, default 3), {@code rounds} (restores of each kind, median of, default 3), {@code
 * batch} (default 4096), {@code lockTtlMillis} (default 3000, the least the sink takes), {@code
 * stores} (default 3), {@code only} ({@code state,restore}), {@code snapshotCompression} (Flink's
 * {@code execution.checkpointing.snapshot-compression}, default false).
 *
 * <pre>
 * ./mvnw -q -pl tiflink-benchmarks -am package -DskipTests -Pbench \
 *     -Dbench.main=io.tiflink.benchmarks.SinkCheckpointBenchmark [-Dbench.args="rows=50000"]
 * </pre>
 */
public final class SinkCheckpointBenchmark {
    /** The list state in which Flink's sink writer operator keeps the writer's state. */
    private static final String WRITER_STATE = "writer_raw_states";

    private static final Duration TIMEOUT = Duration.ofMinutes(3);

    /** Flink's option (ExecutionOptions in 1.20, CheckpointingOptions in 2.x), by its key. */
    private static final ConfigOption<Boolean> SNAPSHOT_COMPRESSION =
            ConfigOptions.key("execution.checkpointing.snapshot-compression")
                    .booleanType()
                    .defaultValue(false);

    private final int rows;
    private final List<Integer> parallelisms;
    private final int intervals;
    private final int rounds;
    private final int batch;
    private final Duration lockTtl;
    private final int stores;
    private final String only;
    private final boolean snapshotCompression;

    private MiniTiKVCluster cluster;
    private TiSession session;
    private MiniCluster flink;
    private java.nio.file.Path dir;
    private int tables;

    private SinkCheckpointBenchmark(BenchSettings args) {
        this.rows = (int) args.number("rows", 100_000);
        this.parallelisms = args.integers("parallelism", "1,2");
        this.intervals = (int) args.number("intervals", 3);
        this.rounds = (int) args.number("rounds", 3);
        this.batch = (int) args.number("batch", 4096);
        this.lockTtl = Duration.ofMillis(args.number("lockTtlMillis", 3_000));
        this.stores = (int) args.number("stores", 3);
        this.only = args.text("only", "state,restore");
        this.snapshotCompression = Boolean.parseBoolean(args.text("snapshotCompression", "false"));
    }

    public static void main(String[] argv) throws Exception {
        new SinkCheckpointBenchmark(BenchSettings.parse(argv)).run();
    }

    private void run() throws Exception {
        System.out.printf(
                Locale.ROOT,
                "# SinkCheckpointBenchmark: %s; rows=%d parallelism=%s intervals=%d rounds=%d"
                        + " batch=%d lockTtlMillis=%d stores=%d only=%s"
                        + " snapshotCompression=%s%n",
                BenchSettings.jvm(),
                rows,
                parallelisms,
                intervals,
                rounds,
                batch,
                lockTtl.toMillis(),
                stores,
                only,
                snapshotCompression);
        List<String> state = new ArrayList<>();
        List<String> restore = new ArrayList<>();
        dir = Files.createTempDirectory("sink-checkpoint-benchmark");
        try (MiniTiKVCluster c = MiniTiKVCluster.builder().stores(stores).start();
                TiSession s = TiSession.create(SinkBenchmark.conf(c));
                MiniCluster f = startFlink()) {
            cluster = c;
            session = s;
            flink = f;
            for (int p : parallelisms) {
                if (only.contains("state")) {
                    state.add(state(p));
                }
                if (only.contains("restore")) {
                    restore.addAll(restore(p));
                }
            }
        } finally {
            FileUtils.deleteDirectory(dir.toFile());
        }
        table(
                state,
                "| Parallelism | Rows in the interval | Writer state, bytes (median) |"
                        + " State bytes/row | ChangeCodec bytes/row | TiKV key+value bytes/row"
                        + " | ChangeCodec.write time / TableCodec.encodeRecord time"
                        + " | State after an idle interval, bytes |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|");
        table(
                restore,
                "| Parallelism | Work | Rows | Savepoint writer state, bytes |"
                        + " s to rows visible (median) | min..max | / committed restore"
                        + " | / TwoPhaseCommitter |",
                "|---:|---|---:|---:|---:|---:|---:|---:|");
    }

    /** Prints a Markdown table, unless it has no rows. */
    static void table(List<String> rows, String header, String alignment) {
        if (!rows.isEmpty()) {
            System.out.println();
            System.out.println(header);
            System.out.println(alignment);
            rows.forEach(System.out::println);
        }
    }

    private MiniCluster startFlink() throws Exception {
        Configuration conf = new Configuration();
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(
                CheckpointingOptions.CHECKPOINTS_DIRECTORY,
                dir.resolve("checkpoints").toUri().toString());
        conf.set(RestOptions.BIND_PORT, "0"); // others may run Flink on this machine
        MiniCluster mini =
                new MiniCluster(
                        new MiniClusterConfiguration.Builder()
                                .setConfiguration(conf)
                                .setNumTaskManagers(1)
                                .setNumSlotsPerTaskManager(Math.max(4, maxParallelism()))
                                .build());
        mini.start();
        return mini;
    }

    private int maxParallelism() {
        return parallelisms.stream().mapToInt(Integer::intValue).max().orElse(1);
    }

    // ---- state bytes per row ----

    /**
     * One job; {@link #intervals} times: {@link #rows} more rows, then a checkpoint, whose writer
     * state is read back; then a checkpoint after an interval without rows.
     */
    private String state(int parallelism) throws Exception {
        TableInfo table = newTable();
        Gate.reset(0);
        JobID job = submit(table, parallelism, null);
        checkpoint(job); // the job runs, and its first epoch is open
        long[][] bytes = new long[intervals][]; // {state bytes, interval}
        for (int i = 0; i < intervals; i++) {
            Gate.releaseAndWait((long) (i + 1) * rows);
            bytes[i] = new long[] {writerStateBytes(checkpoint(job)), i};
            System.out.printf(
                    Locale.ROOT,
                    "# %s p=%d checkpoint after %d rows: writer state %,d bytes%n",
                    table.name(),
                    parallelism,
                    rows,
                    bytes[i][0]);
        }
        long idle = writerStateBytes(checkpoint(job));
        cancel(job);
        Arrays.sort(bytes, (a, b) -> Long.compare(a[0], b[0]));
        long[] median = bytes[intervals / 2];

        // The rows of that interval, as the sink's state encodes them and as TiKV stores them.
        List<RowWrite> writes = new ArrayList<>(rows);
        for (long id = median[1] * rows; id < (median[1] + 1) * rows; id++) {
            writes.add(RowWrite.upsert(SinkBenchmark.row(id)));
        }
        TableCodec codec = new TableCodec(table);
        long[] kvBytes = new long[1];
        Callable<Object> encodeRecords =
                () -> {
                    kvBytes[0] = 0;
                    for (RowWrite w : writes) {
                        for (KeyValue kv :
                                codec.encodeRecord(table.id, w.row(), codec.handleOf(w.row()))) {
                            kvBytes[0] += kv.key().length + kv.value().length;
                        }
                    }
                    return null;
                };
        List<Callable<?>> encodings =
                List.of(() -> ChangeCodec.write(writes, table), encodeRecords);
        double[][] nanos =
                SinkBenchmark.rounds(
                        2,
                        3,
                        11,
                        (w, round) -> {
                            long start = System.nanoTime();
                            encodings.get(w).call();
                            return System.nanoTime() - start;
                        });
        double stateNanos = nanos[0][5];
        double recordNanos = nanos[1][5];
        System.out.printf(
                Locale.ROOT,
                "# %d rows: ChangeCodec.write %.0f ns/row, TableCodec.encodeRecord %.0f ns/row%n",
                rows,
                stateNanos / rows,
                recordNanos / rows);
        return String.format(
                Locale.ROOT,
                "| %d | %,d | %,d | %.1f | %.1f | %.1f | %.2f | %,d |",
                parallelism,
                rows,
                median[0],
                (double) median[0] / rows,
                (double) ChangeCodec.write(writes, table).length / rows,
                (double) kvBytes[0] / rows,
                stateNanos / recordNanos,
                idle);
    }

    /**
     * The sink writer's state in the checkpoint or savepoint at {@code pointer}, in bytes, all
     * subtasks: what the checkpoint storage holds for that operator (Flink's framing included).
     */
    private static long writerStateBytes(String pointer) throws IOException {
        Path metadata = new Path(pointer, "_metadata");
        CheckpointMetadata checkpoint;
        try (DataInputStream in = new DataInputStream(metadata.getFileSystem().open(metadata))) {
            checkpoint =
                    Checkpoints.loadCheckpointMetadata(
                            in, SinkCheckpointBenchmark.class.getClassLoader(), pointer);
        }
        long bytes = 0;
        for (OperatorState operator : checkpoint.getOperatorStates()) {
            for (OperatorSubtaskState subtask : operator.getStates()) {
                for (OperatorStateHandle h : subtask.getManagedOperatorState()) {
                    if (h.getStateNameToPartitionOffsets().containsKey(WRITER_STATE)) {
                        bytes += h.getStateSize();
                    }
                }
            }
        }
        return bytes;
    }

    // ---- restore ----

    /**
     * {@link #rounds} rounds, each restoring a savepoint whose epoch TiKV rolled back, one whose
     * epoch committed, and then timing {@link SinkBenchmark#raw} writing the same rows into a fresh
     * table.
     */
    private List<String> restore(int parallelism) throws Exception {
        String[] kinds = {
            "restore, the epoch rolled back by a reader",
            "restore, the epoch committed",
            "TwoPhaseCommitter writing the same rows"
        };
        long[] stateBytes = new long[2];
        double[][] seconds =
                SinkBenchmark.rounds(
                        3,
                        0,
                        rounds,
                        (w, round) -> {
                            TableInfo table = newTable();
                            double s =
                                    w == 2
                                            ? SinkBenchmark.raw(
                                                    cluster, table.name(), parallelism, rows, batch)
                                            : restore(table, parallelism, w == 1, stateBytes);
                            System.out.printf(
                                    Locale.ROOT,
                                    "# %s p=%d round %d, %s: %.2f s%n",
                                    table.name(),
                                    parallelism,
                                    round,
                                    kinds[w],
                                    s);
                            return s;
                        });
        double committed = seconds[1][rounds / 2];
        double raw = seconds[2][rounds / 2];
        List<String> lines = new ArrayList<>();
        for (int w = 0; w < kinds.length; w++) {
            double median = seconds[w][rounds / 2];
            lines.add(
                    String.format(
                            Locale.ROOT,
                            "| %d | %s | %,d | %s | %.2f | %.2f..%.2f | %.2f | %.2f |",
                            parallelism,
                            kinds[w],
                            rows,
                            w < 2 ? String.format(Locale.ROOT, "%,d", stateBytes[w]) : "",
                            median,
                            seconds[w][0],
                            seconds[w][rounds - 1],
                            median / committed,
                            median / raw));
        }
        return lines;
    }

    /**
     * Takes a savepoint of a job that wrote {@link #rows} rows into {@code table}, cancels it, lets
     * TiKV roll its epoch back (or commits it first, if {@code commit}) and restores it; returns
     * the seconds from submitting the restored job until a checkpoint after the restore completed
     * and the rows are visible. Stores the savepoint's writer state bytes in {@code stateBytes}.
     */
    private double restore(TableInfo table, int parallelism, boolean commit, long[] stateBytes)
            throws Exception {
        Gate.reset(0);
        JobID job = submit(table, parallelism, null);
        Gate.releaseAndWait(rows);
        String savepoint =
                whenRunning(
                        job,
                        () ->
                                flink.triggerSavepoint(
                                        job,
                                        dir.resolve("savepoints").toUri().toString(),
                                        false,
                                        SavepointFormatType.CANONICAL));
        stateBytes[commit ? 1 : 0] = writerStateBytes(savepoint);
        if (commit) {
            checkpoint(job); // commits the savepoint's epoch
            await("the savepoint's rows committed", () -> visible(table, parallelism));
        }
        cancel(job);
        downPastTheLockTtl(table);
        if (visible(table, parallelism) != commit) {
            throw new IllegalStateException(
                    "the savepoint's epoch should be "
                            + (commit ? "committed" : "rolled back")
                            + " before the restore");
        }

        Gate.reset(rows);
        JobGraph graph = jobGraph(table, parallelism, savepoint);
        long start = System.nanoTime();
        JobID restored = flink.submitJob(graph).get().getJobID();
        checkpoint(restored);
        while (!soonVisible(table, parallelism)) {
            checkpoint(restored);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        cancel(restored);
        int found = new MiniClusterRows(cluster).rows(table, cluster.currentTs()).size();
        if (found != rows) {
            throw new IllegalStateException(
                    table.name() + " holds " + found + " rows, not " + rows);
        }
        return seconds;
    }

    /**
     * The job stays down past its locks' TTL; then a tikv-client-java reader scans the table's
     * records (meeting expired locks, it rolls their transactions back, as a TiDB reader would)
     * until no epoch of the sink is left locked.
     */
    private void downPastTheLockTtl(TableInfo table) throws Exception {
        Thread.sleep(lockTtl.toMillis() + 500);
        byte[] sinks = "TiFlink/sink/".getBytes(StandardCharsets.US_ASCII);
        await(
                "the sink's epochs rolled back by a reader",
                () -> {
                    // A ConcreteScanIterator at a fresh ts over the records.
                    Iterator<Kvrpcpb.KvPair> records =
                            session.createSnapshot()
                                    .scanPrefix(
                                            ByteString.copyFrom(TableCodec.recordPrefix(table.id)));
                    records.forEachRemaining(r -> {});
                    return cluster.storage().locks(sinks, EpochKeys.end(sinks)).isEmpty();
                });
    }

    /** Whether the rows are visible, waiting up to a second (the commit follows a checkpoint). */
    private boolean soonVisible(TableInfo table, int parallelism) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        while (!visible(table, parallelism)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(5);
        }
        return true;
    }

    /**
     * Whether a reader sees the first and the last {@code parallelism} rows (the source deals rows
     * round-robin, so these are in every subtask's part, written in one transaction) now, without
     * waiting on a lock: each record is committed, or locked by a transaction whose primary
     * committed.
     */
    private boolean visible(TableInfo table, int parallelism) {
        MvccStore store = cluster.storage();
        TableCodec codec = new TableCodec(table);
        for (long i = 0; i < 2L * parallelism; i++) {
            long id = i < parallelism ? i : rows - 2L * parallelism + i;
            byte[] key = TableCodec.recordKey(table.id, codec.handleOf(SinkBenchmark.row(id)));
            Lock lock = store.lock(key);
            if (lock == null ? store.get(key, Long.MAX_VALUE) == null : !committed(store, lock)) {
                return false;
            }
        }
        return true;
    }

    private static boolean committed(MvccStore store, Lock lock) {
        Write primary = store.txnRecord(lock.primary, lock.startTs);
        return primary != null && primary.type != Write.Type.ROLLBACK;
    }

    // ---- the job ----

    private TableInfo newTable() {
        return SinkBenchmark.emptyTable(cluster, session, "c" + (++tables));
    }

    private JobID submit(TableInfo table, int parallelism, String savepoint) throws Exception {
        return flink.submitJob(jobGraph(table, parallelism, savepoint)).get().getJobID();
    }

    /**
     * The gated source (one subtask) → {@link SinkBenchmark#row} → the exactly-once sink at {@code
     * parallelism}; checkpoints only when triggered; restored from {@code savepoint} if given.
     */
    private JobGraph jobGraph(TableInfo table, int parallelism, String savepoint) {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        conf.set(SNAPSHOT_COMPRESSION, snapshotCompression);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.enableCheckpointing(Duration.ofHours(1).toMillis());
        env.fromSource(
                        new DataGeneratorSource<>(
                                Gate::emitted, Long.MAX_VALUE, p -> new Gate(), Types.LONG),
                        WatermarkStrategy.noWatermarks(),
                        "ids")
                .uid("ids")
                .setParallelism(1)
                .map(id -> RowWrite.upsert(SinkBenchmark.row(id)))
                .uid("rows")
                .returns(TypeInformation.of(RowWrite.class))
                .setParallelism(1)
                .rebalance()
                .sinkTo(
                        TiKVSink.<RowWrite>builder()
                                .pdAddresses(cluster.pdAddress())
                                .database("bench")
                                .table(table.name())
                                .deliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                                .option(TiKVSinkOptions.BUFFER_FLUSH_MAX_ROWS, batch)
                                .option(TiKVSinkOptions.LOCK_TTL, lockTtl)
                                .serializer(c -> c)
                                .build())
                .uid("sink")
                .setParallelism(parallelism);
        JobGraph graph = env.getStreamGraph().getJobGraph();
        if (savepoint != null) {
            graph.setSavepointRestoreSettings(SavepointRestoreSettings.forPath(savepoint, false));
        }
        return graph;
    }

    /** Triggers a checkpoint once the job runs; returns its path. */
    private String checkpoint(JobID job) throws Exception {
        return whenRunning(job, () -> flink.triggerCheckpoint(job));
    }

    /**
     * Runs {@code trigger} (a checkpoint or savepoint) until it succeeds: it fails while some task
     * is still being deployed. Fails at once if the job ended.
     */
    private String whenRunning(JobID job, Callable<CompletableFuture<String>> trigger)
            throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            try {
                return trigger.call().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                if (flink.getJobStatus(job).get().isGloballyTerminalState()) {
                    throw new IllegalStateException(
                            "job "
                                    + job
                                    + " ended: "
                                    + flink.requestJobResult(job)
                                            .get()
                                            .getSerializedThrowable()
                                            .map(t -> t.getFullStringifiedStackTrace())
                                            .orElse("no failure"),
                            e);
                }
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(10);
            }
        }
    }

    private void cancel(JobID job) throws Exception {
        flink.cancelJob(job).get();
        await("job " + job + " cancelled", () -> terminal(job));
    }

    private boolean terminal(JobID job) {
        try {
            return flink.getJobStatus(job).get().isGloballyTerminalState();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void await(String what, Callable<Boolean> done) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!done.call()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out waiting for " + what);
            }
            Thread.sleep(100);
        }
    }

    /**
     * Holds the source back to the rows released so far; every job of the run shares it (one JVM,
     * the source at parallelism 1). Implements Flink 1.20's {@code acquire()} and 2.x's {@code
     * acquire(int)}.
     */
    static final class Gate implements RateLimiter {
        private static final AtomicLong RELEASED = new AtomicLong();
        private static final AtomicLong EMITTED = new AtomicLong();

        /** Completed, and replaced by a new one, at each release. */
        private static volatile CompletableFuture<Void> nextRelease = new CompletableFuture<>();

        /** Before a job starts: its source resumes after {@code emitted} rows, none released. */
        static void reset(long emitted) {
            EMITTED.set(emitted);
            RELEASED.set(emitted);
        }

        /** Lets the source emit up to {@code total} rows, and waits until it did. */
        static void releaseAndWait(long total) throws Exception {
            synchronized (Gate.class) {
                RELEASED.set(total);
                CompletableFuture<Void> released = nextRelease;
                nextRelease = new CompletableFuture<>();
                released.complete(null);
            }
            await("the source to emit " + total + " rows", () -> EMITTED.get() >= total);
        }

        /** The generator: the row id is the index, which also counts what was emitted. */
        static Long emitted(Long index) {
            EMITTED.set(index + 1);
            return index;
        }

        @Override
        public CompletionStage<Void> acquire() {
            CompletableFuture<Void> next = nextRelease; // read first: a later release completes it
            return EMITTED.get() < RELEASED.get() ? CompletableFuture.completedFuture(null) : next;
        }

        public CompletionStage<Void> acquire(int permits) {
            return acquire();
        }
    }
}
