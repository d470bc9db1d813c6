package io.tiflink.connector;

import io.tiflink.connector.sink.TiKVSink;
import io.tiflink.connector.source.TiKVSource;
import io.tiflink.connector.source.TiKVSourceOptions;
import io.tiflink.connector.testutils.ChangeStrings;
import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.LogRecorder;
import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.tidb.write.RowWrite;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A cluster that goes away under a running job: the source and the sink fail the job within
 * 'tikv.unavailable-timeout' (here 3 s), with one error naming the option and what could not be
 * reached, and log a handful of lines meanwhile, not one per retry. A store going down among others
 * (its regions' leaders elected on the rest) is no outage: the job goes on with every change.
 */
@Timeout(120)
class TiKVUnavailableITCase {
    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(2);

    @RegisterExtension final LogRecorder logs = new LogRecorder("io.tiflink");

    private static final Duration TIMEOUT = Duration.ofSeconds(3);

    /** The timeout, plus the job noticing, failing and a busy machine's scheduling. */
    private static final Duration BOUND = Duration.ofSeconds(30);

    /** Lines io.tiflink may log at WARN or above while the cluster is away (one per cause). */
    private static final int FEW_LINES = 6;

    private static final String OPTION = "'tikv.unavailable-timeout' = '3 s'";

    private static MiniTiKVCluster cluster(int stores) {
        return MiniTiKVCluster.builder()
                .stores(stores)
                .cdcResolvedTsInterval(Duration.ofMillis(50))
                .start();
    }

    /** A job reading shop.t's snapshot and changes into {@code rows}. */
    private static JobClient read(MiniTiKVCluster cluster, CloseableIterator<String>[] rows)
            throws Exception {
        StreamExecutionEnvironment env = FlinkClusters.noRestartEnv(1, 200);
        rows[0] =
                env.fromSource(
                                TiKVSource.<String>builder()
                                        .pdAddresses(cluster.pdAddress())
                                        .database("shop")
                                        .table("t")
                                        .option(TiKVOptions.UNAVAILABLE_TIMEOUT, TIMEOUT)
                                        // Stale locks looked for every 100 ms: each look fails
                                        // while the cluster is away, and must not log each time.
                                        .option(
                                                TiKVSourceOptions.CDC_LOCK_RESOLVE_AFTER,
                                                Duration.ofMillis(200))
                                        .deserializer(new ChangeStrings())
                                        .build(),
                                WatermarkStrategy.noWatermarks(),
                                "t")
                        .collectAsync();
        return env.executeAsync("read shop.t");
    }

    @SuppressWarnings("unchecked")
    private static CloseableIterator<String>[] rowsHolder() {
        return new CloseableIterator[1];
    }

    @Test
    void aStreamingReadFailsWithinTheTimeoutWhenTheClusterIsGone() throws Exception {
        MiniTiKVCluster cluster = cluster(1);
        CloseableIterator<String>[] rows = rowsHolder();
        JobClient job;
        try (TiDBTables tables = new TiDBTables(cluster)) {
            tables.ddl("CREATE DATABASE shop; USE shop; CREATE TABLE t (id BIGINT PRIMARY KEY);");
            tables.txn("shop", "t").insert(1L).commit();
            job = read(cluster, rows);
            assertThat(rows[0].next()).startsWith("SNAPSHOT t - -> [1]");
            tables.txn("shop", "t").insert(2L).commit();
            assertThat(rows[0].next()).startsWith("INSERT t - -> [2]");
        }
        int linesBefore = logs.atLeast(Level.WARN).size();
        cluster.close();
        long closed = System.nanoTime();

        assertThatThrownBy(() -> job.getJobExecutionResult().get())
                .hasStackTraceContaining("have had no working change feed from TiKV")
                .hasStackTraceContaining("more than " + OPTION)
                .hasStackTraceContaining("last error: ");
        assertThat(Duration.ofNanos(System.nanoTime() - closed))
                .isGreaterThanOrEqualTo(TIMEOUT)
                .isLessThan(BOUND);
        List<String> lines = logs.atLeast(Level.WARN);
        assertThat(lines.subList(linesBefore, lines.size()))
                .as("io.tiflink's WARN lines while the cluster was away")
                .hasSizeLessThanOrEqualTo(FEW_LINES);
        rows[0].close();
    }

    /**
     * The regions' only store down, PD up: no leader can be elected, the feeds' stream to the store
     * breaks at each try, and locks seem stale. Each is retried, and logged once.
     */
    @Test
    void aStreamingReadFailsWithinTheTimeoutWhenItsRegionsStoreIsDown() throws Exception {
        try (MiniTiKVCluster cluster = cluster(1);
                TiDBTables tables = new TiDBTables(cluster)) {
            tables.ddl("CREATE DATABASE shop; USE shop; CREATE TABLE t (id BIGINT PRIMARY KEY);");
            tables.txn("shop", "t").insert(1L).commit();
            CloseableIterator<String>[] rows = rowsHolder();
            JobClient job = read(cluster, rows);
            assertThat(rows[0].next()).startsWith("SNAPSHOT t - -> [1]");
            long store = cluster.storeIds().get(0);
            String address = cluster.storeAddress(store);
            int linesBefore = logs.atLeast(Level.INFO).size();
            cluster.stopStore(store);
            long stopped = System.nanoTime();

            assertThatThrownBy(() -> job.getJobExecutionResult().get())
                    .hasStackTraceContaining("more than " + OPTION)
                    .hasStackTraceContaining(
                            "last error: stream to store " + store + " at " + address + " broke");
            assertThat(Duration.ofNanos(System.nanoTime() - stopped))
                    .isGreaterThanOrEqualTo(TIMEOUT)
                    .isLessThan(BOUND);
            List<String> lines = logs.atLeast(Level.INFO);
            assertThat(lines.subList(linesBefore, lines.size()))
                    .as("io.tiflink's INFO lines while the store was down")
                    .filteredOn(
                            line ->
                                    line.startsWith("INFO io.tiflink.cdc")
                                            || !line.startsWith("INFO"))
                    .hasSizeLessThanOrEqualTo(FEW_LINES);
            rows[0].close();
        }
    }

    @Test
    void anExactlyOnceSinkFailsWithinTheTimeoutWhenTheClusterIsGone() throws Exception {
        MiniTiKVCluster cluster = cluster(1);
        try (TiDBTables tables = new TiDBTables(cluster)) {
            tables.ddl("CREATE DATABASE shop; USE shop; CREATE TABLE s (id BIGINT PRIMARY KEY);");
            StreamExecutionEnvironment env = FlinkClusters.noRestartEnv(1, 200);
            env.fromSource(
                            new DataGeneratorSource<>(
                                    i -> i,
                                    Long.MAX_VALUE,
                                    RateLimiterStrategy.perSecond(50),
                                    Types.LONG),
                            WatermarkStrategy.noWatermarks(),
                            "ids")
                    .map(i -> RowWrite.upsert(new Object[] {i}))
                    .returns(TypeInformation.of(RowWrite.class))
                    .sinkTo(
                            TiKVSink.<RowWrite>builder()
                                    .pdAddresses(cluster.pdAddress())
                                    .database("shop")
                                    .table("s")
                                    .option(TiKVOptions.UNAVAILABLE_TIMEOUT, TIMEOUT)
                                    .serializer(c -> c)
                                    .build());
            JobClient job = env.executeAsync("write shop.s");
            // Some epochs committed: the sink is past its start.
            await().atMost(Duration.ofMinutes(1))
                    .until(() -> !tables.rows("shop", "s", cluster.currentTs()).isEmpty());
            int linesBefore = logs.atLeast(Level.WARN).size();
            cluster.close();
            long closed = System.nanoTime();

            assertThatThrownBy(() -> job.getJobExecutionResult().get())
                    .hasStackTraceContaining("for " + OPTION);
            assertThat(Duration.ofNanos(System.nanoTime() - closed)).isLessThan(BOUND);
            List<String> lines = logs.atLeast(Level.WARN);
            assertThat(lines.subList(linesBefore, lines.size()))
                    .as("io.tiflink's WARN lines while the cluster was away")
                    .hasSizeLessThanOrEqualTo(FEW_LINES);
        }
    }

    @Test
    void aStoreDownAmongOthersIsNoOutage() throws Exception {
        try (MiniTiKVCluster cluster = cluster(3);
                TiDBTables tables = new TiDBTables(cluster)) {
            tables.ddl("CREATE DATABASE shop; USE shop; CREATE TABLE t (id BIGINT PRIMARY KEY);");
            tables.txn("shop", "t").insert(1L).commit();
            CloseableIterator<String>[] rows = rowsHolder();
            JobClient job = read(cluster, rows);
            assertThat(rows[0].next()).startsWith("SNAPSHOT t - -> [1]");
            // Served for longer than the timeout first: the outage clock starts at the failure.
            long id = insertFor(tables, rows[0], 2, TIMEOUT.plusMillis(500));
            cluster.stopStore(cluster.storeIds().get(0));
            // Changes for longer than the timeout with the store down: each one arrives.
            insertFor(tables, rows[0], id, TIMEOUT.plusSeconds(1));
            assertThat(job.getJobStatus().get().isGloballyTerminalState()).isFalse();
            rows[0].close();
            job.cancel().get();
        }
    }

    /**
     * Inserts rows {@code id, id + 1, ...} into shop.t for {@code period}, each read back before
     * the next; returns the next id.
     */
    private static long insertFor(
            TiDBTables tables, CloseableIterator<String> rows, long id, Duration period) {
        long until = System.nanoTime() + period.toNanos();
        for (; System.nanoTime() < until; id++) {
            tables.txn("shop", "t").insert(id).commit();
            assertThat(rows.next()).startsWith("INSERT t - -> [" + id + "]");
        }
        return id;
    }
}
