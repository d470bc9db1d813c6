package io.tiflink.catalog;

import io.tiflink.connector.testutils.Failures;
import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code INSERT INTO} a catalog table with a column list: the columns it leaves out get their TiDB
 * {@code DEFAULT} in a new row and keep their stored value in an existing one.
 */
@Timeout(120)
class CatalogTableWriteITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(1));

    private static TiDBTables tables;
    private static TableEnvironment env;

    @BeforeAll
    static void start(MiniTiKVCluster cluster) {
        tables = new TiDBTables(cluster);
        tables.ddl(
                "CREATE DATABASE cw; USE cw;"
                        + " CREATE TABLE customers (id BIGINT PRIMARY KEY,"
                        + "   email VARCHAR(64) NOT NULL, code VARCHAR(8) DEFAULT 'none',"
                        + "   created DATETIME DEFAULT CURRENT_TIMESTAMP, note VARCHAR(16),"
                        + "   status VARCHAR(8) NOT NULL DEFAULT 'new');"
                        + " CREATE TABLE strict (id BIGINT PRIMARY KEY,"
                        + "   email VARCHAR(64) NOT NULL, code VARCHAR(8));");
        Configuration conf = new Configuration();
        conf.setString("execution.checkpointing.interval", "100ms");
        conf.setString("restart-strategy.type", "none");
        conf.setString("table.exec.sink.require-on-conflict", "false"); // Flink 2.3, VALUES
        env =
                TableEnvironment.create(
                        EnvironmentSettings.newInstance()
                                .inStreamingMode()
                                .withConfiguration(conf)
                                .build());
        env.executeSql(
                "CREATE CATALOG tidb WITH ('type' = 'tidb', 'pd-addresses' = '"
                        + cluster.pdAddress()
                        + "', 'default-database' = 'cw')");
        env.executeSql("USE CATALOG tidb");
    }

    @AfterAll
    static void stop() throws Exception {
        tables.close();
    }

    /** The rows of cw.customers by id. */
    private static Map<Long, Object[]> rows(MiniTiKVCluster cluster) {
        Map<Long, Object[]> out = new TreeMap<>();
        for (Object[] r : tables.rows("cw", "customers", cluster.currentTs())) {
            out.put(((Number) r[0]).longValue(), r);
        }
        return out;
    }

    @Test
    void unlistedColumnsGetTheirDefaultsOrKeepTheirValues(MiniTiKVCluster cluster)
            throws Exception {
        LocalDateTime before = LocalDateTime.now(ZoneOffset.UTC).withNano(0);
        env.executeSql("INSERT INTO tidb.cw.customers (id, email) VALUES (1, 'a@x'), (2, 'b@x')")
                .await();
        env.executeSql(
                        "INSERT INTO tidb.cw.customers (id, email, code, note)"
                                + " VALUES (3, 'c@x', CAST(NULL AS STRING), 'given')")
                .await();
        Map<Long, Object[]> rows = rows(cluster);
        assertThat(rows).containsOnlyKeys(1L, 2L, 3L);
        for (long id : new long[] {1, 2}) {
            Object[] r = rows.get(id);
            assertThat(Arrays.asList(r).subList(0, 3))
                    .as("row %s", id)
                    .containsExactly(id, id == 1 ? "a@x" : "b@x", "none");
            assertThat((LocalDateTime) r[3])
                    .as("created: CURRENT_TIMESTAMP, in UTC")
                    .isAfterOrEqualTo(before)
                    .isBefore(before.plusMinutes(2));
            assertThat(r[4]).as("note: no DEFAULT, NULL").isNull();
            assertThat(r[5]).as("status: NOT NULL DEFAULT 'new'").isEqualTo("new");
        }
        assertThat(rows.get(3L)[2]).as("an explicit NULL stays NULL").isNull();
        assertThat(rows.get(3L)[4]).isEqualTo("given");

        // An existing key: the listed columns change, the others keep their stored values.
        Object created = rows.get(3L)[3];
        env.executeSql("INSERT INTO tidb.cw.customers (id, email) VALUES (3, 'c2@x')").await();
        Object[] updated = rows(cluster).get(3L);
        assertThat(Arrays.asList(updated))
                .containsExactly(3L, "c2@x", null, created, "given", "new");
    }

    /**
     * A NOT NULL column with a DEFAULT is nullable in Flink, so that a column list may leave it
     * out; an explicit NULL for it fails the job, as in TiDB.
     */
    @Test
    void anExplicitNullForANotNullColumnWithADefaultFails() {
        assertThatThrownBy(
                        () ->
                                env.executeSql(
                                                "INSERT INTO tidb.cw.customers (id, email, status)"
                                                        + " VALUES (9, 'z@x', CAST(NULL AS STRING))")
                                        .await())
                .satisfies(
                        e ->
                                assertThat(Failures.messages(e))
                                        .contains(
                                                "(id=9, email='z@x', status=NULL): column 'status'"
                                                        + " of TiDB table cw.customers is NOT"
                                                        + " NULL"));
    }

    @Test
    void anUnlistedNotNullColumnWithoutDefaultIsRefused() {
        assertThatThrownBy(
                        () ->
                                env.executeSql(
                                                "INSERT INTO tidb.cw.strict (id, code) VALUES (1, 'x')")
                                        .await())
                .satisfies(
                        e ->
                                assertThat(Failures.messages(e))
                                        .contains(
                                                "Column 'email' has no default value and does not allow NULLs"));
    }
}
