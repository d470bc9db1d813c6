package io.tiflink.e2e;

import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.tidb.meta.MetaReader;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The shaded connector jar in a real Flink cluster: a standalone session cluster of three JVMs (a
 * JobManager, two TaskManagers) on a Flink installation from Maven Central, and the SQL client
 * submitting to it over REST with only {@code tiflink-sql-connector-tikv} added. PD and TiKV are
 * the minicluster in this JVM, on loopback ports.
 */
class FlinkClusterITCase {
    @RegisterExtension
    @Order(1)
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension();

    /** Two slots a TaskManager: either can run the whole job once the other is gone. */
    @RegisterExtension
    @Order(2)
    static final FlinkCluster FLINK = new FlinkCluster(2, 2);

    private static final Pattern JOB_ID = Pattern.compile("Job ID: ([0-9a-f]{32})");

    @BeforeAll
    static void shop(MiniTiKVCluster cluster) {
        Shop.create(cluster);
    }

    @Test
    void showsAndDescribesTheCatalog(MiniTiKVCluster cluster, @TempDir Path dir) throws Exception {
        Shop.assertBrowsed(SqlClient.remote(FLINK).run(dir, Shop.catalog(cluster) + Shop.BROWSE));
    }

    /**
     * A row the table cannot take fails the INSERT at once, though the restart strategy would
     * restart it 100 times a second apart; with {@code table.dml-sync} the client prints the
     * failure, naming the table, the column, the value and the row; nothing of it is written.
     */
    @Test
    void showsARowTheTableCannotTakeWithoutRestarts(MiniTiKVCluster cluster, @TempDir Path dir)
            throws Exception {
        long start = System.nanoTime();
        String out =
                SqlClient.remote(FLINK)
                        .run(
                                dir,
                                Shop.catalog(cluster)
                                        + "SET 'execution.checkpointing.interval' = '500ms';\n"
                                        + "SET 'restart-strategy.type' = 'fixed-delay';\n"
                                        + "SET 'restart-strategy.fixed-delay.attempts' = '100';\n"
                                        + "SET 'restart-strategy.fixed-delay.delay' = '1 s';\n"
                                        + "SET 'table.dml-sync' = 'true';\n"
                                        // STRING, not the catalog's VARCHAR(32), to which Flink
                                        // would cut the value itself.
                                        + "CREATE TEMPORARY TABLE orders_in (id BIGINT,"
                                        + " item STRING, qty INT, price DECIMAL(10, 2))"
                                        + " WITH ("
                                        + "'connector' = 'tikv', 'pd-addresses' = '"
                                        + cluster.pdAddress()
                                        + "', 'database-name' = 'shop',"
                                        + " 'table-name' = 'orders');\n"
                                        + "INSERT INTO orders_in VALUES (100, 'short', 1, 1.00),"
                                        + " (101, 'abcdefghijklmnopqrstuvwxyz0123456789', 2,"
                                        + " 2.00);\n");
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(out).contains("[ERROR] Could not execute SQL statement.");
        assertThat(out.substring(out.indexOf("[ERROR]")))
                .contains(
                        "TiKV sink into shop.orders (subtask 0): row 2 received since the subtask"
                                + " started, (id=101, item='abcdefghijklmnopqrstuvwxyz0123456789',"
                                + " qty=2, price=2.00): column 'item' (varchar(32)) of TiDB table"
                                + " shop.orders: 'abcdefghijklmnopqrstuvwxyz0123456789' has 36"
                                + " characters, more than 32");
        try (TiDBTables tables = new TiDBTables(cluster)) {
            assertThat(tables.rows("shop", "orders", cluster.currentTs()))
                    .as("nothing of the failed epoch")
                    .noneMatch(r -> ((Number) r[0]).longValue() >= 100);
        }
        assertThat(took).as("no restarts (100 take 100 s)").isLessThan(Duration.ofSeconds(60));
        String job = null;
        for (JsonNode j : FLINK.get("/jobs/overview").path("jobs")) {
            if (j.path("name").asText().contains("orders_in")) {
                job = j.path("jid").asText();
                assertThat(j.path("state").asText()).isEqualTo("FAILED");
            }
        }
        assertThat(job).as("the INSERT's job").isNotNull();
        assertThat(numRestarts(job)).isZero();
    }

    /**
     * A detached job mirrors a TiDB table through the TiKV source (snapshot, then changes) and the
     * exactly-once sink while a writer keeps changing the table. Once checkpoints complete, a
     * TaskManager running the job's tasks is killed with SIGKILL: the job restarts from a
     * checkpoint on the other TaskManager and checkpoints again, and the mirror ends equal to the
     * table.
     */
    @Test
    void mirrorsATableThroughATaskManagerKill(MiniTiKVCluster cluster, @TempDir Path dir)
            throws Exception {
        try (TiSession session =
                TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()))) {
            RandomChanges changes =
                    new RandomChanges(
                            cluster, MetaReader.latest(session).table("shop", "live_orders"), 11);
            changes.apply(10); // what the snapshot reads
            String out =
                    SqlClient.remote(FLINK)
                            .run(
                                    dir,
                                    Shop.catalog(cluster)
                                            + "SET 'parallelism.default' = '2';\n"
                                            + "SET 'execution.checkpointing.interval' = '1s';\n"
                                            + "INSERT INTO mirror /*+ OPTIONS("
                                            + "'sink.delivery-guarantee' = 'exactly-once') */"
                                            + " SELECT id, item, qty, price FROM live_orders;\n");
            assertThat(out).doesNotContain("[ERROR]");
            Matcher m = JOB_ID.matcher(out);
            assertThat(m.find()).as("a job id in the client's output: %s", out).isTrue();
            String job = m.group(1);
            try {
                mirrorThroughAKill(cluster, session, changes, job);
            } finally {
                // Also after a failure: the job would hold the slots the next tests need.
                if (!Set.of("FAILED", "FINISHED").contains(state(job))) {
                    FLINK.cancel(job);
                    await("the job cancelled")
                            .atMost(Duration.ofMinutes(1))
                            .until(() -> "CANCELED".equals(state(job)));
                }
            }
        }
    }

    private static void mirrorThroughAKill(
            MiniTiKVCluster cluster, TiSession session, RandomChanges changes, String job)
            throws Exception {
        ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor();
        ScheduledFuture<?> writes =
                writer.scheduleWithFixedDelay(() -> changes.apply(1), 0, 50, TimeUnit.MILLISECONDS);
        try {
            long beforeKill = awaitCheckpoints(job, 2, writes);
            Set<String> hosts = taskManagersOf(job);
            assertThat(hosts).isNotEmpty();
            String victim = hosts.iterator().next();
            String survivor =
                    FlinkCluster.taskManager(0).equals(victim)
                            ? FlinkCluster.taskManager(1)
                            : FlinkCluster.taskManager(0);
            FLINK.kill(victim);

            await("the job restarted on " + survivor + " alone")
                    .atMost(Duration.ofMinutes(2))
                    .pollInterval(Duration.ofMillis(500))
                    .failFast("the job failed", () -> "FAILED".equals(state(job)))
                    .untilAsserted(
                            () -> {
                                assertThat(numRestarts(job)).isGreaterThanOrEqualTo(1);
                                assertThat(state(job)).isEqualTo("RUNNING");
                                assertThat(taskManagersOf(job)).containsExactly(survivor);
                            });
            // The REST API's checkpoint statistics trail the restore by a refresh.
            long restored =
                    await("the checkpoint the job restored from")
                            .atMost(Duration.ofSeconds(30))
                            .pollInterval(Duration.ofMillis(500))
                            .until(
                                    () ->
                                            FLINK.get("/jobs/" + job + "/checkpoints")
                                                    .path("latest")
                                                    .path("restored")
                                                    .path("id")
                                                    .asLong(),
                                    id -> id > 0);
            assertThat(restored)
                    .as("the checkpoint the job restored from")
                    .isGreaterThanOrEqualTo(beforeKill);
            awaitCheckpoints(job, restored + 2, writes);
            if (writes.isDone()) {
                writes.get(); // the writer's failure
            }
        } finally {
            writes.cancel(false);
            writer.shutdown();
            assertThat(writer.awaitTermination(1, TimeUnit.MINUTES)).isTrue();
        }
        await("the mirror equal to the table")
                .atMost(Duration.ofMinutes(2))
                .pollInterval(Duration.ofMillis(500))
                .failFast("the job failed", () -> "FAILED".equals(state(job)))
                .untilAsserted(
                        () ->
                                TableContents.assertSameRows(
                                        cluster, session, "shop", "live_orders", "mirror"));
    }

    /**
     * Waits for checkpoint {@code id} (or a later one) to complete; returns the latest completed
     * checkpoint's id. Fails early if the writer failed.
     */
    private static long awaitCheckpoints(String job, long id, ScheduledFuture<?> writes) {
        return await("checkpoint " + id + " of job " + job)
                .atMost(Duration.ofMinutes(2))
                .pollInterval(Duration.ofMillis(500))
                .failFast("the writer stopped", writes::isDone)
                .failFast("the job failed", () -> "FAILED".equals(state(job)))
                .until(
                        () ->
                                FLINK.get("/jobs/" + job + "/checkpoints")
                                        .path("latest")
                                        .path("completed")
                                        .path("id")
                                        .asLong(),
                        latest -> latest >= id);
    }

    private static String state(String job) throws Exception {
        return FLINK.get("/jobs/" + job).path("state").asText();
    }

    private static long numRestarts(String job) throws Exception {
        JsonNode metrics = FLINK.get("/jobs/" + job + "/metrics?get=numRestarts");
        return metrics.size() == 0 ? 0 : metrics.get(0).path("value").asLong();
    }

    /** The TaskManagers running tasks of the job. */
    private static Set<String> taskManagersOf(String job) throws Exception {
        Set<String> out = new HashSet<>();
        for (JsonNode vertex : FLINK.get("/jobs/" + job).path("vertices")) {
            JsonNode tms =
                    FLINK.get(
                                    "/jobs/"
                                            + job
                                            + "/vertices/"
                                            + vertex.path("id").asText()
                                            + "/taskmanagers")
                            .path("taskmanagers");
            for (JsonNode tm : tms) {
                if ("RUNNING".equals(tm.path("status").asText())) {
                    out.add(tm.path("taskmanager-id").asText());
                }
            }
        }
        return out;
    }
}
