package io.tiflink.connector.table;

import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.meta.FieldType;
import io.tiflink.tidb.types.MysqlType;

import org.apache.flink.annotation.Internal;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.catalog.exceptions.CatalogException;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.BinaryType;
import org.apache.flink.table.types.logical.CharType;
import org.apache.flink.table.types.logical.DecimalType;
import org.apache.flink.table.types.logical.LocalZonedTimestampType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeRoot;
import org.apache.flink.table.types.logical.TimestampType;
import org.apache.flink.table.types.logical.VarBinaryType;
import org.apache.flink.table.types.logical.VarCharType;

import java.math.BigInteger;

/**
 * TiDB column types as Flink types (the table in docs/catalog.md), and whether a declared Flink
 * type holds every value of a column (the planning check of docs/source.md, "Types"). Unsigned
 * types widen so every value fits; lossy cases: DECIMAL over 38 digits becomes STRING, TIME is
 * limited to Flink's 00:00:00..23:59:59.999, and the zero date reads as NULL.
 */
@Internal
public final class TypeMapping {
    private TypeMapping() {}

    /** The Flink type the catalog gives {@code column} of {@code table}. */
    public static DataType toFlink(String table, ColumnInfo column) {
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

    /**
     * Null if {@code type} holds every value of {@code column} (its catalog type, or a wider one:
     * more range, digits, length or fractional seconds); else the catalog type to declare instead.
     * Only types {@link RowConverter} converts at all are asked about.
     */
    static String cannotHold(String table, ColumnInfo column, LogicalType type) {
        LogicalType natural = base(table, column).getLogicalType();
        return holds(column, natural, type) ? null : natural.asSummaryString();
    }

    private static boolean holds(ColumnInfo column, LogicalType natural, LogicalType type) {
        FieldType ft = column.type;
        BigInteger[] range = integerRange(ft);
        switch (type.getTypeRoot()) {
            case BOOLEAN:
                // TiDB's BOOL is tinyint(1); bit(1) holds 0 and 1.
                return (ft.tp == MysqlType.TINY && ft.flen == 1)
                        || (ft.tp == MysqlType.BIT && ft.flen == 1);
            case TINYINT:
                return range != null && within(range, Byte.MIN_VALUE, Byte.MAX_VALUE);
            case SMALLINT:
                return range != null && within(range, Short.MIN_VALUE, Short.MAX_VALUE);
            case INTEGER:
                return range != null && within(range, Integer.MIN_VALUE, Integer.MAX_VALUE);
            case BIGINT:
                return range != null && within(range, Long.MIN_VALUE, Long.MAX_VALUE);
            case DECIMAL:
                {
                    DecimalType d = (DecimalType) type;
                    if (range != null) {
                        int digits =
                                Math.max(
                                        range[0].abs().toString().length(),
                                        range[1].toString().length());
                        return d.getPrecision() - d.getScale() >= digits;
                    }
                    if (!(natural instanceof DecimalType)) {
                        return false; // over 38 digits: STRING only
                    }
                    DecimalType n = (DecimalType) natural;
                    return d.getScale() >= n.getScale()
                            && d.getPrecision() - d.getScale() >= n.getPrecision() - n.getScale();
                }
            case CHAR:
            case VARCHAR:
                return length(type) == VarCharType.MAX_LENGTH
                        || (isText(natural) && length(type) >= length(natural));
            case BINARY:
            case VARBINARY:
                return length(type) == VarBinaryType.MAX_LENGTH
                        || (isBytes(natural) && length(type) >= length(natural));
            case TIMESTAMP_WITHOUT_TIME_ZONE:
            case TIMESTAMP_WITH_LOCAL_TIME_ZONE:
                return precision(type) >= precision(natural);
            default:
                // FLOAT, DOUBLE, DATE, TIME: RowConverter takes them from their own kinds only
                // (TIME is lossy as the catalog's is, see the class comment).
                return true;
        }
    }

    /** The values of an integer-like column (integers, YEAR, BIT), else null. */
    private static BigInteger[] integerRange(FieldType ft) {
        long[] r = ft.intRange();
        if (r != null) {
            return new BigInteger[] {BigInteger.valueOf(r[0]), BigInteger.valueOf(r[1])};
        }
        switch (ft.tp) {
            case MysqlType.LONGLONG:
                return ft.isUnsigned()
                        ? new BigInteger[] {
                            BigInteger.ZERO, BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE)
                        }
                        : new BigInteger[] {
                            BigInteger.valueOf(Long.MIN_VALUE), BigInteger.valueOf(Long.MAX_VALUE)
                        };
            case MysqlType.YEAR:
                return new BigInteger[] {BigInteger.ZERO, BigInteger.valueOf(2155)};
            case MysqlType.BIT:
                return new BigInteger[] {
                    BigInteger.ZERO,
                    BigInteger.ONE.shiftLeft(Math.max(1, ft.flen)).subtract(BigInteger.ONE)
                };
            default:
                return null;
        }
    }

    private static boolean within(BigInteger[] range, long min, long max) {
        return range[0].compareTo(BigInteger.valueOf(min)) >= 0
                && range[1].compareTo(BigInteger.valueOf(max)) <= 0;
    }

    private static boolean isText(LogicalType t) {
        return t.getTypeRoot() == LogicalTypeRoot.CHAR
                || t.getTypeRoot() == LogicalTypeRoot.VARCHAR;
    }

    private static boolean isBytes(LogicalType t) {
        return t.getTypeRoot() == LogicalTypeRoot.BINARY
                || t.getTypeRoot() == LogicalTypeRoot.VARBINARY;
    }

    private static int length(LogicalType t) {
        if (t instanceof CharType) {
            return ((CharType) t).getLength();
        }
        if (t instanceof VarCharType) {
            return ((VarCharType) t).getLength();
        }
        if (t instanceof BinaryType) {
            return ((BinaryType) t).getLength();
        }
        return ((VarBinaryType) t).getLength();
    }

    /** Fractional digits of a timestamp type; 0 for anything else. */
    private static int precision(LogicalType t) {
        if (t instanceof TimestampType) {
            return ((TimestampType) t).getPrecision();
        }
        return t instanceof LocalZonedTimestampType
                ? ((LocalZonedTimestampType) t).getPrecision()
                : 0;
    }
}
