package io.tiflink.connector.lookup;

import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.RowTypeInfo;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Lookup joins on TiKV tables from Flink SQL, synchronous and asynchronous. */
class TiKVLookupJoinITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(3).cdcResolvedTsInterval(Duration.ofMillis(50)));

    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(2);

    private static TiDBTables tables;
    private static String pd;

    @BeforeAll
    static void schema(MiniTiKVCluster cluster) {
        pd = cluster.pdAddress();
        tables = new TiDBTables(cluster);
        tables.ddl(
                "CREATE DATABASE lk; USE lk;"
                        + " CREATE TABLE users (id BIGINT PRIMARY KEY,"
                        + "   name VARCHAR(32) COLLATE utf8mb4_general_ci, city VARCHAR(16),"
                        + "   score INT, UNIQUE KEY uk_name (name),"
                        + "   KEY idx_city_score (city, score));"
                        + " CREATE TABLE pairs (a INT, b VARCHAR(16), v INT,"
                        + "   PRIMARY KEY (a, b) CLUSTERED);"
                        + " CREATE TABLE codes (code VARCHAR(8), v INT,"
                        + "   PRIMARY KEY (code) NONCLUSTERED);"
                        + " CREATE TABLE events (k INT, v VARCHAR(16), KEY idx_k (k));");
        tables.txn("lk", "users")
                .insert(1L, "alice", "paris", 10L)
                .insert(2L, "Bob", "paris", 20L)
                .insert(3L, "carol", "rome", 10L)
                .insert(4L, null, "rome", null)
                .commit();
        tables.txn("lk", "pairs")
                .insert(1L, "x", 10L)
                .insert(1L, "y", 11L)
                .insert(2L, "x", 20L)
                .commit();
        tables.txn("lk", "codes")
                .insertWithRowId(1, "A1", 1L)
                .insertWithRowId(2, "B2", 2L)
                .commit();
        tables.txn("lk", "events")
                .insertWithRowId(1, 5L, "e1")
                .insertWithRowId(2, 5L, "e2")
                .insertWithRowId(3, 6L, "e3")
                .commit();
    }

    @AfterAll
    static void close() throws Exception {
        tables.close();
    }

    static String with(String table, String extra) {
        return " WITH ('connector' = 'tikv', 'pd-addresses' = '"
                + pd
                + "', 'database-name' = 'lk', 'table-name' = '"
                + table
                + "'"
                + extra
                + ")";
    }

    /**
     * A table environment with the dimension tables and a bounded probe view {@code probe (id
     * BIGINT, name STRING, city STRING, score INT, pt AS PROCTIME())} of these rows.
     */
    private static StreamTableEnvironment env(boolean async, Row... probes) {
        StreamExecutionEnvironment env = FlinkClusters.noRestartEnv(1, 200);
        StreamTableEnvironment t = StreamTableEnvironment.create(env);
        String extra = ", 'lookup.async' = '" + async + "'";
        t.executeSql(
                "CREATE TABLE users (id BIGINT, name STRING, city STRING, score INT,"
                        + " PRIMARY KEY (id) NOT ENFORCED)"
                        + with("users", extra));
        t.executeSql("CREATE TABLE pairs (a INT, b STRING, v INT)" + with("pairs", extra));
        t.executeSql("CREATE TABLE codes (code STRING, v INT)" + with("codes", extra));
        t.executeSql("CREATE TABLE events (k INT, v STRING)" + with("events", extra));
        RowTypeInfo type =
                new RowTypeInfo(
                        new TypeInformation<?>[] {
                            Types.LONG, Types.STRING, Types.STRING, Types.INT
                        },
                        new String[] {"id", "name", "city", "score"});
        t.createTemporaryView(
                "probe",
                t.fromDataStream(
                        env.fromData(type, probes),
                        Schema.newBuilder()
                                .column("id", "BIGINT")
                                .column("name", "STRING")
                                .column("city", "STRING")
                                .column("score", "INT")
                                .columnByExpression("pt", "PROCTIME()")
                                .build()));
        return t;
    }

    static List<String> collect(StreamTableEnvironment t, String query) throws Exception {
        List<String> out = new ArrayList<>();
        try (CloseableIterator<Row> it = t.executeSql(query).collect()) {
            it.forEachRemaining(r -> out.add(r.toString()));
        }
        return out;
    }

    private static final String JOIN = " FOR SYSTEM_TIME AS OF p.pt AS d ON ";

    @ParameterizedTest(name = "async={0}")
    @ValueSource(booleans = {true, false})
    void joinsOnTheIntegerKeyAUniqueIndexAndANonUniqueIndex(boolean async) throws Exception {
        StreamTableEnvironment t =
                env(
                        async,
                        Row.of(1L, "ALICE", "paris", 10),
                        Row.of(3L, "bob", "rome", null),
                        Row.of(99L, "nobody", "paris", 20),
                        Row.of(null, null, null, null));
        // The integer primary key: absent and NULL keys find nothing.
        assertThat(
                        collect(
                                t,
                                "SELECT p.id, d.name FROM probe AS p LEFT JOIN users"
                                        + JOIN
                                        + "p.id = d.id"))
                .containsExactlyInAnyOrder(
                        "+I[1, alice]", "+I[3, carol]", "+I[99, null]", "+I[null, null]");
        // A utf8mb4_general_ci unique key: 'ALICE' finds 'alice', 'bob' finds 'Bob'.
        assertThat(
                        collect(
                                t,
                                "SELECT p.name, d.id FROM probe AS p LEFT JOIN users"
                                        + JOIN
                                        + "p.name = d.name"))
                .containsExactlyInAnyOrder(
                        "+I[ALICE, 1]", "+I[bob, 2]", "+I[nobody, null]", "+I[null, null]");
        // A composite non-unique index: a NULL score matches no row, not even one whose score
        // is NULL.
        assertThat(
                        collect(
                                t,
                                "SELECT p.city, p.score, d.id FROM probe AS p JOIN users"
                                        + JOIN
                                        + "p.city = d.city AND p.score = d.score"))
                .containsExactlyInAnyOrder("+I[paris, 10, 1]", "+I[paris, 20, 2]");
        // A prefix of it: every matching row.
        assertThat(
                        collect(
                                t,
                                "SELECT p.city, d.id FROM probe AS p JOIN users"
                                        + JOIN
                                        + "p.city = d.city"))
                .containsExactlyInAnyOrder(
                        "+I[paris, 1]",
                        "+I[paris, 2]",
                        "+I[rome, 3]",
                        "+I[rome, 4]",
                        "+I[paris, 1]",
                        "+I[paris, 2]");
        // Columns besides the index's are compared after the read.
        assertThat(
                        collect(
                                t,
                                "SELECT p.id, d.id FROM probe AS p JOIN users"
                                        + JOIN
                                        + "p.city = d.city AND p.id = d.score"))
                .isEmpty();
    }

    @ParameterizedTest(name = "async={0}")
    @ValueSource(booleans = {true, false})
    void joinsOnClusteredNonClusteredAndRowIdTables(boolean async) throws Exception {
        StreamTableEnvironment t =
                env(
                        async,
                        Row.of(1L, "y", "B2", 5),
                        Row.of(2L, "x", "A1", 6),
                        Row.of(3L, "x", "C3", 7),
                        Row.of(1L, null, null, null));
        // The whole clustered composite key, then a prefix of it.
        assertThat(
                        collect(
                                t,
                                "SELECT p.id, p.name, d.v FROM probe AS p JOIN pairs"
                                        + JOIN
                                        + "CAST(p.id AS INT) = d.a AND p.name = d.b"))
                .containsExactlyInAnyOrder("+I[1, y, 11]", "+I[2, x, 20]");
        assertThat(
                        collect(
                                t,
                                "SELECT p.id, d.b, d.v FROM probe AS p JOIN pairs"
                                        + JOIN
                                        + "CAST(p.id AS INT) = d.a"))
                .containsExactlyInAnyOrder(
                        "+I[1, x, 10]",
                        "+I[1, y, 11]",
                        "+I[2, x, 20]",
                        "+I[1, x, 10]",
                        "+I[1, y, 11]");
        // A non-clustered primary key: its unique index, then the record.
        assertThat(
                        collect(
                                t,
                                "SELECT p.city, d.v FROM probe AS p JOIN codes"
                                        + JOIN
                                        + "p.city = d.code"))
                .containsExactlyInAnyOrder("+I[B2, 2]", "+I[A1, 1]");
        // A table keyed by _tidb_rowid, through a non-unique index.
        assertThat(
                        collect(
                                t,
                                "SELECT p.score, d.v FROM probe AS p JOIN events"
                                        + JOIN
                                        + "p.score = d.k"))
                .containsExactlyInAnyOrder("+I[5, e1]", "+I[5, e2]", "+I[6, e3]");
    }

    @Test
    void aLookupNoIndexServesIsRefusedAtPlanning() {
        StreamTableEnvironment t = env(true, Row.of(1L, "a", "b", 1));
        assertThatThrownBy(
                        () ->
                                t.explainSql(
                                        "SELECT p.id, d.id FROM probe AS p JOIN users"
                                                + JOIN
                                                + "p.score = d.score"))
                .hasStackTraceContaining(
                        "a lookup on [score] of TiDB table lk.users needs an index starting with"
                                + " one of these columns, and it has PRIMARY (id), uk_name (name),"
                                + " idx_city_score (city, score)");
    }

    @Test
    void aDataStreamJobLooksUpWithTheBuilder() throws Exception {
        StreamExecutionEnvironment env = FlinkClusters.noRestartEnv(1, 200);
        TiKVLookup<String> lookup =
                TiKVLookup.<String>builder()
                        .options(Map.of("pd-addresses", pd))
                        .table("lk", "users")
                        .key(
                                DataTypes.ROW(DataTypes.FIELD("name", DataTypes.STRING())),
                                n -> GenericRowData.of(StringData.fromString(n)))
                        .rows(
                                DataTypes.ROW(
                                        DataTypes.FIELD("id", DataTypes.BIGINT()),
                                        DataTypes.FIELD("city", DataTypes.STRING())))
                        .build();
        List<String> out =
                AsyncDataStream.unorderedWait(
                                env.fromData("ALICE", "nobody", "bob"),
                                lookup,
                                30,
                                TimeUnit.SECONDS)
                        .returns(Types.TUPLE(Types.STRING, TypeInformation.of(RowData.class)))
                        .map(p -> p.f0 + "=" + p.f1.getLong(0) + "/" + p.f1.getString(1))
                        .returns(Types.STRING)
                        .executeAndCollect(10);
        assertThat(out).containsExactlyInAnyOrder("ALICE=1/paris", "bob=2/paris");
    }

    @Test
    void theBuilderRefusesALookupNoIndexServes() {
        assertThatThrownBy(
                        () ->
                                TiKVLookup.<Long>builder()
                                        .options(Map.of("pd-addresses", pd))
                                        .table("lk", "users")
                                        .key(
                                                DataTypes.ROW(
                                                        DataTypes.FIELD("score", DataTypes.INT())),
                                                s -> GenericRowData.of(s.intValue()))
                                        .rows(
                                                DataTypes.ROW(
                                                        DataTypes.FIELD("id", DataTypes.BIGINT())))
                                        .build())
                .hasMessageContaining("a lookup on [score] of TiDB table lk.users needs an index");
    }
}
