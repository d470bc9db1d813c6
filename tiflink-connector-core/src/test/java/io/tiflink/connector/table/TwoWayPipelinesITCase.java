package io.tiflink.connector.table;

import io.tiflink.connector.testutils.Checkpoints;
import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.storage.Write;
import io.tiflink.tidb.table.TableCodec;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two jobs copying tables both ways: with {@code sink.txn-source} and {@code
 * scan.cdc.skip-txn-sources} each copies the user's changes once; without, changes go round for
 * ever.
 */
@Timeout(180)
class TwoWayPipelinesITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(1).cdcResolvedTsInterval(Duration.ofMillis(50)));

    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(2);

    private static MiniTiKVCluster cluster;
    private static TiDBTables tables;

    @BeforeAll
    static void schema(MiniTiKVCluster tikv) {
        cluster = tikv;
        tables = new TiDBTables(cluster);
        tables.ddl(
                "CREATE DATABASE shop; USE shop;"
                        + " CREATE TABLE a (id BIGINT PRIMARY KEY, v VARCHAR(16));"
                        + " CREATE TABLE b (id BIGINT PRIMARY KEY, v VARCHAR(16));"
                        + " CREATE TABLE loop_a (id BIGINT PRIMARY KEY, v VARCHAR(16));"
                        + " CREATE TABLE loop_b (id BIGINT PRIMARY KEY, v VARCHAR(16));");
    }

    @AfterAll
    static void close() throws Exception {
        tables.close();
    }

    @Test
    void markedPipelinesCopyEachChangeOnceAndThenStayQuiet(@TempDir Path checkpoints)
            throws Exception {
        Path aToB = checkpoints.resolve("a-to-b");
        Path bToA = checkpoints.resolve("b-to-a");
        JobClient job1 = copy(aToB, "a", "2", "b", "1");
        JobClient job2 = copy(bToA, "b", "1", "a", "2");
        try {
            tables.txn("shop", "a").insert(1L, "a1").commit();
            tables.txn("shop", "b").insert(2L, "b1").commit();
            awaitBoth("[1, a1]", "[2, b1]");
            tables.txn("shop", "a")
                    .update(new Object[] {2L, "b1"}, new Object[] {2L, "a2"})
                    .commit();
            tables.txn("shop", "b").delete(1L, "a1").commit();
            awaitBoth("[2, a2]");

            // Each table: the user's two changes (no mark) and the two the other job copied (its
            // sink's mark), nothing else, over several checkpoints (epochs) of each job.
            long checkpoint1 = Checkpoints.latestId(aToB);
            long checkpoint2 = Checkpoints.latestId(bToA);
            await().atMost(Duration.ofMinutes(1))
                    .until(
                            () ->
                                    Checkpoints.latestId(aToB) >= checkpoint1 + 3
                                            && Checkpoints.latestId(bToA) >= checkpoint2 + 3);
            assertThat(txnSourcesOfCommits("a")).containsExactlyInAnyOrder(0L, 0L, 2L, 2L);
            assertThat(txnSourcesOfCommits("b")).containsExactlyInAnyOrder(0L, 0L, 1L, 1L);
            assertThat(rows("a")).containsExactly("[2, a2]");
        } finally {
            job1.cancel().get();
            job2.cancel().get();
        }
    }

    /** What the test above guards against: unmarked, a change comes back again and again. */
    @Test
    void unmarkedPipelinesCopyAChangeBackAndForth(@TempDir Path checkpoints) throws Exception {
        JobClient job1 = copy(checkpoints.resolve("1"), "loop_a", null, "loop_b", null);
        JobClient job2 = copy(checkpoints.resolve("2"), "loop_b", null, "loop_a", null);
        try {
            tables.txn("shop", "loop_a").insert(1L, "a1").commit();
            // The user's write, then three round trips.
            await().atMost(Duration.ofMinutes(1))
                    .until(() -> txnSourcesOfCommits("loop_a").size() >= 4);
        } finally {
            job1.cancel().get();
            job2.cancel().get();
        }
    }

    /**
     * Starts a job copying {@code from} into {@code to}: its source skips {@code skip}, its sink
     * marks with {@code mark} (null: neither).
     */
    private static JobClient copy(
            Path checkpoints, String from, String skip, String to, String mark) {
        TableEnvironment env = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        env.getConfig().set("execution.checkpointing.interval", "200ms");
        env.getConfig().set("parallelism.default", "1");
        env.getConfig()
                .set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints.toUri().toString());
        env.executeSql(
                "CREATE TABLE src (id BIGINT, v STRING, PRIMARY KEY (id) NOT ENFORCED)"
                        + with(from)
                        + (skip == null ? "" : ", 'scan.cdc.skip-txn-sources' = '" + skip + "'")
                        + ")");
        env.executeSql(
                "CREATE TABLE dst (id BIGINT, v STRING, PRIMARY KEY (id) NOT ENFORCED)"
                        + with(to)
                        + (mark == null ? "" : ", 'sink.txn-source' = '" + mark + "'")
                        + ")");
        return env.executeSql("INSERT INTO dst SELECT id, v FROM src").getJobClient().get();
    }

    private static String with(String table) {
        return " WITH ('connector' = 'tikv', 'pd-addresses' = '"
                + cluster.pdAddress()
                + "', 'database-name' = 'shop', 'table-name' = '"
                + table
                + "'";
    }

    private static void awaitBoth(String... rows) {
        await().atMost(Duration.ofMinutes(1))
                .untilAsserted(
                        () -> {
                            assertThat(rows("a")).containsExactlyInAnyOrder(rows);
                            assertThat(rows("b")).containsExactlyInAnyOrder(rows);
                        });
    }

    private static List<String> rows(String table) {
        List<String> out = new ArrayList<>();
        for (Object[] r : tables.rows("shop", table, cluster.currentTs())) {
            out.add(Arrays.toString(r));
        }
        return out;
    }

    /** The txn_source of every committed change (put or delete) of the table's rows in TiKV. */
    private static List<Long> txnSourcesOfCommits(String table) {
        byte[] start = TableCodec.recordPrefix(tables.table("shop", table).id);
        byte[] end = start.clone();
        end[end.length - 1]++;
        List<Long> sources = new ArrayList<>();
        for (Write[] versions : cluster.storage().writes(start, end).values()) {
            for (Write w : versions) {
                if (w.type == Write.Type.PUT || w.type == Write.Type.DELETE) {
                    sources.add(w.txnSource);
                }
            }
        }
        return sources;
    }
}
