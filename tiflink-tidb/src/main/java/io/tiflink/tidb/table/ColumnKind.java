package io.tiflink.tidb.table;

import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.meta.FieldType;
import io.tiflink.tidb.types.MysqlType;

/**
 * The Java representation of a column's values, chosen from its TiDB type. Decoders return and
 * encoders accept exactly these classes.
 */
public enum ColumnKind {
    /** Signed tinyint..bigint, and unsigned tinyint..int: {@link Long}. */
    INT,
    /** Unsigned bigint: {@link java.math.BigInteger} (0 .. 2^64-1). */
    UINT64,
    /** Year: {@link Long} (0 or 1901..2155). */
    YEAR,
    /** Float: {@link Float}. */
    FLOAT,
    /** Double: {@link Double}. */
    DOUBLE,
    /** Decimal: {@link java.math.BigDecimal}. */
    DECIMAL,
    /** Char/varchar/text with a non-binary charset: {@link String}. */
    STRING,
    /** Binary/varbinary/blob (charset binary): {@code byte[]}. */
    BYTES,
    /** Date: {@link java.time.LocalDate}; the zero date is null. */
    DATE,
    /** Datetime: {@link java.time.LocalDateTime}, no time zone; the zero date is null. */
    DATETIME,
    /** Timestamp: {@link java.time.Instant}; TiDB stores it in UTC. */
    TIMESTAMP,
    /** Time: {@link java.time.Duration}, -838:59:59 .. 838:59:59. */
    DURATION,
    /** Bit(n): {@link Long}, the bits as an unsigned number. */
    BIT,
    /** Enum: {@link String}, the element ("" for the invalid value 0). */
    ENUM,
    /** Set: {@link String}, the elements comma-separated in definition order. */
    SET,
    /** Json: {@link String}, JSON text as TiDB prints it. */
    JSON;

    /**
     * The kind of a column.
     *
     * @throws IllegalArgumentException naming the column and type if TiFlink cannot handle it
     */
    public static ColumnKind of(ColumnInfo column) {
        FieldType t = column.type;
        switch (t.tp) {
            case MysqlType.TINY:
            case MysqlType.SHORT:
            case MysqlType.INT24:
            case MysqlType.LONG:
                return INT;
            case MysqlType.LONGLONG:
                return t.isUnsigned() ? UINT64 : INT;
            case MysqlType.YEAR:
                return YEAR;
            case MysqlType.FLOAT:
                return FLOAT;
            case MysqlType.DOUBLE:
                return DOUBLE;
            case MysqlType.NEWDECIMAL:
                return DECIMAL;
            case MysqlType.VARCHAR:
            case MysqlType.VAR_STRING:
            case MysqlType.STRING:
            case MysqlType.TINY_BLOB:
            case MysqlType.MEDIUM_BLOB:
            case MysqlType.LONG_BLOB:
            case MysqlType.BLOB:
                return t.isBinaryString() ? BYTES : STRING;
            case MysqlType.DATE:
            case MysqlType.NEWDATE:
                return DATE;
            case MysqlType.DATETIME:
                return DATETIME;
            case MysqlType.TIMESTAMP:
                return TIMESTAMP;
            case MysqlType.DURATION:
                return DURATION;
            case MysqlType.BIT:
                return BIT;
            case MysqlType.ENUM:
                return ENUM;
            case MysqlType.SET:
                return SET;
            case MysqlType.JSON:
                return JSON;
            default:
                throw new IllegalArgumentException(
                        "column '"
                                + column.name()
                                + "' has type "
                                + MysqlType.name(t.tp)
                                + ", which TiFlink does not support");
        }
    }
}
