package io.tiflink.e2e;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.tidb.meta.MetaReader;
import io.tiflink.tidb.schema.SchemaFile;
import io.tiflink.tidb.standalone.MiniClusterRows;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** Scripts for the real Flink SQL client over TiDB tables in a minicluster. */
class SqlClientTest {
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
                                    + " item VARCHAR(32) NOT NULL, qty INT, price DECIMAL(10,2));"),
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
}
