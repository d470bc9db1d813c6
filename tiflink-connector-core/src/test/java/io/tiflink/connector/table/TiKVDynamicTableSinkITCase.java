package io.tiflink.connector.table;

import io.tiflink.connector.TiKVOptions;
import io.tiflink.connector.sink.TiKVSink;
import io.tiflink.connector.testutils.Failures;
import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.tidb.write.RowWrite;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;
import org.apache.flink.types.RowKind;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code INSERT INTO} a {@code 'connector' = 'tikv'} table from Flink SQL. */
@Timeout(120)
class TiKVDynamicTableSinkITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(1));

    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(2);

    private static TiDBTables tables;
    private static String pd;

    @BeforeAll
    static void schema(MiniTiKVCluster cluster) {
        pd = cluster.pdAddress();
        tables = new TiDBTables(cluster);
        tables.ddl(
                "CREATE DATABASE shop; USE shop;"
                        + " CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(8) NOT NULL,"
                        + "   price DECIMAL(6, 2), stock INT DEFAULT 5, UNIQUE KEY uk_name (name));"
                        + " CREATE TABLE logs (msg VARCHAR(16), level INT, KEY k_level (level));"
                        + " CREATE TABLE batch_logs (msg VARCHAR(16), level INT);"
                        + " CREATE TABLE pricey (id BIGINT PRIMARY KEY, price DECIMAL(6, 2),"
                        + "   stock INT DEFAULT 5);");
    }

    @AfterAll
    static void close() throws Exception {
        tables.close();
    }

    private static StreamExecutionEnvironment env(int parallelism) {
        return FlinkClusters.noRestartEnv(parallelism, 100);
    }

    private static StreamTableEnvironment tableEnv(int parallelism) {
        return StreamTableEnvironment.create(env(parallelism));
    }

    private static String with(String table, String extra) {
        return " WITH ('connector' = 'tikv', 'pd-addresses' = '"
                + pd
                + "', 'database-name' = 'shop', 'table-name' = '"
                + table
                + "'"
                + extra
                + ")";
    }

    private static List<String> rows(MiniTiKVCluster cluster, String table) {
        List<String> out = new ArrayList<>();
        for (Object[] r : tables.rows("shop", table, cluster.currentTs())) {
            out.add(Arrays.toString(r));
        }
        return out;
    }

    @Test
    void upsertsAndDeletesByPrimaryKey(MiniTiKVCluster cluster) throws Exception {
        StreamExecutionEnvironment env = env(1);
        StreamTableEnvironment t = StreamTableEnvironment.create(env);
        t.executeSql(
                "CREATE TABLE items (id BIGINT, name STRING, price DECIMAL(6, 2),"
                        + " PRIMARY KEY (id) NOT ENFORCED)"
                        + with("items", ""));
        t.createTemporaryView(
                "changes",
                t.fromChangelogStream(
                        env.fromData(
                                        Row.ofKind(
                                                RowKind.INSERT,
                                                1L,
                                                "apple",
                                                new BigDecimal("1.50")),
                                        Row.ofKind(
                                                RowKind.INSERT, 2L, "pear", new BigDecimal("2.00")),
                                        Row.ofKind(
                                                RowKind.INSERT, 3L, "plum", new BigDecimal("3.00")),
                                        Row.ofKind(
                                                RowKind.UPDATE_AFTER,
                                                1L,
                                                "kiwi",
                                                new BigDecimal("1.75")),
                                        Row.ofKind(
                                                RowKind.DELETE, 2L, "pear", new BigDecimal("2.00")),
                                        // takes the name 'apple' that id 1 gave up
                                        Row.ofKind(
                                                RowKind.INSERT,
                                                4L,
                                                "apple",
                                                new BigDecimal("4.00")))
                                .returns(Types.ROW(Types.LONG, Types.STRING, Types.BIG_DEC)),
                        Schema.newBuilder()
                                .column("f0", "BIGINT NOT NULL")
                                .column("f1", "STRING")
                                .column("f2", "DECIMAL(6, 2)")
                                .primaryKey("f0")
                                .build()));
        t.executeSql("INSERT INTO items SELECT f0, f1, f2 FROM changes").await();
        // stock is not in the Flink table: new rows get its DEFAULT.
        assertThat(rows(cluster, "items"))
                .containsExactlyInAnyOrder(
                        "[1, kiwi, 1.75, 5]", "[3, plum, 3.00, 5]", "[4, apple, 4.00, 5]");
        long ts = cluster.currentTs();
        assertThat(tables.indexEntries("shop", "items", ts))
                .isEqualTo(tables.expectedIndexEntries("shop", "items", ts));
    }

    @Test
    void anUpdateAFilterTurnsIntoARetractionDeletesTheRow(MiniTiKVCluster cluster)
            throws Exception {
        StreamExecutionEnvironment env = env(1);
        StreamTableEnvironment t = StreamTableEnvironment.create(env);
        t.executeSql(
                "CREATE TABLE pricey (id BIGINT, price DECIMAL(6, 2), PRIMARY KEY (id) NOT"
                        + " ENFORCED)"
                        + with("pricey", ""));
        BigDecimal cheap = new BigDecimal("0.50");
        BigDecimal dear = new BigDecimal("9.00");
        t.createTemporaryView(
                "prices",
                t.fromChangelogStream(
                        env.fromData(
                                        Row.ofKind(RowKind.INSERT, 1L, dear),
                                        Row.ofKind(RowKind.INSERT, 2L, dear),
                                        // 1 gets cheap: the filter keeps only the -U
                                        Row.ofKind(RowKind.UPDATE_BEFORE, 1L, dear),
                                        Row.ofKind(RowKind.UPDATE_AFTER, 1L, cheap),
                                        // 2 stays dear: the +U replaces the row
                                        Row.ofKind(RowKind.UPDATE_BEFORE, 2L, dear),
                                        Row.ofKind(
                                                RowKind.UPDATE_AFTER, 2L, new BigDecimal("8.00")))
                                .returns(Types.ROW(Types.LONG, Types.BIG_DEC)),
                        Schema.newBuilder()
                                .column("f0", "BIGINT NOT NULL")
                                .column("f1", "DECIMAL(6, 2)")
                                .primaryKey("f0")
                                .build(),
                        ChangelogMode.all()));
        t.executeSql("INSERT INTO pricey SELECT f0, f1 FROM prices WHERE f1 > 1").await();
        assertThat(rows(cluster, "pricey")).containsExactly("[2, 8.00, 5]");
    }

    @Test
    void aConsistentSinkRefusesRowsFromSourcesWithoutCuts() {
        StreamTableEnvironment t = tableEnv(1);
        t.getConfig().set("table.exec.sink.require-on-conflict", "false"); // Flink 2.3, VALUES
        t.executeSql(
                "CREATE TABLE view1 (id BIGINT, price DECIMAL(6, 2), PRIMARY KEY (id) NOT"
                        + " ENFORCED)"
                        + with("pricey", ", 'consistency' = 'snapshot'"));
        t.executeSql(
                "CREATE TABLE plain (id BIGINT, price DECIMAL(6, 2), PRIMARY KEY (id) NOT"
                        + " ENFORCED)"
                        + with("pricey", ""));
        assertThatThrownBy(() -> t.executeSql("INSERT INTO view1 VALUES (1, 2.00)"))
                .hasStackTraceContaining(
                        "TiKV sink into shop.pricey has 'consistency' = 'snapshot', but its rows"
                                + " come from source 'Values")
                .hasStackTraceContaining("which is not a TiKV source with that option");
        assertThatThrownBy(() -> t.executeSql("INSERT INTO view1 SELECT * FROM plain"))
                .hasStackTraceContaining("but its rows come from source 'plain");
    }

    @Test
    void aConsistentSinkRefusesNonDeterministicFunctions() throws Exception {
        StreamTableEnvironment t = tableEnv(1);
        t.getConfig().set("table.exec.sink.require-on-conflict", "false"); // Flink 2.3, twice(id)
        t.executeSql(
                "CREATE TABLE view2 (id BIGINT, price DECIMAL(6, 2), PRIMARY KEY (id) NOT"
                        + " ENFORCED)"
                        + with("pricey", ", 'consistency' = 'snapshot'"));
        t.executeSql(
                "CREATE TABLE source2 (id BIGINT, name STRING, price DECIMAL(6, 2), stock INT,"
                        + " at_proc AS"
                        + " PROCTIME(), PRIMARY KEY (id) NOT ENFORCED)"
                        + with("items", ", 'consistency' = 'snapshot'"));
        t.createTemporarySystemFunction("jitter", new Jitter());
        t.createTemporarySystemFunction("twice", new Twice());
        assertThatThrownBy(
                        () ->
                                t.executeSql(
                                        "INSERT INTO view2 SELECT id, price * RAND() FROM source2"))
                .hasStackTraceContaining(
                        "TiKV sink into shop.pricey has 'consistency' = 'snapshot', but its query"
                                + " calls RAND, which is not deterministic");
        assertThatThrownBy(
                        () ->
                                t.executeSql(
                                        "INSERT INTO view2 SELECT id, CAST(SECOND(at_proc) AS"
                                                + " DECIMAL(6, 2)) FROM source2"))
                .hasStackTraceContaining("calls PROCTIME");
        assertThatThrownBy(
                        () ->
                                t.executeSql(
                                        "INSERT INTO view2 SELECT id, price FROM source2 WHERE"
                                                + " UNIX_TIMESTAMP() > stock"))
                .hasStackTraceContaining("calls UNIX_TIMESTAMP");
        assertThatThrownBy(
                        () ->
                                t.executeSql(
                                        "INSERT INTO view2 SELECT jitter(id), price FROM"
                                                + " source2"))
                .hasStackTraceContaining("calls " + Jitter.class.getName());
        // A deterministic function is accepted.
        assertThat(t.explainSql("INSERT INTO view2 SELECT twice(id), price FROM source2"))
                .contains("twice");
    }

    @Test
    void aConsistentSinkRefusesLookupJoins() {
        StreamTableEnvironment t = tableEnv(1);
        t.getConfig().set("table.exec.sink.require-on-conflict", "false");
        t.executeSql(
                "CREATE TABLE view3 (id BIGINT, price DECIMAL(6, 2), PRIMARY KEY (id) NOT"
                        + " ENFORCED)"
                        + with("pricey", ", 'consistency' = 'snapshot'"));
        t.executeSql(
                "CREATE TABLE source3 (id BIGINT, name STRING, price DECIMAL(6, 2), stock INT,"
                        + " at_proc AS PROCTIME(), PRIMARY KEY (id) NOT ENFORCED)"
                        + with("items", ", 'consistency' = 'snapshot'"));
        t.executeSql(
                "CREATE TABLE item_prices (id BIGINT, price DECIMAL(6, 2), PRIMARY KEY (id) NOT"
                        + " ENFORCED)"
                        + with("items", ""));
        assertThatThrownBy(
                        () ->
                                t.executeSql(
                                        "INSERT INTO view3 SELECT s.id, d.price FROM source3 AS s"
                                                + " JOIN item_prices FOR SYSTEM_TIME AS OF"
                                                + " s.at_proc AS d ON s.id = d.id"))
                .hasStackTraceContaining(
                        "TiKV sink into shop.pricey has 'consistency' = 'snapshot', but its query"
                                + " looks up rows of"
                                + " default_catalog.default_database.item_prices in a lookup"
                                + " join");
    }

    /** A function Flink must not treat as deterministic. */
    public static class Jitter extends ScalarFunction {
        public Long eval(Long v) {
            return v == null ? null : v + (long) (Math.random() * 10);
        }

        @Override
        public boolean isDeterministic() {
            return false;
        }
    }

    /** A deterministic function. */
    public static class Twice extends ScalarFunction {
        public Long eval(Long v) {
            return v == null ? null : v * 2;
        }
    }

    @Test
    void aConsistentSinkRefusesAJobWithoutConsistentSources() {
        StreamExecutionEnvironment env = env(1);
        env.fromData(1L)
                .sinkTo(
                        TiKVSink.<Long>builder()
                                .pdAddresses(pd)
                                .database("shop")
                                .table("pricey")
                                .options(Map.of(TiKVOptions.CONSISTENCY.key(), "snapshot"))
                                .serializer(id -> RowWrite.upsert(new Object[] {id, null, null}))
                                .build());
        assertThatThrownBy(() -> env.execute("no cuts"))
                .hasStackTraceContaining(
                        "TiKV sink into shop.pricey has 'consistency' = 'snapshot', but its rows"
                                + " come from source 'Collection Source'")
                .hasStackTraceContaining("TiKVSource#stream");
    }

    @Test
    void appendsToATableWithoutPrimaryKey(MiniTiKVCluster cluster) throws Exception {
        StreamTableEnvironment t = tableEnv(2);
        t.executeSql("CREATE TABLE logs (msg STRING, level INT)" + with("logs", ""));
        t.executeSql("INSERT INTO logs VALUES ('a', 1), ('b', 2), ('b', 2)").await();
        assertThat(rows(cluster, "logs")).containsExactlyInAnyOrder("[a, 1]", "[b, 2]", "[b, 2]");
        long ts = cluster.currentTs();
        assertThat(tables.indexEntries("shop", "logs", ts))
                .hasSize(3)
                .isEqualTo(tables.expectedIndexEntries("shop", "logs", ts));
    }

    @Test
    void atLeastOnceWritesInBatchModeToo(MiniTiKVCluster cluster) throws Exception {
        TableEnvironment batch = TableEnvironment.create(EnvironmentSettings.inBatchMode());
        batch.executeSql(
                "CREATE TABLE logs2 (msg STRING, level INT)"
                        + with("batch_logs", ", 'sink.delivery-guarantee' = 'at-least-once'"));
        batch.executeSql("INSERT INTO logs2 VALUES ('batch', 7), ('batch', 8)").await();
        // The deprecated key is read too.
        batch.executeSql(
                "CREATE TABLE logs4 (msg STRING, level INT)"
                        + with("batch_logs", ", 'sink.semantic' = 'at-least-once'"));
        batch.executeSql("INSERT INTO logs4 VALUES ('old key', 9)").await();
        assertThat(rows(cluster, "batch_logs"))
                .containsExactlyInAnyOrder("[batch, 7]", "[batch, 8]", "[old key, 9]");
        batch.executeSql("CREATE TABLE logs3 (msg STRING, level INT)" + with("batch_logs", ""));
        assertThatThrownBy(() -> batch.executeSql("INSERT INTO logs3 VALUES ('x', 1)"))
                .rootCause()
                .hasMessageContaining(
                        "'sink.delivery-guarantee' = 'exactly-once' needs streaming mode");
    }

    private static Throwable insertFails(String ddl, String insert) {
        StreamTableEnvironment t = tableEnv(1);
        t.executeSql(ddl);
        try {
            t.executeSql(insert).await();
        } catch (Exception e) {
            return e;
        }
        throw new AssertionError("the INSERT did not fail");
    }

    @Test
    void notNullAndLengthViolationsNameTheColumn() {
        assertThat(
                        Failures.messages(
                                insertFails(
                                        "CREATE TABLE v1 (id BIGINT, name STRING)"
                                                + with("items", ""),
                                        "INSERT INTO v1 VALUES (10, CAST(NULL AS STRING))")))
                .contains("column 'name' of TiDB table shop.items is NOT NULL");
        assertThat(
                        Failures.messages(
                                insertFails(
                                        "CREATE TABLE v2 (id BIGINT, name STRING)"
                                                + with("items", ""),
                                        "INSERT INTO v2 VALUES (11, 'much too long')")))
                .contains("column 'name' (varchar(8)) of TiDB table shop.items")
                .contains("13 characters, more than 8");
    }

    @Test
    void anUnknownTableIsRefusedAtPlanning() {
        StreamTableEnvironment t = tableEnv(1);
        t.executeSql("CREATE TABLE nope (id BIGINT)" + with("nope", ""));
        assertThatThrownBy(() -> t.executeSql("INSERT INTO nope VALUES (1)"))
                .rootCause()
                .hasMessageContaining("TiDB table shop.nope does not exist");
    }

    @Test
    void aColumnTheTableLacksOrATypeThatCannotConvertIsRefusedAtPlanning() {
        StreamTableEnvironment t = tableEnv(1);
        t.executeSql(
                "CREATE TABLE extra (id BIGINT, name STRING, colour STRING)" + with("items", ""));
        // explainSql plans without running: nothing can have been written.
        assertThatThrownBy(() -> t.explainSql("INSERT INTO extra VALUES (20, 'x', 'red')"))
                .rootCause()
                .hasMessage(
                        "column 'colour' does not exist in TiDB table shop.items; it has id, name,"
                                + " price, stock");
        t.executeSql("CREATE TABLE flag (id BIGINT, price BOOLEAN)" + with("items", ""));
        assertThatThrownBy(() -> t.executeSql("INSERT INTO flag VALUES (21, TRUE)"))
                .rootCause()
                .hasMessage(
                        "column 'price' of TiDB table shop.items has type decimal(6,2), which does"
                                + " not convert to or from Flink type BOOLEAN");
    }

    @Test
    void widerTypesAreWrittenAndTheirValuesCheckedPerRow(MiniTiKVCluster cluster) throws Exception {
        StreamTableEnvironment t = tableEnv(1);
        t.executeSql(
                "CREATE TABLE wide (id DECIMAL(30, 0), price DECIMAL(30, 4), stock BIGINT)"
                        + with("pricey", ""));
        t.executeSql("INSERT INTO wide VALUES (1, 12.5, 7)").await();
        assertThat(rows(cluster, "pricey")).contains("[1, 12.50, 7]");
        assertThat(
                        Failures.messages(
                                insertFails(
                                        "CREATE TABLE wide2 (id BIGINT, price DECIMAL(30, 4))"
                                                + with("pricey", ""),
                                        "INSERT INTO wide2 VALUES (2, 123456.5)")))
                .contains("column 'price' (decimal(6,2)) of TiDB table shop.pricey");
    }

    @Test
    void optionErrorsNameTheOption() {
        StreamTableEnvironment t = tableEnv(1);
        t.executeSql(
                "CREATE TABLE o1 (id BIGINT)"
                        + with("logs", ", 'sink.delivery-guarantee' = 'twice'"));
        assertThatThrownBy(() -> t.executeSql("INSERT INTO o1 VALUES (1)"))
                .rootCause()
                .hasMessageContaining("option 'sink.delivery-guarantee' has 'twice'");
        t.executeSql("CREATE TABLE o5 (id BIGINT)" + with("logs", ", 'sink.semantic' = 'twice'"));
        assertThatThrownBy(() -> t.executeSql("INSERT INTO o5 VALUES (1)"))
                .rootCause()
                .hasMessageContaining("option 'sink.semantic' has 'twice'");
        t.executeSql(
                "CREATE TABLE o6 (id BIGINT)"
                        + with("logs", ", 'sink.delivery-guarantee' = 'none'"));
        assertThatThrownBy(() -> t.executeSql("INSERT INTO o6 VALUES (1)"))
                .rootCause()
                .hasMessageContaining("option 'sink.delivery-guarantee' has 'none'");
        t.executeSql(
                "CREATE TABLE o2 (id BIGINT)"
                        + with("logs", ", 'sink.buffer-flush.max-rows' = '0'"));
        assertThatThrownBy(() -> t.executeSql("INSERT INTO o2 VALUES (1)"))
                .rootCause()
                .hasMessageContaining("option 'sink.buffer-flush.max-rows' must be positive");
        t.executeSql("CREATE TABLE o7 (id BIGINT)" + with("logs", ", 'sink.txn-source' = '16'"));
        assertThatThrownBy(() -> t.executeSql("INSERT INTO o7 VALUES (1)"))
                .rootCause()
                .hasMessageContaining("option 'sink.txn-source' must be between 0 and 15");
        t.executeSql("CREATE TABLE o3 (id BIGINT)" + with("logs", ", 'sink.unknown' = '1'"));
        assertThatThrownBy(() -> t.executeSql("INSERT INTO o3 VALUES (1)"))
                .rootCause()
                .hasMessageContaining("sink.unknown");
        StreamTableEnvironment noCheckpoints =
                StreamTableEnvironment.create(StreamExecutionEnvironment.getExecutionEnvironment());
        noCheckpoints.executeSql("CREATE TABLE o4 (id BIGINT)" + with("logs", ""));
        assertThatThrownBy(() -> noCheckpoints.executeSql("INSERT INTO o4 VALUES (1)"))
                .rootCause()
                .hasMessageContaining(
                        "option 'sink.delivery-guarantee' = 'exactly-once' commits at"
                                + " checkpoints");
    }
}
