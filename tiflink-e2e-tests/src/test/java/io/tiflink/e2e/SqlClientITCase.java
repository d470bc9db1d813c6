package io.tiflink.e2e;

import io.tiflink.connector.testutils.Checkpoints;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.tidb.meta.MetaReader;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;

import static java.util.concurrent.TimeUnit.MINUTES;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Scripts for the real Flink SQL client over TiDB tables in a minicluster. */
class SqlClientITCase {
    @RegisterExtension static final MiniTiKVExtension TIKV = new MiniTiKVExtension();

    @BeforeAll
    static void shop(MiniTiKVCluster cluster) {
        Shop.create(cluster);
    }

    @Test
    void showsAndDescribesTheCatalog(MiniTiKVCluster cluster, @TempDir Path dir) throws Exception {
        Shop.assertBrowsed(SqlClient.local().run(dir, Shop.catalog(cluster) + Shop.BROWSE));
    }

    /**
     * A job from the SQL client reads one TiDB table through the TiKV source and writes another
     * through the exactly-once sink; a second query reads the result back.
     */
    @Test
    void copiesATableThroughTheSourceAndTheSink(MiniTiKVCluster cluster, @TempDir Path dir)
            throws Exception {
        String snapshot = " /*+ OPTIONS('scan.startup.mode' = 'snapshot') */";
        String out =
                SqlClient.local()
                        .run(
                                dir,
                                Shop.catalog(cluster)
                                        + "SET 'execution.checkpointing.interval' = '500ms';\n"
                                        + "SET 'table.dml-sync' = 'true';\n"
                                        + "INSERT INTO archive"
                                        + " SELECT id, item, qty * 10, price FROM orders"
                                        + snapshot
                                        + " WHERE id > 1;\n"
                                        + "SELECT id, item, qty, price FROM archive"
                                        + snapshot
                                        + ";\n");
        assertThat(out).doesNotContain("[ERROR]");
        List<String> rows =
                out.lines()
                        .filter(l -> l.matches("\\|\\s+\\+I \\|.*"))
                        .map(l -> l.replaceAll("\\s+", " "))
                        .sorted(Comparator.naturalOrder())
                        .collect(Collectors.toList());
        assertThat(rows)
                .containsExactly(
                        "| +I | 2 | item2 | 20 | 2.25 |",
                        "| +I | 3 | item3 | 30 | 3.25 |",
                        "| +I | 4 | item4 | 40 | 4.25 |",
                        "| +I | 5 | item5 | 50 | 5.25 |");
    }

    /** A Flink column narrower than its TiDB column is refused when the query is planned. */
    @Test
    void showsANarrowerColumnRefusedAtPlanning(MiniTiKVCluster cluster, @TempDir Path dir)
            throws Exception {
        String out =
                SqlClient.local()
                        .run(
                                dir,
                                "CREATE TABLE narrow (id BIGINT, price DECIMAL(5, 1)) WITH ("
                                        + "'connector' = 'tikv', 'pd-addresses' = '"
                                        + cluster.pdAddress()
                                        + "', 'database-name' = 'shop',"
                                        + " 'table-name' = 'orders');\n"
                                        + "SELECT * FROM narrow;\n");
        assertThat(out)
                .contains("[ERROR]")
                .contains(
                        "column 'price' of TiDB table shop.orders is decimal(10,2), which Flink"
                                + " type DECIMAL(5, 1) cannot hold: declare it DECIMAL(10, 2) or"
                                + " wider");
    }

    /**
     * The streaming job from the SQL client: a TiDB table mirrored into another through the TiKV
     * source (snapshot, then changes) and the exactly-once sink while the table keeps changing. The
     * first client is killed mid-flight, changes go on while no job runs, and a second client
     * restores the job from the first one's last retained checkpoint: the mirror ends equal to the
     * table.
     */
    @Test
    void mirrorsATableThroughAKillAndARestoreFromACheckpoint(
            MiniTiKVCluster cluster, @TempDir Path dir) throws Exception {
        Path checkpoints = dir.resolve("checkpoints");
        String settings =
                Shop.catalog(cluster)
                        + "SET 'execution.checkpointing.interval' = '300ms';\n"
                        + "SET 'execution.checkpointing.dir' = '"
                        + checkpoints.toUri()
                        + "';\n"
                        + "SET 'execution.checkpointing.externalized-checkpoint-retention'"
                        + " = 'RETAIN_ON_CANCELLATION';\n"
                        + "SET 'restart-strategy.type' = 'none';\n"
                        + "SET 'table.dml-sync' = 'true';\n";
        String insert = "INSERT INTO mirror SELECT id, item, qty, price FROM live_orders;\n";
        try (TiSession session =
                TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()))) {
            RandomChanges changes =
                    new RandomChanges(
                            cluster, MetaReader.latest(session).table("shop", "live_orders"), 7);
            changes.apply(10); // what the snapshot reads
            Process first = SqlClient.local().start(dir, "first", settings + insert);
            try {
                changes.apply(20);
                awaitMirror(cluster, session, dir, "first");
                await().atMost(2, MINUTES).until(() -> Checkpoints.latest(checkpoints) != null);
                changes.apply(20);
            } finally {
                first.destroyForcibly().waitFor();
            }
            changes.apply(20); // while no job runs
            Path restoreFrom = Checkpoints.latest(checkpoints);
            Process second =
                    SqlClient.local()
                            .start(
                                    dir,
                                    "second",
                                    settings
                                            + "SET 'execution.state-recovery.path' = '"
                                            + restoreFrom
                                            + "';\n"
                                            + insert);
            try {
                changes.apply(20);
                awaitMirror(cluster, session, dir, "second");
            } finally {
                second.destroyForcibly().waitFor();
            }
        }
    }

    private static void awaitMirror(
            MiniTiKVCluster cluster, TiSession session, Path dir, String client) {
        await().atMost(2, MINUTES)
                .pollInterval(Duration.ofMillis(200))
                .failFast(
                        "the SQL client failed",
                        () -> SqlClient.output(dir, client).contains("[ERROR]"))
                .untilAsserted(
                        () ->
                                TableContents.assertSameRows(
                                        cluster, session, "shop", "live_orders", "mirror"));
    }
}
