package io.tiflink.catalog;

import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.meta.FieldType;
import io.tiflink.tidb.types.MysqlType;

import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.catalog.exceptions.CatalogException;
import org.apache.flink.table.types.DataType;

/**
 * TiDB column types as Flink types (the table in docs/catalog.md). Unsigned types widen so every
 * value fits; lossy cases: DECIMAL over 38 digits becomes STRING, TIME is limited to Flink's
 * 00:00:00..23:59:59.999, and the zero date reads as NULL.
 */
final class TypeMapping {
    private TypeMapping() {}

    static DataType toFlink(String table, ColumnInfo column) {
        DataType t = base(table, column);
        return column.type.isNotNull() ? t.notNull() : t.nullable();
    }

    private static DataType base(String table, ColumnInfo column) {
        FieldType ft = column.type;
        boolean unsigned = ft.isUnsigned();
        switch (ft.tp) {
            case MysqlType.TINY:
                return unsigned ? DataTypes.SMALLINT() : DataTypes.TINYINT();
            case MysqlType.SHORT:
                return unsigned ? DataTypes.INT() : DataTypes.SMALLINT();
            case MysqlType.INT24:
                return DataTypes.INT();
            case MysqlType.LONG:
                return unsigned ? DataTypes.BIGINT() : DataTypes.INT();
            case MysqlType.LONGLONG:
                return unsigned ? DataTypes.DECIMAL(20, 0) : DataTypes.BIGINT();
            case MysqlType.FLOAT:
                return DataTypes.FLOAT();
            case MysqlType.DOUBLE:
                return DataTypes.DOUBLE();
            case MysqlType.NEWDECIMAL:
                {
                    int p = ft.flen > 0 ? ft.flen : 10;
                    int s = Math.max(ft.decimal, 0);
                    return p <= 38 ? DataTypes.DECIMAL(p, s) : DataTypes.STRING();
                }
            case MysqlType.YEAR:
                return DataTypes.INT();
            case MysqlType.DATE:
            case MysqlType.NEWDATE:
                return DataTypes.DATE();
            case MysqlType.DATETIME:
                return DataTypes.TIMESTAMP(fsp(ft));
            case MysqlType.TIMESTAMP:
                return DataTypes.TIMESTAMP_LTZ(fsp(ft));
            case MysqlType.DURATION:
                return DataTypes.TIME(fsp(ft));
            case MysqlType.BIT:
                return ft.flen == 1
                        ? DataTypes.BOOLEAN()
                        : DataTypes.BINARY(Math.max(1, (ft.flen + 7) / 8));
            case MysqlType.ENUM:
            case MysqlType.SET:
            case MysqlType.JSON:
                return DataTypes.STRING();
            case MysqlType.STRING:
                if (ft.flen > 0) {
                    return ft.isBinaryString()
                            ? DataTypes.BINARY(ft.flen)
                            : DataTypes.CHAR(ft.flen);
                }
                return ft.isBinaryString() ? DataTypes.BYTES() : DataTypes.STRING();
            case MysqlType.VARCHAR:
            case MysqlType.VAR_STRING:
                if (ft.flen > 0) {
                    return ft.isBinaryString()
                            ? DataTypes.VARBINARY(ft.flen)
                            : DataTypes.VARCHAR(ft.flen);
                }
                return ft.isBinaryString() ? DataTypes.BYTES() : DataTypes.STRING();
            case MysqlType.TINY_BLOB:
            case MysqlType.BLOB:
            case MysqlType.MEDIUM_BLOB:
            case MysqlType.LONG_BLOB:
                return ft.isBinaryString() ? DataTypes.BYTES() : DataTypes.STRING();
            default:
                throw new CatalogException(
                        "table '"
                                + table
                                + "': column '"
                                + column.name()
                                + "' has type "
                                + MysqlType.name(ft.tp)
                                + ", which has no Flink type in TiFlink");
        }
    }

    private static int fsp(FieldType ft) {
        return Math.max(0, Math.min(ft.decimal, 6));
    }
}
