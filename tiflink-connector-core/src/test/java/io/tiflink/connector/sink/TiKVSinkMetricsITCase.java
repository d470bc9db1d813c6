package io.tiflink.connector.sink;

import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.tidb.table.Handle;
import io.tiflink.tidb.table.TableCodec;
import io.tiflink.tidb.write.RowWrite;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.groups.OperatorMetricGroup;
import org.apache.flink.runtime.metrics.MetricNames;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The sink's metrics, read from the job's metric registry (docs/metrics.md). */
@Timeout(180)
class TiKVSinkMetricsITCase {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String NAME = "metered";
    private static final int ROWS = 50;

    /** Keeps the metrics of ended jobs too. */
    private static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(1));

    @RegisterExtension
    static final MiniClusterExtension FLINK = FlinkClusters.withReporter(2, REPORTER);

    /** Holds the conflicting row back until the test committed the same row. */
    private static volatile CountDownLatch conflictCommitted = new CountDownLatch(1);

    private static TiDBTables tables;

    @BeforeAll
    static void schema(MiniTiKVCluster cluster) {
        tables = new TiDBTables(cluster);
        tables.ddl(
                "CREATE DATABASE m; USE m;"
                        + " CREATE TABLE once (id BIGINT PRIMARY KEY, v VARCHAR(16), KEY k_v (v));"
                        + " CREATE TABLE least (id BIGINT PRIMARY KEY, v VARCHAR(16));"
                        + " CREATE TABLE conflict (id BIGINT PRIMARY KEY, v VARCHAR(16));");
    }

    @AfterAll
    static void close() throws Exception {
        tables.close();
    }

    @Test
    void exactlyOnceCountsRowsBytesAndCommittedEpochs(MiniTiKVCluster cluster) throws Exception {
        StreamExecutionEnvironment env = FlinkClusters.noRestartEnv(1, 50);
        env.fromData(TypeInformation.of(RowWrite.class), upserts())
                .sinkTo(sink(cluster, "once", DeliveryGuarantee.EXACTLY_ONCE))
                .name(NAME);
        JobID job = env.execute("exactly once").getJobID();

        assertThat(tables.rows("m", "once", cluster.currentTs())).hasSize(ROWS);
        Map<String, Metric> writer = writerMetrics(job);
        assertThat(count(writer, MetricNames.NUM_RECORDS_SEND)).isEqualTo(ROWS);
        // Each row: its record and an index entry, keys and values.
        assertThat(count(writer, MetricNames.NUM_BYTES_SEND)).isGreaterThan(ROWS * 2 * 19L);
        assertThat(count(writer, "writeConflicts")).isZero();
        assertThat(count(writer, MetricNames.NUM_RECORDS_SEND_ERRORS)).isZero();
        assertThat(count(coordinatorMetric(job, "epochsCommitted"))).isPositive();
        assertThat(value(coordinatorMetric(job, "lastCommitDuration"))).isBetween(0L, 60_000L);
    }

    @Test
    void atLeastOnceCountsRowsAndBytes(MiniTiKVCluster cluster) throws Exception {
        StreamExecutionEnvironment env = FlinkClusters.noRestartEnv(1, 50);
        env.fromData(TypeInformation.of(RowWrite.class), upserts())
                .sinkTo(sink(cluster, "least", DeliveryGuarantee.AT_LEAST_ONCE))
                .name(NAME);
        JobID job = env.execute("at least once").getJobID();

        assertThat(tables.rows("m", "least", cluster.currentTs())).hasSize(ROWS);
        Map<String, Metric> writer = writerMetrics(job);
        assertThat(count(writer, MetricNames.NUM_RECORDS_SEND)).isEqualTo(ROWS);
        assertThat(count(writer, MetricNames.NUM_BYTES_SEND)).isGreaterThan(ROWS * 19L);
        assertThat(count(writer, "writeConflicts")).isZero();
        assertThat(REPORTER.findMetrics(job, "epochsCommitted")).isEmpty(); // no coordinator
    }

    /**
     * A row another transaction committed after the epoch began conflicts: counted, with the row as
     * a send error; the job fails, and its open epoch is rolled back.
     */
    @Test
    void aWriteConflictIsCountedAndTheFailedEpochRolledBack(MiniTiKVCluster cluster)
            throws Exception {
        conflictCommitted = new CountDownLatch(1);
        // No checkpoints: both rows go into epoch 0, which opens when the job starts.
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        env.fromData(
                        TypeInformation.of(RowWrite.class),
                        RowWrite.upsert(new Object[] {1L, "first"}),
                        RowWrite.upsert(new Object[] {2L, "conflicting"}))
                .map(
                        w -> {
                            if ((Long) w.row()[0] == 2L) {
                                conflictCommitted.await();
                            }
                            return w;
                        })
                .returns(RowWrite.class)
                .sinkTo(sink(cluster, "conflict", DeliveryGuarantee.EXACTLY_ONCE))
                .name(NAME);
        JobClient job = env.executeAsync("conflict");
        // Row 1 prewritten (a buffer of one row is written at once): epoch 0 is open.
        byte[] first = TableCodec.recordKey(tables.table("m", "conflict").id, Handle.ofInt(1));
        await().atMost(WAIT).until(() -> cluster.storage().lock(first) != null);
        tables.txn("m", "conflict").insert(2L, "committed first").commit();
        conflictCommitted.countDown();
        await().atMost(WAIT).until(() -> job.getJobStatus().get().isGloballyTerminalState());

        Map<String, Metric> writer = writerMetrics(job.getJobID());
        assertThat(count(writer, "writeConflicts")).isEqualTo(1);
        assertThat(count(writer, MetricNames.NUM_RECORDS_SEND)).isEqualTo(1);
        assertThat(count(writer, MetricNames.NUM_RECORDS_SEND_ERRORS)).isEqualTo(1);
        assertThat(count(writer, MetricNames.NUM_RECORDS_OUT_ERRORS)).isEqualTo(1);
        Metric rolledBack = coordinatorMetric(job.getJobID(), "epochsRolledBack");
        await().atMost(WAIT).until(() -> count(rolledBack) == 1);
        assertThat(count(coordinatorMetric(job.getJobID(), "epochsCommitted"))).isZero();
        assertThat(value(coordinatorMetric(job.getJobID(), "lastCommitDuration"))).isEqualTo(-1);
    }

    private static RowWrite[] upserts() {
        List<RowWrite> writes = new ArrayList<>();
        for (long id = 1; id <= ROWS; id++) {
            writes.add(RowWrite.upsert(new Object[] {id, "v" + id}));
        }
        return writes.toArray(new RowWrite[0]);
    }

    private static TiKVSink<RowWrite> sink(
            MiniTiKVCluster cluster, String table, DeliveryGuarantee guarantee) {
        return TiKVSink.<RowWrite>builder()
                .pdAddresses(cluster.pdAddress())
                .database("m")
                .table(table)
                .deliveryGuarantee(guarantee)
                .option(TiKVSinkOptions.BUFFER_FLUSH_MAX_ROWS, 1)
                .serializer(w -> w)
                .build();
    }

    /** The writer operator's metrics (one subtask, one attempt). */
    private static Map<String, Metric> writerMetrics(JobID job) {
        List<OperatorMetricGroup> groups =
                REPORTER.findOperatorMetricGroups(job, NAME + ": Writer");
        assertThat(groups).hasSize(1);
        return REPORTER.getMetricsByGroup(groups.get(0));
    }

    /** A metric of the sink's coordinator, in the job manager. */
    private static Metric coordinatorMetric(JobID job, String name) {
        Map<String, Metric> found = REPORTER.findMetrics(job, "\\.coordinator\\." + name + "$");
        assertThat(found).as(name).hasSize(1);
        return found.values().iterator().next();
    }

    private static long count(Map<String, Metric> metrics, String name) {
        assertThat(metrics).containsKey(name);
        return count(metrics.get(name));
    }

    private static long count(Metric m) {
        return ((Counter) m).getCount();
    }

    private static long value(Metric m) {
        return ((Number) ((Gauge<?>) m).getValue()).longValue();
    }
}
