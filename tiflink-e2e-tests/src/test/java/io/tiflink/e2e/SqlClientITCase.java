package io.tiflink.e2e;

import io.tiflink.connector.testutils.Checkpoints;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.tidb.MiniClusterRows;
import io.tiflink.tidb.meta.MetaReader;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.schema.SchemaFile;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;

import static java.util.concurrent.TimeUnit.MINUTES;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Scripts for the real Flink SQL client over TiDB tables in a minicluster. */
class SqlClientITCase {
    @RegisterExtension static final MiniTiKVExtension TIKV = new MiniTiKVExtension();

    @BeforeAll
    static void shop(MiniTiKVCluster cluster) throws Exception {
        try (TiSession session =
                TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()))) {
            SchemaFile.apply(
                    SchemaFile.parse(
                            "shop.sql",
                            "CREATE DATABASE shop; USE shop;"
                                    + " CREATE TABLE orders (id BIGINT PRIMARY KEY,"
                                    + " item VARCHAR(32) NOT NULL, qty INT, price DECIMAL(10,2),"
                                    + " KEY by_item (item));"
                                    + " CREATE TABLE archive (id BIGINT PRIMARY KEY,"
                                    + " item VARCHAR(32) NOT NULL, qty INT, price DECIMAL(10,2));"
                                    + " CREATE TABLE live_orders (id BIGINT PRIMARY KEY,"
                                    + " item VARCHAR(32) NOT NULL, qty INT, price DECIMAL(10,2));"
                                    + " CREATE TABLE mirror (id BIGINT PRIMARY KEY,"
                                    + " item VARCHAR(32) NOT NULL, qty INT, price DECIMAL(10,2),"
                                    + " KEY by_item (item));"),
                    session);
            MiniClusterRows.Txn txn =
                    new MiniClusterRows(cluster)
                            .txn(MetaReader.latest(session).table("shop", "orders"));
            for (long i = 1; i <= 5; i++) {
                txn.insert(i, "item" + i, i, new BigDecimal(i + ".25"));
            }
            txn.commit();
        }
    }

    private static String catalog(MiniTiKVCluster cluster) {
        return "SET 'sql-client.execution.result-mode' = 'tableau';\n"
                + "CREATE CATALOG tidb WITH ('type' = 'tidb', 'pd-addresses' = '"
                + cluster.pdAddress()
                + "', 'default-database' = 'shop');\n"
                + "USE CATALOG tidb;\n";
    }

    @Test
    void showsAndDescribesTheCatalog(MiniTiKVCluster cluster, @TempDir Path dir) throws Exception {
        String out =
                SqlClient.run(
                        dir,
                        catalog(cluster) + "SHOW DATABASES;\nSHOW TABLES;\nDESCRIBE orders;\n");
        assertThat(out).doesNotContain("[ERROR]");
        assertThat(out).containsPattern("\\|\\s+shop\\s+\\|");
        assertThat(out)
                .containsPattern("\\|\\s+archive\\s+\\|")
                .containsPattern("\\|\\s+orders\\s+\\|");
        assertThat(out).containsPattern("\\|\\s+id \\|\\s+BIGINT \\|\\s+FALSE \\|\\s+PRI\\(id\\)");
        assertThat(out).containsPattern("\\|\\s+price \\|\\s+DECIMAL\\(10, 2\\) \\|\\s+TRUE");
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
                SqlClient.run(
                        dir,
                        catalog(cluster)
                                + "SET 'execution.checkpointing.interval' = '500ms';\n"
                                + "SET 'table.dml-sync' = 'true';\n"
                                + "INSERT INTO archive SELECT id, item, qty * 10, price FROM orders"
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
                catalog(cluster)
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
            RandomChanges changes = new RandomChanges(cluster, session, 7);
            changes.apply(10); // what the snapshot reads
            Process first = SqlClient.start(dir, "first", settings + insert);
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
                    SqlClient.start(
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
        MiniClusterRows rows = new MiniClusterRows(cluster);
        await().atMost(2, MINUTES)
                .pollInterval(Duration.ofMillis(200))
                .failFast(
                        "the SQL client failed",
                        () -> SqlClient.output(dir, client).contains("[ERROR]"))
                .untilAsserted(
                        () -> {
                            MetaReader meta = MetaReader.latest(session);
                            long ts = cluster.currentTs();
                            assertThat(rowStrings(rows, meta.table("shop", "mirror"), ts))
                                    .isEqualTo(
                                            rowStrings(
                                                    rows, meta.table("shop", "live_orders"), ts));
                        });
    }

    private static List<String> rowStrings(MiniClusterRows rows, TableInfo table, long ts) {
        return rows.rows(table, ts).stream()
                .map(Arrays::toString)
                .sorted()
                .collect(Collectors.toList());
    }

    /** Random inserts, updates and deletes of {@code shop.live_orders}, a transaction each. */
    private static final class RandomChanges {
        private final MiniClusterRows rows;
        private final TableInfo table;
        private final Random random;
        private final Map<Long, Object[]> current = new HashMap<>();

        RandomChanges(MiniTiKVCluster cluster, TiSession session, long seed) {
            this.rows = new MiniClusterRows(cluster);
            this.table = MetaReader.latest(session).table("shop", "live_orders");
            this.random = new Random(seed);
        }

        void apply(int n) {
            for (int i = 0; i < n; i++) {
                long id = 1 + random.nextInt(15);
                Object[] before = current.get(id);
                Object[] after = {
                    id,
                    "item" + random.nextInt(100),
                    (long) random.nextInt(50),
                    BigDecimal.valueOf(random.nextInt(10_000), 2)
                };
                MiniClusterRows.Txn txn = rows.txn(table);
                if (before == null) {
                    txn.insert(after);
                    current.put(id, after);
                } else if (random.nextInt(3) == 0) {
                    txn.delete(before);
                    current.remove(id);
                } else {
                    txn.update(before, after);
                    current.put(id, after);
                }
                txn.commit();
            }
        }
    }
}
