package io.tiflink.catalog;

import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.catalog.CatalogTable;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ObjectPath;
import org.apache.flink.table.catalog.ResolvedCatalogTable;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.catalog.UniqueConstraint;

import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.tidb.TiDBContainer;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The catalog's DDL statements run on a real TiDB. The image is TiDB with its embedded storage (no
 * PD or TiKV ports), so only the SQL is checked here; skipped without Docker.
 */
@Testcontainers(disabledWithoutDocker = true)
class TiDBDdlContainerITCase {
    @Container static final TiDBContainer TIDB = new TiDBContainer("pingcap/tidb:v8.5.1");

    @Test
    void generatedDdlRunsOnTiDB() throws Exception {
        ResolvedSchema schema =
                new ResolvedSchema(
                        List.of(
                                Column.physical("id", DataTypes.BIGINT().notNull()),
                                Column.physical("name", DataTypes.VARCHAR(20)),
                                Column.physical("at", DataTypes.TIMESTAMP_LTZ(3))),
                        List.of(),
                        UniqueConstraint.primaryKey("pk", List.of("id")));
        ResolvedCatalogTable table =
                new ResolvedCatalogTable(
                        CatalogTable.newBuilder()
                                .schema(Schema.newBuilder().fromResolvedSchema(schema).build())
                                .comment("from flink")
                                .options(Map.of())
                                .build(),
                        schema);
        try (Connection c =
                        DriverManager.getConnection(
                                TIDB.getJdbcUrl(), TIDB.getUsername(), TIDB.getPassword());
                Statement s = c.createStatement()) {
            s.execute(TiDBDdl.createDatabase("flinkdb", false));
            s.execute(TiDBDdl.createTable(new ObjectPath("flinkdb", "t"), table, false));
            try (ResultSet rs = s.executeQuery("SHOW CREATE TABLE flinkdb.t")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(2))
                        .contains("`at` timestamp(3)")
                        .contains("PRIMARY KEY (`id`)")
                        .contains("from flink");
            }
            s.execute(TiDBDdl.dropTable(new ObjectPath("flinkdb", "t"), false));
            s.execute(TiDBDdl.dropDatabase("flinkdb", false));
        }
    }
}
