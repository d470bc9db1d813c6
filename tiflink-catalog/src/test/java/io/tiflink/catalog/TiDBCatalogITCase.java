package io.tiflink.catalog;

import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.tidb.meta.CIStr;
import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.meta.FieldType;
import io.tiflink.tidb.meta.IndexInfo;
import io.tiflink.tidb.meta.PartitionInfo;
import io.tiflink.tidb.meta.SchemaWriter;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.types.MysqlType;

import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.catalog.CatalogBaseTable;
import org.apache.flink.table.catalog.CatalogPartitionSpec;
import org.apache.flink.table.catalog.ObjectPath;
import org.apache.flink.table.catalog.exceptions.CatalogException;
import org.apache.flink.table.catalog.exceptions.TableNotExistException;
import org.apache.flink.table.catalog.exceptions.TableNotPartitionedException;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** The catalog over a minicluster whose schema was written by {@link SchemaWriter}. */
class TiDBCatalogITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(1));

    static TiSession session;
    static TableEnvironment env;

    static ColumnInfo column(String name, int tp, int flag, int flen, int decimal, String collate) {
        ColumnInfo c = new ColumnInfo();
        c.name = CIStr.of(name);
        c.type = new FieldType(tp);
        c.type.flag = flag;
        c.type.flen = flen;
        c.type.decimal = decimal;
        if (collate != null) {
            c.type.collate = collate;
            c.type.charset = collate.equals("binary") ? "binary" : "utf8mb4";
        }
        return c;
    }

    static TableInfo table(String name, String comment, ColumnInfo... columns) {
        TableInfo t = new TableInfo();
        t.name = CIStr.of(name);
        t.comment = comment;
        t.columns.addAll(List.of(columns));
        return t;
    }

    /**
     * Writes the schema the tests read: shop.orders (int PK), shop.events (clustered, partitioned).
     */
    static void writeSchema(TiSession s) {
        SchemaWriter w = new SchemaWriter(s);
        w.createDatabase("shop");
        w.createDatabase("empty_db");
        ColumnInfo id =
                column(
                        "id",
                        MysqlType.LONGLONG,
                        MysqlType.PRI_KEY_FLAG | MysqlType.NOT_NULL_FLAG,
                        20,
                        0,
                        null);
        ColumnInfo name = column("name", MysqlType.VARCHAR, 0, 64, 0, "utf8mb4_general_ci");
        name.comment = "customer name";
        TableInfo orders =
                table(
                        "orders",
                        "all the orders",
                        id,
                        name,
                        column("amount", MysqlType.NEWDECIMAL, 0, 12, 2, null),
                        column("qty", MysqlType.LONG, MysqlType.UNSIGNED_FLAG, 10, 0, null),
                        column("big", MysqlType.LONGLONG, MysqlType.UNSIGNED_FLAG, 20, 0, null),
                        column("created", MysqlType.DATETIME, 0, 26, 3, null),
                        column("updated", MysqlType.TIMESTAMP, 0, 19, 0, null),
                        column("doc", MysqlType.JSON, 0, -1, 0, null),
                        column("state", MysqlType.ENUM, 0, -1, 0, "utf8mb4_bin"),
                        column("photo", MysqlType.BLOB, 0, 65535, 0, "binary"),
                        column("flag", MysqlType.BIT, 0, 1, 0, null));
        orders.pkIsHandle = true;
        w.createTable("shop", orders);

        ColumnInfo k =
                column(
                        "k",
                        MysqlType.VARCHAR,
                        MysqlType.PRI_KEY_FLAG | MysqlType.NOT_NULL_FLAG,
                        32,
                        0,
                        "utf8mb4_bin");
        ColumnInfo day =
                column(
                        "day",
                        MysqlType.DATE,
                        MysqlType.PRI_KEY_FLAG | MysqlType.NOT_NULL_FLAG,
                        10,
                        0,
                        null);
        TableInfo events =
                table("events", "", k, day, column("v", MysqlType.DOUBLE, 0, 22, -1, null));
        events.isCommonHandle = true;
        events.commonHandleVersion = 1;
        IndexInfo pk = new IndexInfo();
        pk.name = CIStr.of("PRIMARY");
        pk.primary = true;
        pk.unique = true;
        pk.columns.add(new IndexInfo.IndexColumn(CIStr.of("k"), 0, -1));
        pk.columns.add(new IndexInfo.IndexColumn(CIStr.of("day"), 1, -1));
        events.indices.add(pk);
        events.partition = new PartitionInfo();
        events.partition.type = PartitionInfo.HASH;
        events.partition.expr = "`k`";
        for (String p : new String[] {"p0", "p1"}) {
            PartitionInfo.PartitionDefinition d = new PartitionInfo.PartitionDefinition();
            d.name = CIStr.of(p);
            events.partition.definitions.add(d);
        }
        w.createTable("shop", events);
        w.createTable("shop", table("geo", "", column("g", MysqlType.GEOMETRY, 0, -1, 0, null)));
    }

    @BeforeAll
    static void start() {
        session = TiSession.create(TiConfiguration.createDefault(TIKV.cluster().pdAddress()));
        writeSchema(session);
        env = TableEnvironment.create(EnvironmentSettings.inBatchMode());
        env.executeSql(
                "CREATE CATALOG tidb WITH ('type' = 'tidb', 'pd-addresses' = '"
                        + TIKV.cluster().pdAddress()
                        + "', 'default-database' = 'shop', 'tikv.grpc.timeout_in_ms' = '3000')");
        env.executeSql("USE CATALOG tidb");
    }

    @AfterAll
    static void stop() throws Exception {
        session.close();
    }

    static List<String> rows(TableResult result) throws Exception {
        List<String> rows = new ArrayList<>();
        try (CloseableIterator<Row> it = result.collect()) {
            it.forEachRemaining(r -> rows.add(r.toString()));
        }
        return rows;
    }

    @Test
    void showsDatabasesAndTables() throws Exception {
        assertThat(rows(env.executeSql("SHOW DATABASES")))
                .containsExactly("+I[empty_db]", "+I[shop]");
        assertThat(rows(env.executeSql("SHOW TABLES")))
                .containsExactly("+I[events]", "+I[geo]", "+I[orders]");
    }

    @Test
    void mapsTypesKeysAndComments() throws Exception {
        CatalogBaseTable t =
                env.getCatalog("tidb").get().getTable(new ObjectPath("shop", "orders"));
        Schema schema = t.getUnresolvedSchema();
        assertThat(t.getComment()).isEqualTo("all the orders");
        assertThat(schema.getPrimaryKey().get().getColumnNames()).containsExactly("id");
        List<String> columns = new ArrayList<>();
        schema.getColumns().forEach(c -> columns.add(c.toString()));
        assertThat(columns)
                .containsExactly(
                        "`id` BIGINT NOT NULL",
                        "`name` VARCHAR(64) COMMENT 'customer name'",
                        "`amount` DECIMAL(12, 2)",
                        "`qty` BIGINT",
                        "`big` DECIMAL(20, 0)",
                        "`created` TIMESTAMP(3)",
                        "`updated` TIMESTAMP_LTZ(0)",
                        "`doc` STRING",
                        "`state` STRING",
                        "`photo` BYTES",
                        "`flag` BOOLEAN");
        assertThat(t.getOptions())
                .containsEntry("connector", "tikv")
                .containsEntry("pd-addresses", TIKV.cluster().pdAddress())
                .containsEntry("database-name", "shop")
                .containsEntry("table-name", "orders")
                .containsEntry("tikv.grpc.timeout_in_ms", "3000");

        List<String> described = rows(env.executeSql("DESCRIBE events"));
        assertThat(described.get(0)).startsWith("+I[k, VARCHAR(32), false, PRI(k, day)");
        assertThat(described.get(1)).startsWith("+I[day, DATE, false, PRI(k, day)");
    }

    @Test
    void listsPartitions() throws Exception {
        var catalog = env.getCatalog("tidb").get();
        assertThat(catalog.listPartitions(new ObjectPath("shop", "events")))
                .containsExactly(
                        new CatalogPartitionSpec(Map.of("partition", "p0")),
                        new CatalogPartitionSpec(Map.of("partition", "p1")));
        assertThatThrownBy(() -> catalog.listPartitions(new ObjectPath("shop", "orders")))
                .isInstanceOf(TableNotPartitionedException.class);
    }

    @Test
    void unsupportedTypeNamesColumnAndType() {
        assertThatThrownBy(
                        () -> env.getCatalog("tidb").get().getTable(new ObjectPath("shop", "geo")))
                .isInstanceOf(CatalogException.class)
                .hasMessageContaining("column 'g'")
                .hasMessageContaining("geometry");
    }

    @Test
    void missingTableIsReported() {
        assertThatThrownBy(
                        () -> env.getCatalog("tidb").get().getTable(new ObjectPath("shop", "nope")))
                .isInstanceOf(TableNotExistException.class);
    }

    @Test
    void ddlWithoutATiDBUrlNamesTheOption() {
        assertThatThrownBy(() -> env.executeSql("CREATE TABLE t2 (a INT)"))
                .hasStackTraceContaining("tidb.database.url");
        assertThatThrownBy(() -> env.executeSql("DROP TABLE orders"))
                .hasStackTraceContaining("tidb.database.url");
        assertThatThrownBy(() -> env.executeSql("CREATE DATABASE newdb"))
                .hasStackTraceContaining("tidb.database.url");
    }

    @Test
    void anUnreachablePdNamesTheOptionAndTheAddress() throws Exception {
        String address;
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            address = "127.0.0.1:" + s.getLocalPort(); // closed when the catalog is created
        }
        TableEnvironment other = TableEnvironment.create(EnvironmentSettings.inBatchMode());
        String sql =
                "CREATE CATALOG bad WITH ('type' = 'tidb', 'pd-addresses' = '" + address + "')";
        assertTimeoutPreemptively(
                Duration.ofSeconds(30),
                () ->
                        assertThatThrownBy(() -> other.executeSql(sql))
                                .hasStackTraceContaining(
                                        "catalog 'bad': 'pd-addresses' = '"
                                                + address
                                                + "': cannot reach PD at "
                                                + address
                                                + ": connection refused"));
    }

    @Test
    void missingPdAddressesNamesTheOption() {
        TableEnvironment other = TableEnvironment.create(EnvironmentSettings.inBatchMode());
        assertThatThrownBy(() -> other.executeSql("CREATE CATALOG bad WITH ('type' = 'tidb')"))
                .hasStackTraceContaining("pd-addresses");
        assertThatThrownBy(
                        () ->
                                other.executeSql(
                                        "CREATE CATALOG bad WITH ('type' = 'tidb', 'pd-addresses' = 'nohost')"))
                .hasStackTraceContaining("pd-addresses");
    }

    @Test
    void createTableStatementForTiDB() {
        var schema =
                org.apache.flink.table.catalog.ResolvedSchema.of(
                        org.apache.flink.table.catalog.Column.physical(
                                "id", DataTypes.BIGINT().notNull()),
                        org.apache.flink.table.catalog.Column.physical("name", DataTypes.STRING())
                                .withComment("it's"),
                        org.apache.flink.table.catalog.Column.physical(
                                "at", DataTypes.TIMESTAMP_LTZ(3)));
        schema =
                new org.apache.flink.table.catalog.ResolvedSchema(
                        schema.getColumns(),
                        List.of(),
                        org.apache.flink.table.catalog.UniqueConstraint.primaryKey(
                                "pk", List.of("id")));
        var table =
                new org.apache.flink.table.catalog.ResolvedCatalogTable(
                        org.apache.flink.table.catalog.CatalogTable.newBuilder()
                                .schema(Schema.newBuilder().fromResolvedSchema(schema).build())
                                .comment("c")
                                .options(Map.of())
                                .build(),
                        schema);
        assertThat(TiDBDdl.createTable(new ObjectPath("db", "t`x"), table, true))
                .isEqualTo(
                        "CREATE TABLE IF NOT EXISTS `db`.`t``x` (`id` BIGINT NOT NULL, `name` LONGTEXT"
                                + " COMMENT 'it''s', `at` TIMESTAMP(3), PRIMARY KEY (`id`)) COMMENT='c'");
    }
}
