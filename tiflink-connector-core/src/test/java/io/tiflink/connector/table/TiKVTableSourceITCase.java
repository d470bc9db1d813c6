package io.tiflink.connector.table;

import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.tidb.MiniClusterRows;

import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.ExplainDetail;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code 'connector' = 'tikv'} from Flink SQL. */
class TiKVTableSourceITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(3).cdcResolvedTsInterval(Duration.ofMillis(50)));

    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(2);

    private static TiDBTables tables;

    @BeforeAll
    static void schema(MiniTiKVCluster cluster) {
        tables = new TiDBTables(cluster);
        tables.ddl(
                "CREATE DATABASE sqldb; USE sqldb;"
                        + " CREATE TABLE products (id BIGINT PRIMARY KEY, name VARCHAR(32) NOT NULL,"
                        + " price DECIMAL(10,2), stock INT);"
                        + " CREATE TABLE widths (id BIGINT PRIMARY KEY, amount DECIMAL(12,2),"
                        + " code VARCHAR(64), ts DATETIME(6), u INT UNSIGNED, y YEAR, b BOOL);");
        MiniClusterRows.Txn load = tables.txn("sqldb", "products");
        for (long i = 1; i <= 6; i++) {
            load.insert(i, "p" + i, new BigDecimal(i + ".50"), i * 10);
        }
        load.commit();
        tables.txn("sqldb", "widths")
                .insert(
                        Long.MAX_VALUE,
                        new BigDecimal("9999999999.99"),
                        "x".repeat(64),
                        LocalDateTime.of(2024, 1, 2, 3, 4, 5, 123456000),
                        4294967295L,
                        2155L,
                        1L)
                .commit();
    }

    @AfterAll
    static void close() throws Exception {
        tables.close();
    }

    private static TableEnvironment sql(MiniTiKVCluster cluster, String mode, String extraColumns) {
        return sql(cluster, mode, extraColumns, "");
    }

    private static TableEnvironment sql(
            MiniTiKVCluster cluster, String mode, String extraColumns, String extraOptions) {
        TableEnvironment env = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        env.getConfig().set("execution.checkpointing.interval", "200ms");
        env.getConfig().set("parallelism.default", "1");
        env.executeSql(
                "CREATE TABLE products ("
                        + " id BIGINT, name STRING, price DECIMAL(10, 2), stock INT,"
                        + extraColumns
                        + " PRIMARY KEY (id) NOT ENFORCED"
                        + ") WITH ("
                        + " 'connector' = 'tikv',"
                        + " 'pd-addresses' = '"
                        + cluster.pdAddress()
                        + "',"
                        + " 'database-name' = 'sqldb',"
                        + " 'table-name' = 'products',"
                        + " 'scan.startup.mode' = '"
                        + mode
                        + "'"
                        + extraOptions
                        + ")");
        return env;
    }

    private static List<String> collect(CloseableIterator<Row> it, int n) {
        List<String> out = new ArrayList<>();
        while (out.size() < n && it.hasNext()) {
            out.add(it.next().toString());
        }
        return out;
    }

    @Test
    void readsASnapshotWithProjectionMetadataAndKeyFilters(MiniTiKVCluster cluster)
            throws Exception {
        TableEnvironment env =
                sql(
                        cluster,
                        "snapshot",
                        " db STRING METADATA FROM 'database_name' VIRTUAL,"
                                + " tbl STRING METADATA FROM 'table_name' VIRTUAL,");
        List<String> rows = new ArrayList<>();
        try (CloseableIterator<Row> it =
                env.executeSql(
                                "SELECT name, stock, db, tbl FROM products"
                                        + " WHERE id >= 2 AND id < 5 AND stock > 20")
                        .collect()) {
            it.forEachRemaining(r -> rows.add(r.toString()));
        }
        assertThat(rows)
                .containsExactlyInAnyOrder(
                        "+I[p3, 30, sqldb, products]", "+I[p4, 40, sqldb, products]");
    }

    @Test
    void streamsAChangelogWithRowsBeforeUpdates(MiniTiKVCluster cluster) throws Exception {
        TableEnvironment env = sql(cluster, "initial", "");
        try (CloseableIterator<Row> it =
                env.executeSql("SELECT id, name, stock FROM products WHERE id = 1").collect()) {
            assertThat(collect(it, 1)).containsExactly("+I[1, p1, 10]");
            tables.txn("sqldb", "products")
                    .update(
                            new Object[] {1L, "p1", new BigDecimal("1.50"), 10L},
                            new Object[] {1L, "p1", new BigDecimal("1.50"), 9L})
                    .commit();
            tables.txn("sqldb", "products").delete(1L, "p1", new BigDecimal("1.50"), 9L).commit();
            assertThat(collect(it, 3))
                    .containsExactly("-U[1, p1, 10]", "+U[1, p1, 9]", "-D[1, p1, 9]");
        }
    }

    @Test
    void withConsistentSnapshotsChangesGoThroughTheCutOperator(MiniTiKVCluster cluster)
            throws Exception {
        TableEnvironment env = sql(cluster, "initial", "", ", 'consistency' = 'snapshot'");
        String query = "SELECT id, stock FROM products WHERE id = 2";
        // The source as TiKVSource#stream adds it (the planner names the last operator, the cut
        // operator, after the table).
        assertThat(env.explainSql(query, ExplainDetail.JSON_EXECUTION_PLAN))
                .contains("\"type\" : \"Source: TiKV\"");
        try (CloseableIterator<Row> it = env.executeSql(query).collect()) {
            assertThat(collect(it, 1)).containsExactly("+I[2, 20]");
            tables.txn("sqldb", "products")
                    .update(
                            new Object[] {2L, "p2", new BigDecimal("2.50"), 20L},
                            new Object[] {2L, "p2", new BigDecimal("2.50"), 19L})
                    .commit();
            assertThat(collect(it, 2)).containsExactly("-U[2, 20]", "+U[2, 19]");
        }
    }

    @Test
    void aColumnOfAnotherTypeIsRefusedAtPlanning(MiniTiKVCluster cluster) {
        assertThatThrownBy(() -> widths(cluster, "products", "id BIGINT, name INT"))
                .rootCause()
                .hasMessage(
                        "column 'name' of TiDB table sqldb.products has type varchar(32), which"
                                + " does not convert to or from Flink type INT");
        assertThatThrownBy(() -> widths(cluster, "products", "id BIGINT, colour STRING"))
                .rootCause()
                .hasMessage(
                        "column 'colour' does not exist in TiDB table sqldb.products; it has id,"
                                + " name, price, stock");
    }

    @Test
    void aNarrowerColumnIsRefusedAtPlanningNamingBothTypes(MiniTiKVCluster cluster) {
        String[][] cases = {
            {"id INT", "id' of TiDB table sqldb.widths is bigint, which Flink type INT", "BIGINT"},
            {
                "amount DECIMAL(5, 1)",
                "amount' of TiDB table sqldb.widths is decimal(12,2), which Flink type"
                        + " DECIMAL(5, 1)",
                "DECIMAL(12, 2)"
            },
            {
                "amount DECIMAL(20, 1)",
                "amount' of TiDB table sqldb.widths is decimal(12,2), which Flink type"
                        + " DECIMAL(20, 1)",
                "DECIMAL(12, 2)"
            },
            {
                "code VARCHAR(2)",
                "code' of TiDB table sqldb.widths is varchar(64), which Flink type VARCHAR(2)",
                "VARCHAR(64)"
            },
            {
                "ts TIMESTAMP(0)",
                "ts' of TiDB table sqldb.widths is datetime(6), which Flink type TIMESTAMP(0)",
                "TIMESTAMP(6)"
            },
            {
                "u INT",
                "u' of TiDB table sqldb.widths is int unsigned, which Flink type INT",
                "BIGINT"
            },
            {
                "u DECIMAL(9, 0)",
                "u' of TiDB table sqldb.widths is int unsigned, which Flink type DECIMAL(9, 0)",
                "BIGINT"
            },
            {"y TINYINT", "y' of TiDB table sqldb.widths is year, which Flink type TINYINT", "INT"},
            {
                "amount STRING NOT NULL, code CHAR(63)",
                "code' of TiDB table sqldb.widths is varchar(64), which Flink type CHAR(63)",
                "VARCHAR(64)"
            },
        };
        for (String[] c : cases) {
            assertThatThrownBy(() -> widths(cluster, "widths", c[0]))
                    .as(c[0])
                    .rootCause()
                    .hasMessage(
                            "column '" + c[1] + " cannot hold: declare it " + c[2] + " or wider");
        }
    }

    @Test
    void theSameOrWiderTypesAreRead(MiniTiKVCluster cluster) throws Exception {
        assertThat(
                        read(
                                widths(
                                        cluster,
                                        "widths",
                                        "id BIGINT, amount DECIMAL(12, 2), code VARCHAR(64),"
                                                + " ts TIMESTAMP(6), u BIGINT, y INT, b BOOLEAN")))
                .containsExactly(
                        "+I[9223372036854775807, 9999999999.99, "
                                + "x".repeat(64)
                                + ", 2024-01-02T03:04:05.123456, 4294967295, 2155, true]");
        assertThat(
                        read(
                                widths(
                                        cluster,
                                        "widths",
                                        "id DECIMAL(19, 0), amount DECIMAL(30, 4), code STRING,"
                                                + " ts TIMESTAMP(9), u DECIMAL(10, 0),"
                                                + " y SMALLINT")))
                .containsExactly(
                        "+I[9223372036854775807, 9999999999.9900, "
                                + "x".repeat(64)
                                + ", 2024-01-02T03:04:05.123456, 4294967295, 2155]");
    }

    /** A snapshot read of {@code tidbTable} as a Flink table of {@code columns}. */
    private static TableResult widths(MiniTiKVCluster cluster, String tidbTable, String columns) {
        TableEnvironment env = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        env.executeSql(
                "CREATE TABLE t ("
                        + columns
                        + ") WITH ('connector' = 'tikv', 'pd-addresses' = '"
                        + cluster.pdAddress()
                        + "', 'database-name' = 'sqldb', 'table-name' = '"
                        + tidbTable
                        + "', 'scan.startup.mode' = 'snapshot')");
        return env.executeSql("SELECT * FROM t");
    }

    private static List<String> read(TableResult result) throws Exception {
        List<String> rows = new ArrayList<>();
        try (CloseableIterator<Row> it = result.collect()) {
            it.forEachRemaining(r -> rows.add(r.toString()));
        }
        return rows;
    }

    @Test
    void optionErrorsNameTheOptionAndValue(MiniTiKVCluster cluster) {
        TableEnvironment env = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        String with =
                " WITH ('connector' = 'tikv', 'pd-addresses' = '"
                        + cluster.pdAddress()
                        + "', 'database-name' = 'sqldb', 'table-name' = 'products'";
        env.executeSql("CREATE TABLE nokey (id BIGINT)" + with + ", 'changelog-mode' = 'upsert')");
        assertThatThrownBy(() -> env.executeSql("SELECT * FROM nokey"))
                .rootCause()
                .hasMessageContaining("'changelog-mode' = 'upsert' needs a PRIMARY KEY");
        env.executeSql("CREATE TABLE m1 (id BIGINT)" + with + ", 'scan.startup.mode' = 'never')");
        assertThatThrownBy(() -> env.executeSql("SELECT * FROM m1"))
                .rootCause()
                .hasMessageContaining(
                        "option 'scan.startup.mode' has 'never'; expected initial, latest-offset,"
                                + " timestamp or snapshot");
        env.executeSql("CREATE TABLE m2 (id BIGINT)" + with + ", 'changelog-mode' = 'some')");
        assertThatThrownBy(() -> env.executeSql("SELECT * FROM m2"))
                .rootCause()
                .hasMessageContaining("option 'changelog-mode' has 'some'; expected all or upsert");
        env.executeSql(
                "CREATE TABLE m4 (id BIGINT)" + with + ", 'scan.cdc.skip-txn-sources' = '1;16')");
        assertThatThrownBy(() -> env.executeSql("SELECT * FROM m4"))
                .rootCause()
                .hasMessageContaining(
                        "option 'scan.cdc.skip-txn-sources' takes marks between 1 and 15");
        // Values are matched case-insensitively, as Flink parses enum options.
        env.executeSql(
                "CREATE TABLE m3 (id BIGINT)"
                        + with
                        + ", 'scan.startup.mode' = 'LATEST-OFFSET', 'changelog-mode' = 'All')");
        assertThat(env.explainSql("SELECT * FROM m3", ExplainDetail.CHANGELOG_MODE))
                .contains("changelogMode=[I,UB,UA,D]");
    }
}
