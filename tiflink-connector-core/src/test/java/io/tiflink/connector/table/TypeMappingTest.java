package io.tiflink.connector.table;

import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.schema.SchemaFile;

import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.RowType;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

/** The catalog's types pass the planning check, and narrower ones do not. */
class TypeMappingTest {
    private static final TableInfo TABLE =
            SchemaFile.parse(
                            "test",
                            "CREATE DATABASE d; USE d; CREATE TABLE t (id BIGINT PRIMARY KEY,"
                                    + " ti TINYINT, tu TINYINT UNSIGNED, b BOOL, si SMALLINT,"
                                    + " su SMALLINT UNSIGNED, mi MEDIUMINT, mu MEDIUMINT UNSIGNED,"
                                    + " i INT, iu INT UNSIGNED, bu BIGINT UNSIGNED, f FLOAT,"
                                    + " db DOUBLE, d DECIMAL(12,2), d65 DECIMAL(65,4), y YEAR,"
                                    + " dt DATE, t0 DATETIME, t6 DATETIME(6), ts TIMESTAMP(3),"
                                    + " tm TIME(3), b1 BIT(1), b9 BIT(9), c CHAR(4),"
                                    + " vc VARCHAR(64), bn BINARY(4), vb VARBINARY(16), tx TEXT,"
                                    + " bl BLOB, e ENUM('a','bc'), s SET('a','b'), j JSON)")
                    .get(1)
                    .table;

    private static RowType rowType(List<String> names, List<DataType> types) {
        return (RowType)
                DataTypes.ROW(
                                names.stream()
                                        .map(n -> DataTypes.FIELD(n, types.get(names.indexOf(n))))
                                        .toArray(DataTypes.Field[]::new))
                        .getLogicalType();
    }

    @Test
    void everyCatalogTypeHoldsItsColumn() {
        List<String> names = new ArrayList<>();
        List<DataType> types = new ArrayList<>();
        for (ColumnInfo c : TABLE.columns) {
            names.add(c.name());
            types.add(TypeMapping.toFlink("d.t", c));
        }
        assertThat(names).hasSize(32);
        assertThatCode(() -> RowConverter.checkRead("d.t", TABLE, rowType(names, types)))
                .doesNotThrowAnyException();
    }

    @Test
    void narrowerTypesAreNamedWithTheCatalogType() {
        assertThat(refusal("tu", DataTypes.TINYINT())).isEqualTo("SMALLINT");
        assertThat(refusal("b", DataTypes.BOOLEAN())).isNull();
        assertThat(refusal("ti", DataTypes.BOOLEAN())).isEqualTo("TINYINT");
        assertThat(refusal("mu", DataTypes.DECIMAL(8, 0))).isNull();
        assertThat(refusal("mu", DataTypes.DECIMAL(8, 1))).isEqualTo("INT");
        assertThat(refusal("bu", DataTypes.BIGINT())).isEqualTo("DECIMAL(20, 0)");
        assertThat(refusal("d", DataTypes.DECIMAL(13, 1))).isEqualTo("DECIMAL(12, 2)");
        assertThat(refusal("d65", DataTypes.DECIMAL(38, 4))).isEqualTo("STRING");
        assertThat(refusal("d65", DataTypes.STRING())).isNull();
        assertThat(refusal("y", DataTypes.SMALLINT())).isNull();
        assertThat(refusal("y", DataTypes.TINYINT())).isEqualTo("INT");
        assertThat(refusal("t6", DataTypes.TIMESTAMP_LTZ(3))).isEqualTo("TIMESTAMP(6)");
        assertThat(refusal("ts", DataTypes.TIMESTAMP(3))).isNull();
        assertThat(refusal("b9", DataTypes.SMALLINT())).isNull();
        assertThat(refusal("b9", DataTypes.BINARY(1))).isEqualTo("BINARY(2)");
        assertThat(refusal("vb", DataTypes.VARBINARY(8))).isEqualTo("VARBINARY(16)");
        assertThat(refusal("tx", DataTypes.VARCHAR(65535))).isEqualTo("STRING");
        assertThat(refusal("e", DataTypes.VARCHAR(2))).isEqualTo("STRING");
        assertThat(refusal("c", DataTypes.VARCHAR(4))).isNull();
    }

    private static String refusal(String column, DataType type) {
        return TypeMapping.cannotHold("d.t", TABLE.column(column), type.getLogicalType());
    }
}
