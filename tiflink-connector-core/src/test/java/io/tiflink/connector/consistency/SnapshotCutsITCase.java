package io.tiflink.connector.consistency;

import io.tiflink.connector.TiKVOptions;
import io.tiflink.connector.source.TiDBChange;
import io.tiflink.connector.source.TiKVDeserializationSchema;
import io.tiflink.connector.source.TiKVSource;
import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.tidb.meta.TableInfo;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.Collector;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two TiKV sources, tables {@code a} and {@code b}, under transactions that set a row of both to
 * the same value: with consistent snapshots the job's state at every checkpoint (once the streams
 * started) has {@code a = b}, as the tables have at every TSO; without, a barrier falls between the
 * two halves of a transaction.
 */
class SnapshotCutsITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(1).cdcResolvedTsInterval(Duration.ofMillis(50)));

    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(4);

    private static final int ROWS = 10;
    private static int nextTables;

    /** What the checker found, by test: checks with the tables equal, and not. */
    static final Map<String, AtomicInteger> EQUAL = new ConcurrentHashMap<>();

    static final Map<String, AtomicInteger> UNEQUAL = new ConcurrentHashMap<>();
    static final Map<String, AtomicReference<Map<Long, Long>>> LAST = new ConcurrentHashMap<>();

    private MiniTiKVCluster cluster;
    private TiDBTables tables;
    private String db;
    private final AtomicBoolean writing = new AtomicBoolean(true);
    private Thread writer;
    private final Map<Long, Long> values = new ConcurrentHashMap<>();

    @BeforeEach
    void createTables(MiniTiKVCluster cluster) {
        this.cluster = cluster;
        this.tables = new TiDBTables(cluster);
        this.db = "cuts" + nextTables++;
        tables.ddl(
                "CREATE DATABASE "
                        + db
                        + "; USE "
                        + db
                        + "; CREATE TABLE a (id BIGINT PRIMARY KEY, v BIGINT);"
                        + " CREATE TABLE b (id BIGINT PRIMARY KEY, v BIGINT);");
        TableInfo a = tables.table(db, "a");
        TableInfo b = tables.table(db, "b");
        var txn = tables.txn(a);
        for (long id = 0; id < ROWS; id++) {
            txn.in(a).insert(id, 0L).in(b).insert(id, 0L);
            values.put(id, 0L);
        }
        txn.commit();
        writer =
                new Thread(
                        () -> {
                            Random random = new Random(7);
                            long v = 0;
                            while (writing.get()) {
                                long id = random.nextInt(ROWS);
                                long before = values.get(id);
                                v++;
                                tables.txn(a)
                                        .update(new Object[] {id, before}, new Object[] {id, v})
                                        .in(b)
                                        .update(new Object[] {id, before}, new Object[] {id, v})
                                        .commit();
                                values.put(id, v);
                            }
                        },
                        "a-and-b-writer");
    }

    @AfterEach
    void stop() throws Exception {
        writing.set(false);
        writer.join();
        tables.close();
    }

    @Test
    void everyCheckpointSeesBothHalvesOfEachTransaction() throws Exception {
        JobClient job = start("consistent", Consistency.SNAPSHOT);
        try {
            writer.start();
            await().atMost(Duration.ofMinutes(2))
                    .until(() -> EQUAL.get("consistent").get() >= 30 || failed(job));
            assertThat(UNEQUAL.get("consistent").get()).isZero();
            writing.set(false);
            writer.join();
            // The cuts go on: the checkpoints reach the last transaction.
            await().atMost(Duration.ofMinutes(1))
                    .until(() -> new HashMap<>(values).equals(LAST.get("consistent").get()));
            assertThat(UNEQUAL.get("consistent").get()).isZero();
        } finally {
            job.cancel().get();
        }
    }

    @Test
    void withoutConsistencyACheckpointSplitsATransaction() throws Exception {
        JobClient job = start("none", Consistency.NONE);
        try {
            writer.start();
            await().atMost(Duration.ofMinutes(2))
                    .until(() -> UNEQUAL.get("none").get() > 0 || failed(job));
            assertThat(UNEQUAL.get("none").get()).isPositive();
        } finally {
            job.cancel().get();
        }
    }

    private static boolean failed(JobClient job) throws Exception {
        return job.getJobStatus().get().isGloballyTerminalState();
    }

    private JobClient start(String name, Consistency consistency) throws Exception {
        EQUAL.put(name, new AtomicInteger());
        UNEQUAL.put(name, new AtomicInteger());
        LAST.put(name, new AtomicReference<>());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        env.enableCheckpointing(100, CheckpointingMode.EXACTLY_ONCE);
        DataStream<String> a = source("a", consistency).stream(env, "a", "a");
        DataStream<String> b = source("b", consistency).stream(env, "b", "b");
        a.union(b).process(new Checker(name)).setParallelism(1);
        return env.executeAsync("cuts " + name);
    }

    private TiKVSource<String> source(String table, Consistency consistency) {
        return TiKVSource.<String>builder()
                .pdAddresses(cluster.pdAddress())
                .database(db)
                .table(table)
                .option(TiKVOptions.CONSISTENCY, consistency)
                .deserializer(new Changes())
                .build();
    }

    /** A change as {@code table kind id v}. */
    private static final class Changes implements TiKVDeserializationSchema<String> {
        @Override
        public void deserialize(TiDBChange change, Collector<String> out) {
            Object[] row = change.after() != null ? change.after() : change.before();
            out.collect(change.table().name() + " " + change.kind() + " " + row[0] + " " + row[1]);
        }

        @Override
        public TypeInformation<String> getProducedType() {
            return Types.STRING;
        }
    }

    /**
     * Applies the changes of both tables and, at each checkpoint once both streams started (both
     * snapshots are then in), compares them.
     */
    private static final class Checker extends ProcessFunction<String, Void>
            implements CheckpointedFunction {
        private final String name;
        private final Map<Long, Long> a = new HashMap<>();
        private final Map<Long, Long> b = new HashMap<>();
        private final AtomicBoolean streamingA = new AtomicBoolean();
        private final AtomicBoolean streamingB = new AtomicBoolean();
        private boolean changed;

        Checker(String name) {
            this.name = name;
        }

        @Override
        public void processElement(String change, Context ctx, Collector<Void> out) {
            String[] f = change.split(" ");
            Map<Long, Long> table = f[0].equals("a") ? a : b;
            long id = Long.parseLong(f[2]);
            if (f[1].equals("DELETE")) {
                table.remove(id);
            } else {
                table.put(id, Long.parseLong(f[3]));
            }
            changed = true;
            if (!f[1].equals("SNAPSHOT")) {
                (table == a ? streamingA : streamingB).set(true);
            }
        }

        @Override
        public void snapshotState(FunctionSnapshotContext context) {
            if (!streamingA.get() || !streamingB.get() || !changed) {
                return;
            }
            changed = false;
            (a.equals(b) ? EQUAL : UNEQUAL).get(name).incrementAndGet();
            LAST.get(name).set(new HashMap<>(a));
        }

        @Override
        public void initializeState(FunctionInitializationContext context) {}
    }
}
