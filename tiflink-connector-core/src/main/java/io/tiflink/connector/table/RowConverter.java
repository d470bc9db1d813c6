package io.tiflink.connector.table;

import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.table.ColumnKind;

import org.apache.flink.annotation.Internal;
import org.apache.flink.table.data.DecimalData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.types.logical.DecimalType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.RowType;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.function.Function;

/**
 * Converts between the values of a TiDB table's columns ({@link ColumnKind} classes) and the
 * internal values of a Flink row type, column by column, matched by name: TiDB to Flink for the
 * source, Flink to TiDB for the sink. Built once per schema; every mismatch (a Flink column the
 * table lacks, a type that cannot hold the column) is reported when it is built, naming the table
 * and column. Also the lookups' conversion of keys and rows.
 */
@Internal
public final class RowConverter {
    private final int width;
    private final int[] offsets;
    private final Function<Object, Object>[] converters;
    private final Function<Object, Object>[] reverse;
    private final RowData.FieldGetter[] getters;

    @SuppressWarnings("unchecked")
    public RowConverter(String qualifiedTable, TableInfo table, RowType rowType) {
        int n = rowType.getFieldCount();
        this.width = table.columns.size();
        this.offsets = new int[n];
        this.converters = new Function[n];
        this.reverse = new Function[n];
        this.getters = new RowData.FieldGetter[n];
        for (int i = 0; i < n; i++) {
            String name = rowType.getFieldNames().get(i);
            ColumnInfo column = table.column(name);
            if (column == null) {
                throw new IllegalArgumentException(
                        "column '"
                                + name
                                + "' does not exist in TiDB table "
                                + qualifiedTable
                                + "; it has "
                                + columnNames(table));
            }
            offsets[i] = column.offset;
            Conversion c =
                    conversion(qualifiedTable, column, ColumnKind.of(column), rowType.getTypeAt(i));
            converters[i] = c.toFlink;
            reverse[i] = c.toTiDB;
            getters[i] = RowData.createFieldGetter(rowType.getTypeAt(i), i);
        }
    }

    /**
     * Checks at planning that the table can be read as {@code rowType}: every column exists and
     * converts, and every Flink type holds every value of its column ({@link TypeMapping}).
     *
     * @throws IllegalArgumentException naming the table, the column and both types
     */
    public static void checkRead(String qualifiedTable, TableInfo table, RowType rowType) {
        new RowConverter(qualifiedTable, table, rowType);
        for (RowType.RowField f : rowType.getFields()) {
            ColumnInfo column = table.column(f.getName());
            LogicalType type = f.getType().copy(true);
            String wanted = TypeMapping.cannotHold(qualifiedTable, column, type);
            if (wanted != null) {
                throw new IllegalArgumentException(
                        "column '"
                                + column.name()
                                + "' of TiDB table "
                                + qualifiedTable
                                + " is "
                                + column.type.sqlName()
                                + ", which Flink type "
                                + type.asSummaryString()
                                + " cannot hold: declare it "
                                + wanted
                                + " or wider");
            }
        }
    }

    /** The Flink internal values of {@code row}'s columns, in the row type's order. */
    public Object[] toInternal(Object[] row) {
        Object[] out = new Object[offsets.length];
        for (int i = 0; i < offsets.length; i++) {
            Object v = row[offsets[i]];
            out[i] = v == null ? null : converters[i].apply(v);
        }
        return out;
    }

    /**
     * The TiDB row of a Flink row: its fields in {@link ColumnKind} classes at their columns'
     * offsets; columns the Flink row type lacks are null (see {@link #coveredColumns()}).
     */
    public Object[] toTiDB(RowData row) {
        Object[] out = new Object[width];
        for (int i = 0; i < offsets.length; i++) {
            Object v = getters[i].getFieldOrNull(row);
            out[offsets[i]] = v == null ? null : reverse[i].apply(v);
        }
        return out;
    }

    /** Which of the table's columns (by offset) the Flink row type has. */
    public boolean[] coveredColumns() {
        boolean[] covered = new boolean[width];
        for (int o : offsets) {
            covered[o] = true;
        }
        return covered;
    }

    /** Which of the table's columns (by offset) the Flink row type's {@code fields} are. */
    public boolean[] coveredColumns(int[] fields) {
        boolean[] covered = new boolean[width];
        for (int f : fields) {
            covered[offsets[f]] = true;
        }
        return covered;
    }

    private static String columnNames(TableInfo table) {
        StringBuilder sb = new StringBuilder();
        for (ColumnInfo c : table.columns) {
            sb.append(sb.length() == 0 ? "" : ", ").append(c.name());
        }
        return sb.toString();
    }

    /** Both directions between a TiDB column and a Flink type. */
    private static final class Conversion {
        final Function<Object, Object> toFlink;
        final Function<Object, Object> toTiDB;

        Conversion(Function<Object, Object> toFlink, Function<Object, Object> toTiDB) {
            this.toFlink = toFlink;
            this.toTiDB = toTiDB;
        }
    }

    private static Conversion conversion(
            String table, ColumnInfo column, ColumnKind kind, LogicalType type) {
        Function<Object, Object> f = byType(kind, type, column);
        Function<Object, Object> r = f == null ? null : reverseByType(kind, type);
        if (f == null || r == null) {
            throw new IllegalArgumentException(
                    "column '"
                            + column.name()
                            + "' of TiDB table "
                            + table
                            + " has type "
                            + column.type.sqlName()
                            + ", which does not convert to or from Flink type "
                            + type.asSummaryString());
        }
        Function<Object, Object> toFlink =
                v -> {
                    try {
                        return f.apply(v);
                    } catch (ArithmeticException | IllegalArgumentException e) {
                        throw new IllegalArgumentException(
                                "value "
                                        + v
                                        + " of column '"
                                        + column.name()
                                        + "' of TiDB table "
                                        + table
                                        + " does not fit Flink type "
                                        + type.asSummaryString()
                                        + ": "
                                        + e.getMessage(),
                                e);
                    }
                };
        Function<Object, Object> toTiDB =
                v -> {
                    try {
                        return r.apply(v);
                    } catch (ArithmeticException
                            | IllegalArgumentException
                            | DateTimeParseException e) {
                        throw new IllegalArgumentException(
                                "value "
                                        + v
                                        + " does not fit column '"
                                        + column.name()
                                        + "' ("
                                        + column.type.sqlName()
                                        + ") of TiDB table "
                                        + table
                                        + ": "
                                        + e.getMessage(),
                                e);
                    }
                };
        return new Conversion(toFlink, toTiDB);
    }

    private static Function<Object, Object> byType(
            ColumnKind kind, LogicalType type, ColumnInfo column) {
        switch (type.getTypeRoot()) {
            case BOOLEAN:
                return kind == ColumnKind.BIT || kind == ColumnKind.INT
                        ? v -> ((Long) v) != 0
                        : null;
            case TINYINT:
                return integral(
                        kind,
                        v -> (byte) Math.toIntExact(check(v, Byte.MIN_VALUE, Byte.MAX_VALUE)));
            case SMALLINT:
                return integral(
                        kind,
                        v -> (short) Math.toIntExact(check(v, Short.MIN_VALUE, Short.MAX_VALUE)));
            case INTEGER:
                return integral(kind, v -> Math.toIntExact(v));
            case BIGINT:
                if (kind == ColumnKind.UINT64) {
                    return v -> ((BigInteger) v).longValueExact();
                }
                return integral(kind, v -> v);
            case FLOAT:
                return kind == ColumnKind.FLOAT ? v -> v : null;
            case DOUBLE:
                if (kind == ColumnKind.DOUBLE) {
                    return v -> v;
                }
                return kind == ColumnKind.FLOAT ? v -> ((Float) v).doubleValue() : null;
            case DECIMAL:
                {
                    DecimalType d = (DecimalType) type;
                    Function<Object, BigDecimal> big = bigDecimal(kind);
                    return big == null
                            ? null
                            : v -> {
                                DecimalData data =
                                        DecimalData.fromBigDecimal(
                                                big.apply(v), d.getPrecision(), d.getScale());
                                if (data == null) {
                                    throw new ArithmeticException(
                                            "more than " + d.getPrecision() + " digits");
                                }
                                return data;
                            };
                }
            case CHAR:
            case VARCHAR:
                return string(kind);
            case BINARY:
            case VARBINARY:
                if (kind == ColumnKind.BYTES) {
                    return v -> v;
                }
                if (kind == ColumnKind.BIT) {
                    int length = Math.max(1, (column.type.flen + 7) / 8);
                    return v -> bitBytes((Long) v, length);
                }
                return kind == ColumnKind.STRING
                        ? v -> ((String) v).getBytes(StandardCharsets.UTF_8)
                        : null;
            case DATE:
                return kind == ColumnKind.DATE ? v -> (int) ((LocalDate) v).toEpochDay() : null;
            case TIME_WITHOUT_TIME_ZONE:
                return kind == ColumnKind.DURATION ? v -> timeOfDay((Duration) v) : null;
            case TIMESTAMP_WITHOUT_TIME_ZONE:
                if (kind == ColumnKind.DATETIME) {
                    return v -> TimestampData.fromLocalDateTime((LocalDateTime) v);
                }
                // TiDB keeps TIMESTAMP in UTC.
                return kind == ColumnKind.TIMESTAMP
                        ? v ->
                                TimestampData.fromLocalDateTime(
                                        LocalDateTime.ofInstant((Instant) v, ZoneOffset.UTC))
                        : null;
            case TIMESTAMP_WITH_LOCAL_TIME_ZONE:
                if (kind == ColumnKind.TIMESTAMP) {
                    return v -> TimestampData.fromInstant((Instant) v);
                }
                return kind == ColumnKind.DATETIME
                        ? v ->
                                TimestampData.fromInstant(
                                        ((LocalDateTime) v).toInstant(ZoneOffset.UTC))
                        : null;
            default:
                return null;
        }
    }

    private static Function<Object, Object> integral(ColumnKind kind, Function<Long, Object> f) {
        if (kind == ColumnKind.INT || kind == ColumnKind.YEAR || kind == ColumnKind.BIT) {
            return v -> f.apply((Long) v);
        }
        if (kind == ColumnKind.UINT64) {
            return v -> f.apply(((BigInteger) v).longValueExact());
        }
        return null;
    }

    private static long check(long v, long min, long max) {
        if (v < min || v > max) {
            throw new ArithmeticException("out of range [" + min + ", " + max + "]");
        }
        return v;
    }

    private static Function<Object, BigDecimal> bigDecimal(ColumnKind kind) {
        switch (kind) {
            case DECIMAL:
                return v -> (BigDecimal) v;
            case INT:
            case YEAR:
                return v -> BigDecimal.valueOf((Long) v);
            case UINT64:
                return v -> new BigDecimal((BigInteger) v);
            default:
                return null;
        }
    }

    private static Function<Object, Object> string(ColumnKind kind) {
        switch (kind) {
            case BYTES:
                return v -> StringData.fromBytes((byte[]) v);
            case DECIMAL:
                return v -> StringData.fromString(((BigDecimal) v).toPlainString());
            default:
                return v -> StringData.fromString(v.toString());
        }
    }

    /** Flink's internal value of {@code type} to the class of {@code kind}; null if unsupported. */
    private static Function<Object, Object> reverseByType(ColumnKind kind, LogicalType type) {
        switch (type.getTypeRoot()) {
            case BOOLEAN:
                return v -> (Boolean) v ? 1L : 0L;
            case TINYINT:
            case SMALLINT:
            case INTEGER:
            case BIGINT:
                return kind == ColumnKind.UINT64
                        ? v -> BigInteger.valueOf(((Number) v).longValue())
                        : v -> ((Number) v).longValue();
            case FLOAT:
                return v -> v;
            case DOUBLE:
                return kind == ColumnKind.FLOAT ? v -> ((Double) v).floatValue() : v -> v;
            case DECIMAL:
                switch (kind) {
                    case DECIMAL:
                        return v -> ((DecimalData) v).toBigDecimal();
                    case UINT64:
                        return v -> ((DecimalData) v).toBigDecimal().toBigIntegerExact();
                    default:
                        return v -> ((DecimalData) v).toBigDecimal().longValueExact();
                }
            case CHAR:
            case VARCHAR:
                return kind == ColumnKind.BYTES
                        ? v -> ((StringData) v).toBytes()
                        : v -> parse(kind, v.toString());
            case BINARY:
            case VARBINARY:
                if (kind == ColumnKind.BIT) {
                    return v -> {
                        long bits = 0;
                        for (byte b : (byte[]) v) {
                            bits = (bits << 8) | (b & 0xFF);
                        }
                        return bits;
                    };
                }
                return kind == ColumnKind.STRING
                        ? v -> new String((byte[]) v, StandardCharsets.UTF_8)
                        : v -> v;
            case DATE:
                return v -> LocalDate.ofEpochDay((Integer) v);
            case TIME_WITHOUT_TIME_ZONE:
                return v -> Duration.ofMillis((Integer) v);
            case TIMESTAMP_WITHOUT_TIME_ZONE:
                return kind == ColumnKind.TIMESTAMP
                        ? v -> ((TimestampData) v).toLocalDateTime().toInstant(ZoneOffset.UTC)
                        : v -> ((TimestampData) v).toLocalDateTime();
            case TIMESTAMP_WITH_LOCAL_TIME_ZONE:
                return kind == ColumnKind.TIMESTAMP
                        ? v -> ((TimestampData) v).toInstant()
                        : v ->
                                LocalDateTime.ofInstant(
                                        ((TimestampData) v).toInstant(), ZoneOffset.UTC);
            default:
                return null;
        }
    }

    /** A string for a column of any kind, in the form the TiDB-to-Flink direction prints. */
    private static Object parse(ColumnKind kind, String s) {
        switch (kind) {
            case INT:
            case YEAR:
            case BIT:
                return Long.parseLong(s.trim());
            case UINT64:
                return new BigInteger(s.trim());
            case FLOAT:
                return Float.parseFloat(s.trim());
            case DOUBLE:
                return Double.parseDouble(s.trim());
            case DECIMAL:
                return new BigDecimal(s.trim());
            case DATE:
                return LocalDate.parse(s.trim());
            case DATETIME:
                return LocalDateTime.parse(s.trim().replace(' ', 'T'));
            case TIMESTAMP:
                return Instant.parse(s.trim());
            case DURATION:
                return Duration.parse(s.trim());
            default:
                return s;
        }
    }

    private static int timeOfDay(Duration d) {
        if (d.isNegative() || d.compareTo(Duration.ofDays(1)) >= 0) {
            throw new ArithmeticException("Flink's TIME holds 00:00:00 to 23:59:59.999 only");
        }
        return (int) d.toMillis();
    }

    private static byte[] bitBytes(long bits, int length) {
        byte[] b = new byte[length];
        for (int i = length - 1; i >= 0; i--) {
            b[i] = (byte) bits;
            bits >>>= 8;
        }
        return b;
    }
}
