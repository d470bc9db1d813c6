package io.tiflink.connector.source;

import io.tiflink.connector.testutils.ChangeStrings;
import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.tidb.MiniClusterRows;
import io.tiflink.minicluster.workload.TiDBLikeWriter;
import io.tiflink.minicluster.workload.TiDBLikeWriter.Crash;
import io.tiflink.minicluster.workload.TiDBLikeWriter.Shape;
import io.tiflink.tidb.meta.MetaJson;
import io.tiflink.tidb.meta.MetaKeys;
import io.tiflink.tidb.meta.MetaReader;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.table.Handle;
import io.tiflink.tidb.table.TableCodec;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.groups.OperatorMetricGroup;
import org.apache.flink.runtime.metrics.MetricNames;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The source's metrics, read from the job's metric registry (docs/metrics.md). */
class TiKVSourceMetricsITCase {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String NAME = "metered";

    /** Keeps the metrics of ended tasks too. */
    private static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(3).cdcResolvedTsInterval(Duration.ofMillis(50)));

    @RegisterExtension
    static final MiniClusterExtension FLINK = FlinkClusters.withReporter(1, REPORTER);

    private static TiDBTables tables;

    @BeforeAll
    static void schema(MiniTiKVCluster cluster) {
        tables = new TiDBTables(cluster);
        tables.ddl(
                "CREATE DATABASE shop; USE shop;"
                        + " CREATE TABLE metered (id BIGINT PRIMARY KEY, v VARCHAR(16));");
    }

    @AfterAll
    static void close() throws Exception {
        tables.close();
    }

    @Test
    void countsWhatItReadsByKindAndTellsHowItsSubscriptionGoes(MiniTiKVCluster cluster)
            throws Exception {
        MiniClusterRows.Txn load = tables.txn("shop", NAME);
        for (long i = 1; i <= 5; i++) {
            load.insert(i, "v" + i);
        }
        load.commit();
        StreamExecutionEnvironment env = FlinkClusters.noRestartEnv(1, 100);
        TiKVSource<String> source =
                TiKVSource.<String>builder()
                        .pdAddresses(cluster.pdAddress())
                        .database("shop")
                        .table(NAME)
                        .deserializer(new ChangeStrings())
                        .option(TiKVSourceOptions.CDC_LOCK_RESOLVE_AFTER, Duration.ofSeconds(1))
                        .build();
        CloseableIterator<String> rows =
                env.fromSource(source, WatermarkStrategy.noWatermarks(), NAME).collectAsync();
        JobClient job = env.executeAsync("source metrics");
        try (TiDBLikeWriter tidb = new TiDBLikeWriter(cluster, 100)) {
            assertThat(take(rows, 5)).allMatch(r -> r.startsWith("SNAPSHOT"));
            JobID id = job.getJobID();
            await().atMost(WAIT).until(() -> counter(id, "numSnapshotRecords") == 5);

            tables.txn("shop", NAME).insert(6L, "v6").insert(7L, "v7").commit();
            tables.txn("shop", NAME)
                    .update(new Object[] {2L, "v2"}, new Object[] {2L, "v2b"})
                    .commit();
            tables.txn("shop", NAME).delete(3L, "v3").commit();
            assertThat(take(rows, 4)).hasSize(4);

            // A schema change the source follows: TiDB rewrites the table's info on a DDL.
            TableInfo info = tables.table("shop", NAME);
            long dbId = MetaReader.latest(tables.session()).database("shop").id;
            byte[] metaKey = MetaKeys.hashField(MetaKeys.dbKey(dbId), MetaKeys.tableField(info.id));
            tidb.commit(Shape.OPTIMISTIC, Map.of(metaKey, MetaJson.bytes(info)));
            await().atMost(WAIT).until(() -> counter(id, "numDDLRecords") == 1);

            // A crashed transaction whose primary committed: its secondary lock holds the
            // resolved ts back until the source's CDC client settles it.
            tidb.crash(
                    Shape.OPTIMISTIC,
                    Crash.AFTER_PRIMARY_COMMIT,
                    tables.txn("shop", NAME).insert(10L, "v10").insert(11L, "v11").writes());
            assertThat(take(rows, 2)).allMatch(r -> r.startsWith("INSERT"));
            await().atMost(WAIT).until(() -> gauge(id, "staleLocksResolved") == 1);

            // The stream of the store leading the table's rows breaks; the source goes on.
            long store =
                    cluster.regions()
                            .locate(TableCodec.recordKey(info.id, Handle.ofInt(1)))
                            .leaderStoreId;
            cluster.dropCdcStreams(store);
            await().atMost(WAIT).until(() -> gauge(id, "streamReconnects") == 1);
            tables.txn("shop", NAME).insert(8L, "v8").commit();
            assertThat(take(rows, 1)).containsExactly("INSERT metered - -> [8,v8]");

            await().atMost(WAIT)
                    .untilAsserted(
                            () -> {
                                assertThat(counter(id, "numSnapshotRecords")).isEqualTo(5);
                                assertThat(counter(id, "numInsertDMLRecords")).isEqualTo(5);
                                assertThat(counter(id, "numUpdateDMLRecords")).isEqualTo(1);
                                assertThat(counter(id, "numDeleteDMLRecords")).isEqualTo(1);
                                assertThat(counter(id, "numDDLRecords")).isEqualTo(1);
                                // Rows and key changes, not resolved ts.
                                assertThat(counter(id, MetricNames.IO_NUM_RECORDS_IN))
                                        .isEqualTo(13);
                            });
            assertThat(counter(id, MetricNames.IO_NUM_BYTES_IN)).isPositive();
            assertThat(gauge(id, "regionsSubscribed")).isPositive();
            assertThat(gauge(id, "cdcBufferedBytes")).isNotNegative();
            assertThat(gauge(id, "cdcSpilledBytes")).isZero();
            assertThat(gauge(id, MetricNames.PENDING_RECORDS)).isNotNegative();
            // Lags: the rows were committed within the test's minute; the resolved ts moves on.
            assertThat(gauge(id, MetricNames.CURRENT_FETCH_EVENT_TIME_LAG)).isBetween(0L, 60_000L);
            assertThat(gauge(id, MetricNames.CURRENT_EMIT_EVENT_TIME_LAG)).isBetween(0L, 60_000L);
            await().atMost(WAIT).until(() -> gauge(id, "resolvedTsLag"), lag -> lag < 5_000);
            assertThat(gauge(id, "resolvedTsLag")).isNotNegative();
            assertThat(metrics(id))
                    .containsKeys(MetricNames.SOURCE_IDLE_TIME, MetricNames.WATERMARK_LAG);
        } finally {
            rows.close();
            job.cancel().get();
        }
    }

    private static List<String> take(CloseableIterator<String> it, int n) {
        List<String> out = new ArrayList<>();
        while (out.size() < n && it.hasNext()) {
            out.add(it.next().replaceAll(" @\\d+$", ""));
        }
        return out;
    }

    /** The source operator's metrics (one subtask, one attempt). */
    private static Map<String, Metric> metrics(JobID job) {
        List<OperatorMetricGroup> groups = REPORTER.findOperatorMetricGroups(job, NAME);
        assertThat(groups).hasSize(1);
        return REPORTER.getMetricsByGroup(groups.get(0));
    }

    private static long counter(JobID job, String name) {
        Metric m = metrics(job).get(name);
        assertThat(m).as(name).isInstanceOf(Counter.class);
        return ((Counter) m).getCount();
    }

    private static long gauge(JobID job, String name) {
        Metric m = metrics(job).get(name);
        assertThat(m).as(name).isInstanceOf(Gauge.class);
        return ((Number) ((Gauge<?>) m).getValue()).longValue();
    }
}
