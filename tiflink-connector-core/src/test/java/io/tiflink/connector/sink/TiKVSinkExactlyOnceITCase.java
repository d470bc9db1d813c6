package io.tiflink.connector.sink;

import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.SinkWorkflows;
import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.region.Region;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.table.Handle;
import io.tiflink.tidb.table.TableCodec;
import io.tiflink.tidb.write.RowWrite;

import org.apache.flink.api.common.functions.RichFlatMapFunction;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.Collector;

import org.tikv.common.TiSession;
import org.tikv.common.operation.iterator.ConcreteScanIterator;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Exactly-once under failures: jobs killed at random moments (while subtasks prewrite, and right
 * after a checkpoint completed, before or while its epoch commits), with regions split and leaders
 * moved under them, leave the table equal to the input applied once; and readers at random TSOs
 * never see part of an epoch.
 */
@Timeout(180)
class TiKVSinkExactlyOnceITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(3));

    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(4);

    /** Failures still to inject, shared by every attempt of the job (one JVM). */
    private static final AtomicInteger RECORD_FAILURES_LEFT = new AtomicInteger();

    private static final AtomicInteger CHECKPOINT_FAILURES_LEFT = new AtomicInteger();

    private static final AtomicInteger FAILURES_DONE = new AtomicInteger();

    private static TiDBTables tables;

    @BeforeAll
    static void schema(MiniTiKVCluster cluster) {
        tables = new TiDBTables(cluster);
        tables.ddl(
                "CREATE DATABASE bank; USE bank;"
                        + " CREATE TABLE accounts (id BIGINT PRIMARY KEY, name VARCHAR(24) NOT NULL,"
                        + "   balance BIGINT, UNIQUE KEY uk_name (name), KEY k_balance (balance));"
                        + " CREATE TABLE events (seq BIGINT, account BIGINT, KEY k_account (account));"
                        + " CREATE TABLE ledger (id BIGINT PRIMARY KEY, amount BIGINT NOT NULL,"
                        + "   KEY k_amount (amount));");
    }

    @AfterAll
    static void close() throws Exception {
        tables.close();
    }

    private static StreamExecutionEnvironment env() {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 20);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(50));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.enableCheckpointing(40);
        return env;
    }

    private static TiKVSink<RowWrite> sink(MiniTiKVCluster cluster, String table) {
        return TiKVSink.<RowWrite>builder()
                .pdAddresses(cluster.pdAddress())
                .database("bank")
                .table(table)
                // small buffers: several prewrites per epoch, rows changed again after one
                .option(TiKVSinkOptions.BUFFER_FLUSH_MAX_ROWS, 16)
                .option(TiKVSinkOptions.LOCK_TTL, Duration.ofSeconds(10))
                .serializer(c -> c)
                .build();
    }

    // ---- the input: account changes, many per account ----

    private static final int CHANGES = 6000;
    private static final int ACCOUNTS = 200;

    static RowWrite change(long i) {
        long id = (i * 7919) % ACCOUNTS;
        if (i % 11 == 0) {
            return RowWrite.delete(new Object[] {id, null, null});
        }
        // Names are unique by construction, and change (their index entries must follow).
        return RowWrite.upsert(new Object[] {id, "n" + id + "-" + (i % 3), i % 101});
    }

    /** Fails the job a few times: at a random record, and right after random checkpoints. */
    static final class FailureInjector extends RichMapFunction<RowWrite, RowWrite>
            implements CheckpointListener {
        private transient Random random;
        private transient int failAt;
        private transient int seen;

        @Override
        public RowWrite map(RowWrite c) throws Exception {
            if (random == null) {
                random = new Random();
                failAt = 50 + random.nextInt(400);
            }
            if (++seen % 8 == 0) {
                Thread.sleep(1); // spread the input over some checkpoints
            }
            if (seen == failAt && RECORD_FAILURES_LEFT.getAndDecrement() > 0) {
                FAILURES_DONE.incrementAndGet();
                throw new IllegalStateException("injected failure at record " + seen);
            }
            return c;
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            if (random != null
                    && random.nextInt(4) == 0
                    && CHECKPOINT_FAILURES_LEFT.getAndDecrement() > 0) {
                FAILURES_DONE.incrementAndGet();
                throw new IllegalStateException(
                        "injected failure after checkpoint " + checkpointId + " completed");
            }
        }
    }

    /**
     * Takes savepoints (which, unlike checkpoints, notify no one of their completion) while the job
     * runs; those that meet a restart fail, and are not counted.
     */
    private static CompletableFuture<Integer> takeSavepoints(
            JobClient job, Path dir, AtomicBoolean done) {
        return CompletableFuture.supplyAsync(
                () -> {
                    int taken = 0;
                    while (!done.get()) {
                        try {
                            // Bounded: a savepoint triggered as the job finishes may never answer.
                            job.triggerSavepoint(dir.toString(), SavepointFormatType.CANONICAL)
                                    .get(30, TimeUnit.SECONDS);
                            taken++;
                            Thread.sleep(300);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return taken;
                        } catch (Exception e) {
                            // not running (restarting, or finished)
                        }
                    }
                    return taken;
                });
    }

    /** Splits regions of the table and moves their leaders while the job runs. */
    private static CompletableFuture<Integer> shuffleRegions(
            MiniTiKVCluster cluster, long tableId, AtomicBoolean done) {
        return CompletableFuture.supplyAsync(
                () -> {
                    Random r = new Random();
                    int moves = 0;
                    while (!done.get()) {
                        cluster.split(
                                TableCodec.recordKey(tableId, Handle.ofInt(r.nextInt(ACCOUNTS))));
                        // Leaders of the table's regions (the schema's stay, for the test's
                        // own reads through tikv-client-java).
                        List<Region> regions = new ArrayList<>();
                        for (Region region : cluster.regions().all()) {
                            if (region.start.length > 0 && region.start[0] == 't') {
                                regions.add(region);
                            }
                        }
                        Region region = regions.get(r.nextInt(regions.size()));
                        List<Long> stores = cluster.storeIds();
                        cluster.transferLeader(region.id, stores.get(r.nextInt(stores.size())));
                        moves++;
                        try {
                            Thread.sleep(60);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return moves;
                        }
                    }
                    return moves;
                });
    }

    @Test
    void theTableIsTheInputAppliedOnceThroughFailures(MiniTiKVCluster cluster, @TempDir Path dir)
            throws Exception {
        RECORD_FAILURES_LEFT.set(3);
        CHECKPOINT_FAILURES_LEFT.set(2);
        FAILURES_DONE.set(0);
        StreamExecutionEnvironment env = env();
        DataStream<RowWrite> changes =
                env.fromSequence(0, CHANGES - 1)
                        .setParallelism(1)
                        .map(TiKVSinkExactlyOnceITCase::change)
                        .returns(TypeInformation.of(RowWrite.class))
                        .setParallelism(1)
                        .keyBy(c -> (Long) c.row()[0])
                        .map(new FailureInjector())
                        .setParallelism(2);
        changes.sinkTo(sink(cluster, "accounts")).setParallelism(2);
        // Every change also appended: a change lost or written twice changes the count.
        changes.map(c -> RowWrite.insert(new Object[] {c.row()[2], c.row()[0]}))
                .returns(TypeInformation.of(RowWrite.class))
                .setParallelism(2)
                .sinkTo(sink(cluster, "events"))
                .setParallelism(2);
        AtomicBoolean done = new AtomicBoolean();
        TableInfo table = tables.table("bank", "accounts");
        CompletableFuture<Integer> moves = shuffleRegions(cluster, table.id, done);
        JobClient job = env.executeAsync("accounts");
        CompletableFuture<Integer> savepoints = takeSavepoints(job, dir, done);
        try {
            job.getJobExecutionResult().get();
        } finally {
            done.set(true);
        }
        assertThat(moves.get()).isPositive();
        assertThat(savepoints.get()).as("savepoints taken while writing").isPositive();
        // tikv-client-java's scans (the test's schema reads) can get lost in a region cache that
        // many splits and leader moves made stale: start over.
        tables.session().getRegionManager().invalidateAll();
        assertThat(FAILURES_DONE.get()).as("failures injected").isGreaterThanOrEqualTo(2);

        Map<Long, String> expected =
                SinkWorkflows.rowsAfter(TiKVSinkExactlyOnceITCase::change, CHANGES);
        long ts = cluster.currentTs();
        Map<Long, String> actual = new TreeMap<>();
        for (Object[] r : tables.rows("bank", "accounts", ts)) {
            actual.put((Long) r[0], r[0] + "," + r[1] + "," + r[2]);
        }
        assertThat(actual).isEqualTo(expected);
        assertThat(tables.indexEntries("bank", "accounts", ts))
                .isEqualTo(tables.expectedIndexEntries("bank", "accounts", ts));
        Map<String, Integer> events = new TreeMap<>();
        for (Object[] r : tables.rows("bank", "events", ts)) {
            events.merge(r[0] + "@" + r[1], 1, Integer::sum);
        }
        assertThat(events)
                .isEqualTo(SinkWorkflows.eventsOf(TiKVSinkExactlyOnceITCase::change, CHANGES));
        assertThat(tables.indexEntries("bank", "events", ts))
                .hasSize(CHANGES)
                .isEqualTo(tables.expectedIndexEntries("bank", "events", ts));
        // Every lock is resolved: committed epochs by the committers, the others rolled back.
        byte[] start = TableCodec.recordPrefix(table.id);
        await().atMost(Duration.ofSeconds(20))
                .until(
                        () ->
                                cluster.percolator()
                                        .scanLocks(
                                                java.util.Arrays.copyOf(start, 9),
                                                TableCodec.recordPrefix(table.id + 1),
                                                Long.MAX_VALUE,
                                                100)
                                        .isEmpty());
    }

    // ---- torn epochs ----

    private static final int PAIRS = 3000;
    private static final int SLOTS = 150;

    /**
     * For each input number, moves an amount between the two accounts of a slot: two rows whose
     * amounts must sum to 0 at every TSO. A slot is used once per checkpoint interval (so that each
     * epoch writes a row once, and is one transaction).
     */
    static final class Transfers extends RichFlatMapFunction<Long, RowWrite>
            implements CheckpointedFunction {
        private transient Set<Integer> usedInInterval;
        private int next;

        @Override
        public void flatMap(Long i, Collector<RowWrite> out) throws Exception {
            if (i % 8 == 0) {
                Thread.sleep(1);
            }
            if (usedInInterval.size() == SLOTS) {
                return; // every slot moved in this interval: skip
            }
            while (usedInInterval.contains(next)) {
                next = (next + 1) % SLOTS;
            }
            int slot = next;
            usedInInterval.add(slot);
            long amount = new Random(i).nextInt(1000) - 500;
            out.collect(RowWrite.upsert(new Object[] {2L * slot, amount}));
            out.collect(RowWrite.upsert(new Object[] {2L * slot + 1, -amount}));
        }

        @Override
        public void snapshotState(FunctionSnapshotContext context) {
            usedInInterval.clear(); // what follows the barrier is the next interval
        }

        @Override
        public void initializeState(FunctionInitializationContext context) {
            usedInInterval = new HashSet<>();
        }
    }

    /** Reads the ledger at random TSOs, as TiDB would (resolving locks), checking each pair. */
    private static CompletableFuture<Integer> readWhileWriting(
            MiniTiKVCluster cluster, TiSession session, AtomicBoolean done) {
        TableCodec codec = new TableCodec(tables.table("bank", "ledger"));
        byte[] start = TableCodec.recordPrefix(codec.table().id);
        byte[] end = start.clone();
        end[end.length - 1]++;
        return CompletableFuture.supplyAsync(
                () -> {
                    Random r = new Random();
                    int reads = 0;
                    while (!done.get()) {
                        long ts =
                                session.getTimestamp().getVersion() - ((long) r.nextInt(200) << 18);
                        Map<Long, Long> amounts = new HashMap<>();
                        ConcreteScanIterator it =
                                new ConcreteScanIterator(
                                        session.getConf(),
                                        session.getRegionStoreClientBuilder(),
                                        ByteString.copyFrom(start),
                                        ByteString.copyFrom(end),
                                        ts);
                        while (it.hasNext()) {
                            Kvrpcpb.KvPair p = it.next();
                            Object[] row =
                                    codec.decode(
                                            p.getKey().toByteArray(), p.getValue().toByteArray());
                            amounts.put((Long) row[0], (Long) row[1]);
                        }
                        for (Map.Entry<Long, Long> e : amounts.entrySet()) {
                            long id = e.getKey();
                            Long other = amounts.get(id ^ 1);
                            assertThat(other)
                                    .as("account %s's pair at ts %s (%s)", id ^ 1, ts, amounts)
                                    .isEqualTo(-e.getValue());
                        }
                        reads++;
                    }
                    return reads;
                });
    }

    @Test
    void readersNeverSeePartOfAnEpoch(MiniTiKVCluster cluster) throws Exception {
        RECORD_FAILURES_LEFT.set(1);
        CHECKPOINT_FAILURES_LEFT.set(2);
        FAILURES_DONE.set(0);
        StreamExecutionEnvironment env = env();
        env.fromSequence(0, PAIRS - 1)
                .setParallelism(1)
                .flatMap(new Transfers())
                .returns(TypeInformation.of(RowWrite.class))
                .setParallelism(1)
                .keyBy(c -> (Long) c.row()[0])
                .map(new FailureInjector())
                .setParallelism(2)
                .sinkTo(sink(cluster, "ledger"))
                .setParallelism(2);
        AtomicBoolean done = new AtomicBoolean();
        List<CompletableFuture<Integer>> readers = new ArrayList<>();
        TiSession session = tables.session();
        for (int i = 0; i < 2; i++) {
            readers.add(readWhileWriting(cluster, session, done));
        }
        try {
            env.execute("ledger");
        } finally {
            done.set(true);
        }
        int reads = 0;
        for (CompletableFuture<Integer> r : readers) {
            reads += r.get();
        }
        assertThat(reads).isGreaterThan(10);
        assertThat(FAILURES_DONE.get()).as("failures injected").isPositive();
        List<Object[]> rows = tables.rows("bank", "ledger", cluster.currentTs());
        assertThat(rows).hasSize(2 * SLOTS);
        assertThat(rows.stream().mapToLong(r -> (Long) r[1]).sum()).isZero();
    }
}
