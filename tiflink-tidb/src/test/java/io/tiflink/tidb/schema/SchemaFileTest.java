package io.tiflink.tidb.schema;

import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.meta.PartitionInfo;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.types.MysqlType;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SchemaFileTest {
    static final String SHOP =
            "-- the shop\n"
                    + "CREATE DATABASE IF NOT EXISTS shop DEFAULT CHARACTER SET utf8mb4;\n"
                    + "USE shop;\n"
                    + "CREATE TABLE orders (\n"
                    + "  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,\n"
                    + "  customer VARCHAR(64) COLLATE utf8mb4_general_ci NOT NULL COMMENT 'who',\n"
                    + "  amount DECIMAL(12, 2) DEFAULT '0.00',\n"
                    + "  created DATETIME(3) DEFAULT CURRENT_TIMESTAMP(3),\n"
                    + "  state ENUM('new', 'paid') NOT NULL DEFAULT 'new',\n"
                    + "  tags SET('a','b'), flag BIT(1), doc JSON, photo BLOB, note TEXT, ts TIMESTAMP, t TIME(2), y YEAR,\n"
                    + "  KEY idx_customer (customer), UNIQUE KEY uk (created, note(10))\n"
                    + ") COMMENT = 'all orders';\n"
                    + "CREATE TABLE `events` (\n"
                    + "  k VARCHAR(32) NOT NULL, day DATE NOT NULL, v DOUBLE,\n"
                    + "  PRIMARY KEY (k, day)\n"
                    + ") PARTITION BY HASH(k) PARTITIONS 4;\n"
                    + "CREATE TABLE shop.logs (id INT, msg VARCHAR(10), PRIMARY KEY (id) NONCLUSTERED)\n"
                    + "  PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (100), PARTITION pmax VALUES LESS THAN MAXVALUE);\n";

    @Test
    void parsesTiDBsDefaults() {
        List<SchemaFile.Statement> s = SchemaFile.parse("shop.sql", SHOP);
        assertThat(s).hasSize(4);
        TableInfo orders = s.get(1).table;
        assertThat(orders.pkIsHandle).isTrue();
        assertThat(orders.isCommonHandle).isFalse();
        assertThat(orders.comment).isEqualTo("all orders");
        ColumnInfo id = orders.column("id");
        assertThat(id.type.tp).isEqualTo(MysqlType.LONGLONG);
        assertThat(
                        id.type.flag
                                & (MysqlType.PRI_KEY_FLAG
                                        | MysqlType.UNSIGNED_FLAG
                                        | MysqlType.AUTO_INCREMENT_FLAG
                                        | MysqlType.NOT_NULL_FLAG))
                .isEqualTo(
                        MysqlType.PRI_KEY_FLAG
                                | MysqlType.UNSIGNED_FLAG
                                | MysqlType.AUTO_INCREMENT_FLAG
                                | MysqlType.NOT_NULL_FLAG);
        assertThat(orders.column("customer").type.collate).isEqualTo("utf8mb4_general_ci");
        assertThat(orders.column("customer").comment).isEqualTo("who");
        assertThat(orders.column("amount").type.flen).isEqualTo(12);
        assertThat(orders.column("amount").defaultValue).isEqualTo("0.00");
        assertThat(orders.column("created").type.decimal).isEqualTo(3);
        assertThat(orders.column("state").type.elems).containsExactly("new", "paid");
        assertThat(orders.column("photo").type.charset).isEqualTo("binary");
        assertThat(orders.column("note").type.collate).isEqualTo("utf8mb4_bin");
        assertThat(orders.indices).extracting(i -> i.name.o).containsExactly("idx_customer", "uk");
        assertThat(orders.indices.get(1).columns.get(1).length).isEqualTo(10);

        TableInfo events = s.get(2).table;
        assertThat(events.isCommonHandle).isTrue();
        assertThat(events.commonHandleVersion).isEqualTo(1);
        assertThat(events.primaryIndex().columns)
                .extracting(c -> c.name.o)
                .containsExactly("k", "day");
        assertThat(events.partition.type).isEqualTo(PartitionInfo.HASH);
        assertThat(events.partition.expr).isEqualTo("`k`");
        assertThat(events.partition.definitions).hasSize(4);

        TableInfo logs = s.get(3).table;
        assertThat(logs.pkIsHandle).isFalse();
        assertThat(logs.isCommonHandle).isFalse();
        assertThat(logs.primaryIndex()).isNotNull();
        assertThat(logs.partition.definitions.get(1).lessThan).containsExactly("MAXVALUE");
    }

    @Test
    void errorsNameLineColumnAndType() {
        assertThatThrownBy(
                        () ->
                                SchemaFile.parse(
                                        "s.sql",
                                        "CREATE DATABASE d;\nUSE d;\nCREATE TABLE t (\n  a INT,\n  g GEOMETRY\n);"))
                .isInstanceOf(SchemaFileException.class)
                .hasMessage(
                        "s.sql:5:5: column 'g' of table 't' has type 'geometry', which the schema file does not support");
        assertThatThrownBy(
                        () ->
                                SchemaFile.parse(
                                        "s.sql", "CREATE DATABASE d; CREATE TABLE t (a INT);"))
                .hasMessageContaining("s.sql:1:20")
                .hasMessageContaining("no USE");
        assertThatThrownBy(() -> SchemaFile.parse("s.sql", "USE d; CREATE TABLE t (a VARCHAR);"))
                .hasMessageContaining("s.sql:1:26")
                .hasMessageContaining("needs a length");
        assertThatThrownBy(
                        () ->
                                SchemaFile.parse(
                                        "s.sql", "USE d; CREATE TABLE t (a INT COLLATE gbk_bin);"))
                .hasMessageContaining("collation 'gbk_bin' is not supported");
        assertThatThrownBy(() -> SchemaFile.parse("s.sql", "DROP TABLE t;"))
                .hasMessageContaining("s.sql:1:1: unsupported statement");
        assertThatThrownBy(
                        () ->
                                SchemaFile.parse(
                                        "s.sql", "USE d; CREATE TABLE t (a INT, KEY k (b));"))
                .hasMessageContaining("unknown column 'b'");
    }
}
