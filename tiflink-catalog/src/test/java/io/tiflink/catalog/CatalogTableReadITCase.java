package io.tiflink.catalog;

import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;

import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Tables from the catalog read with the tikv connector, without repeating any option. */
class CatalogTableReadITCase {
    @RegisterExtension static final MiniTiKVExtension TIKV = new MiniTiKVExtension();

    private static List<String> rows(TableEnvironment env, String query) throws Exception {
        List<String> out = new ArrayList<>();
        try (CloseableIterator<Row> it = env.executeSql(query).collect()) {
            it.forEachRemaining(r -> out.add(r.toString()));
        }
        return out;
    }

    @Test
    void readsClusteredAndPartitionedTables(MiniTiKVCluster cluster) throws Exception {
        try (TiDBTables tables = new TiDBTables(cluster)) {
            tables.ddl(
                    "CREATE DATABASE cat; USE cat;"
                            + " CREATE TABLE visits (site VARCHAR(16), day DATE, hits INT,"
                            + " PRIMARY KEY (site, day));"
                            + " CREATE TABLE logs (id BIGINT PRIMARY KEY, msg VARCHAR(32))"
                            + " PARTITION BY HASH (id) PARTITIONS 3;");
            tables.txn("cat", "visits")
                    .insert("a", LocalDate.of(2026, 1, 1), 5L)
                    .insert("b", LocalDate.of(2026, 1, 2), 7L)
                    .commit();
            tables.txn("cat", "logs")
                    .insert(1L, "one")
                    .insert(2L, "two")
                    .insert(3L, "three")
                    .commit();
        }
        TableEnvironment env = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        env.executeSql(
                "CREATE CATALOG tidb WITH ('type' = 'tidb', 'pd-addresses' = '"
                        + cluster.pdAddress()
                        + "')");
        env.executeSql("USE CATALOG tidb");
        String bounded = " /*+ OPTIONS('scan.startup.mode' = 'snapshot') */";
        assertThat(rows(env, "SELECT site, `day`, hits FROM cat.visits" + bounded))
                .containsExactlyInAnyOrder("+I[a, 2026-01-01, 5]", "+I[b, 2026-01-02, 7]");
        assertThat(rows(env, "SELECT id, msg FROM cat.logs" + bounded))
                .containsExactlyInAnyOrder("+I[1, one]", "+I[2, two]", "+I[3, three]");
    }

    @Test
    void looksUpCatalogTablesWithoutOptions(MiniTiKVCluster cluster) throws Exception {
        try (TiDBTables tables = new TiDBTables(cluster)) {
            tables.ddl(
                    "CREATE DATABASE look; USE look;"
                            + " CREATE TABLE names (id BIGINT PRIMARY KEY, name VARCHAR(16))"
                            + " PARTITION BY HASH (id) PARTITIONS 3;"
                            + " CREATE TABLE probes (k BIGINT PRIMARY KEY);");
            tables.txn("look", "names")
                    .insert(1L, "one")
                    .insert(2L, "two")
                    .insert(3L, "three")
                    .commit();
            tables.txn("look", "probes").insert(1L).insert(3L).insert(7L).commit();
        }
        TableEnvironment env = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        env.executeSql(
                "CREATE CATALOG tidb WITH ('type' = 'tidb', 'pd-addresses' = '"
                        + cluster.pdAddress()
                        + "')");
        // As docs/lookup.md and the README write it: a processing time added by a view.
        env.executeSql(
                "CREATE TEMPORARY VIEW probes_now AS SELECT *, PROCTIME() AS pt FROM"
                        + " tidb.look.probes /*+ OPTIONS('scan.startup.mode' = 'snapshot') */");
        // Each key is looked for in every partition.
        assertThat(
                        rows(
                                env,
                                "SELECT p.k, n.name FROM probes_now AS p LEFT JOIN"
                                        + " tidb.look.names FOR SYSTEM_TIME AS OF p.pt AS n"
                                        + " ON p.k = n.id"))
                .containsExactlyInAnyOrder("+I[1, one]", "+I[3, three]", "+I[7, null]");
    }
}
