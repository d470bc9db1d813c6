package io.tiflink.tidb.write;

import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.meta.FieldType;
import io.tiflink.tidb.table.ColumnKind;
import io.tiflink.tidb.types.MysqlType;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.List;

/**
 * Checks a row's values against its TiDB table before anything of it is written, as TiDB's strict
 * SQL mode does: NOT NULL, string and binary lengths, integer, decimal, float, year, bit, date,
 * datetime and timestamp ranges. Values are brought to their {@link ColumnKind} classes (an {@code
 * Integer} for an INT column becomes a {@code Long}; a {@code Double} for an integer column is
 * rounded half to even, as TiDB rounds floating-point values). Every error names the table and
 * column ({@link RowRejectedException}).
 */
final class RowChecker {
    /** TiDB's default {@code txn-entry-size-limit}: no key-value entry may be larger. */
    static final int MAX_ENTRY_BYTES = 6 << 20;

    private static final Instant MIN_TIMESTAMP = Instant.parse("1970-01-01T00:00:01Z");
    private static final Instant MAX_TIMESTAMP = Instant.parse("2038-01-19T03:14:07.999999Z");
    private static final BigInteger MAX_UINT64 =
            BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
    private static final BigInteger TWO_TO_63 = BigInteger.ONE.shiftLeft(63);

    /** The last second TiDB's DATETIME holds. */
    private static final LocalDateTime LAST_SECOND = LocalDateTime.of(9999, 12, 31, 23, 59, 59);

    /** What TiDB cuts off past a CHAR or VARCHAR length without an error. */
    private static final String TRAILING_WHITESPACE = " \t\n\r";

    private final String table;
    private final List<ColumnInfo> columns;
    private final ColumnKind[] kinds;

    RowChecker(String table, List<ColumnInfo> columns) {
        this.table = table;
        this.columns = columns;
        this.kinds = new ColumnKind[columns.size()];
        for (int i = 0; i < kinds.length; i++) {
            kinds[i] = ColumnKind.of(columns.get(i));
        }
    }

    /** Brings the value of column {@code offset} to its kind's class and checks its range. */
    Object check(int offset, Object v) {
        if (v == null) {
            return null;
        }
        ColumnInfo c = columns.get(offset);
        try {
            return checked(c, kinds[offset], v);
        } catch (ClassCastException | NumberFormatException | ArithmeticException e) {
            throw error(
                    c,
                    "cannot take a "
                            + v.getClass().getSimpleName()
                            + " value "
                            + v
                            + " ("
                            + e.getMessage()
                            + ")");
        }
    }

    /** Fails if a NOT NULL column is null. */
    void checkNotNull(int offset, Object v) {
        ColumnInfo c = columns.get(offset);
        if (v == null && c.type.isNotNull()) {
            throw new RowRejectedException(
                    "column '" + c.name() + "' of TiDB table " + table + " is NOT NULL");
        }
    }

    RowRejectedException error(ColumnInfo c, String what) {
        return new RowRejectedException(
                "column '"
                        + c.name()
                        + "' ("
                        + c.type.sqlName()
                        + ") of TiDB table "
                        + table
                        + ": "
                        + what);
    }

    private Object checked(ColumnInfo c, ColumnKind kind, Object v) {
        FieldType t = c.type;
        switch (kind) {
            case INT:
                {
                    long l = integer(v);
                    intRange(c, l);
                    return l;
                }
            case YEAR:
                {
                    long y = integer(v);
                    if (y != 0 && (y < 1901 || y > 2155)) {
                        throw error(c, "year " + y + " out of range [1901, 2155]");
                    }
                    return y;
                }
            case BIT:
                {
                    long bits = integer(v);
                    if (t.flen < 64 && (bits >>> Math.max(t.flen, 1)) != 0) {
                        throw error(c, "value " + bits + " has more than " + t.flen + " bits");
                    }
                    return bits;
                }
            case UINT64:
                {
                    BigInteger b =
                            v instanceof BigInteger
                                    ? (BigInteger) v
                                    : v instanceof BigDecimal
                                            ? ((BigDecimal) v).toBigIntegerExact()
                                            : v instanceof Double || v instanceof Float
                                                    ? rounded((Number) v)
                                                    : BigInteger.valueOf(((Number) v).longValue());
                    if (b.signum() < 0 || b.compareTo(MAX_UINT64) > 0) {
                        throw error(c, "value " + b + " out of range [0, " + MAX_UINT64 + "]");
                    }
                    return b;
                }
            case FLOAT:
                return (float) floating(c, ((Number) v).doubleValue());
            case DOUBLE:
                return floating(c, ((Number) v).doubleValue());
            case DECIMAL:
                {
                    BigDecimal d =
                            v instanceof BigDecimal ? (BigDecimal) v : new BigDecimal(v.toString());
                    int scale = Math.max(t.decimal, 0);
                    BigDecimal rounded = d.setScale(scale, RoundingMode.HALF_UP);
                    int intDigits = rounded.precision() - rounded.scale();
                    if (t.flen > 0 && intDigits > t.flen - scale) {
                        throw error(
                                c,
                                "value "
                                        + d.toPlainString()
                                        + " has more than "
                                        + (t.flen - scale)
                                        + " digits before the point");
                    }
                    return rounded;
                }
            case STRING:
            case ENUM:
            case SET:
            case JSON:
                {
                    String s =
                            v instanceof byte[]
                                    ? new String((byte[]) v, StandardCharsets.UTF_8)
                                    : (String) v;
                    return kind == ColumnKind.STRING ? sized(c, s) : s;
                }
            case BYTES:
                {
                    byte[] b =
                            v instanceof String
                                    ? ((String) v).getBytes(StandardCharsets.UTF_8)
                                    : (byte[]) v;
                    long max = maxBytes(t);
                    if (b.length > max) {
                        throw error(c, b.length + " bytes, more than " + max);
                    }
                    return b;
                }
            case DATE:
                {
                    LocalDate d =
                            v instanceof LocalDateTime
                                    ? ((LocalDateTime) v).toLocalDate()
                                    : (LocalDate) v;
                    if (d.getYear() < 0 || d.getYear() > 9999) {
                        throw error(c, "date " + d + " out of range [0000-01-01, 9999-12-31]");
                    }
                    return d;
                }
            case DATETIME:
                {
                    LocalDateTime dt =
                            v instanceof LocalDate
                                    ? ((LocalDate) v).atStartOfDay()
                                    : (LocalDateTime) v;
                    // Its fraction is rounded to the column's digits when stored: not past 9999.
                    int fsp = Math.max(0, Math.min(6, t.decimal));
                    long halfUnit = 5 * (long) Math.pow(10, 8 - fsp);
                    LocalDateTime max = LAST_SECOND.plusNanos(1_000_000_000L - halfUnit - 1);
                    if (dt.getYear() < 0 || dt.isAfter(max)) {
                        throw error(
                                c,
                                "datetime "
                                        + dt
                                        + " out of range [0000-01-01 00:00:00, 9999-12-31 23:59:59"
                                        + (fsp > 0 ? "." + "9".repeat(fsp) : "")
                                        + "]");
                    }
                    return dt;
                }
            case TIMESTAMP:
                {
                    Instant i = (Instant) v;
                    if (i.isBefore(MIN_TIMESTAMP) || i.isAfter(MAX_TIMESTAMP)) {
                        throw error(
                                c,
                                "timestamp "
                                        + i
                                        + " out of range ["
                                        + MIN_TIMESTAMP
                                        + ", 2038-01-19T03:14:07Z]");
                    }
                    return i;
                }
            case DURATION:
                return (Duration) v;
            default:
                throw error(c, "unsupported type");
        }
    }

    private static long integer(Object v) {
        if (v instanceof BigInteger) {
            return ((BigInteger) v).longValueExact();
        }
        if (v instanceof BigDecimal) {
            return ((BigDecimal) v).longValueExact();
        }
        if (v instanceof Boolean) {
            return (Boolean) v ? 1 : 0;
        }
        Number n = (Number) v;
        if (n instanceof Double || n instanceof Float) {
            BigInteger r = rounded(n);
            // TiDB's ConvertFloatToInt takes 2^63, the double nearest 2^63 - 1, as 2^63 - 1.
            return r.equals(TWO_TO_63) ? Long.MAX_VALUE : r.longValueExact();
        }
        return n.longValue();
    }

    /**
     * A floating-point value rounded half to even to an integer, exactly, as TiDB's {@code
     * RoundFloat} rounds it into an integer column.
     *
     * @throws NumberFormatException for NaN and the infinities
     */
    private static BigInteger rounded(Number n) {
        return new BigDecimal(Math.rint(n.doubleValue())).toBigInteger();
    }

    /**
     * A floating-point value as TiDB's {@code ProduceFloatWithSpecifiedTp} makes it for a FLOAT or
     * DOUBLE column: NaN and the infinities refused; with {@code (M,D)} rounded to D digits after
     * the point and refused past M - D digits before it; refused if negative for an unsigned
     * column, or beyond FLOAT's range for a FLOAT column.
     */
    private double floating(ColumnInfo c, double f) {
        FieldType t = c.type;
        if (Double.isNaN(f) || Double.isInfinite(f)) {
            throw error(c, "value " + f + " out of range");
        }
        if (t.flen != MysqlType.UNSPECIFIED_LENGTH && t.decimal != MysqlType.UNSPECIFIED_LENGTH) {
            double given = f;
            double shift = Math.pow(10, t.decimal);
            if (!Double.isInfinite(f * shift)) {
                f = Math.rint(f * shift) / shift;
            }
            double max = Math.pow(10, t.flen - t.decimal) - 1 / shift;
            if (f > max || f < -max) {
                throw error(
                        c,
                        "value "
                                + given
                                + " has more than "
                                + (t.flen - t.decimal)
                                + " digits before the point");
            }
        }
        if (t.isUnsigned() && f < 0) {
            throw error(c, "negative value " + f + " for an unsigned column");
        }
        if (t.tp == MysqlType.FLOAT && Math.abs(f) > Float.MAX_VALUE) {
            throw error(
                    c,
                    "value "
                            + f
                            + " out of range ["
                            + -Float.MAX_VALUE
                            + ", "
                            + Float.MAX_VALUE
                            + "]");
        }
        return f;
    }

    private void intRange(ColumnInfo c, long l) {
        long[] range = c.type.intRange();
        if (range != null && (l < range[0] || l > range[1])) {
            throw error(c, "value " + l + " out of range [" + range[0] + ", " + range[1] + "]");
        }
    }

    /**
     * The text of a CHAR, VARCHAR or TEXT column, refused past the column's length; as TiDB's
     * {@code ProduceStrWithSpecifiedTp} does, whitespace past a CHAR or VARCHAR length is cut off
     * (TiDB notes it, but does not refuse it even in strict mode).
     */
    private String sized(ColumnInfo c, String s) {
        FieldType t = c.type;
        if (t.tp == MysqlType.STRING || t.tp == MysqlType.VARCHAR || t.tp == MysqlType.VAR_STRING) {
            int chars = s.codePointCount(0, s.length());
            if (t.flen >= 0 && chars > t.flen) {
                String kept = s.substring(0, s.offsetByCodePoints(0, t.flen));
                if (t.tp != MysqlType.VAR_STRING && isTrailingWhitespace(s, kept.length())) {
                    return kept;
                }
                throw error(
                        c,
                        "'"
                                + abbreviate(s)
                                + "' has "
                                + chars
                                + " characters, more than "
                                + t.flen);
            }
            return s;
        }
        long max = maxBytes(t);
        long bytes = s.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > max) {
            throw error(c, "text of " + bytes + " bytes, more than " + max);
        }
        return s;
    }

    private static boolean isTrailingWhitespace(String s, int from) {
        for (int i = from; i < s.length(); i++) {
            if (TRAILING_WHITESPACE.indexOf(s.charAt(i)) < 0) {
                return false;
            }
        }
        return true;
    }

    /** The most bytes a binary or text column holds. */
    private static long maxBytes(FieldType t) {
        switch (t.tp) {
            case MysqlType.TINY_BLOB:
                return 255;
            case MysqlType.BLOB:
                return 65_535;
            case MysqlType.MEDIUM_BLOB:
                return 16_777_215;
            case MysqlType.LONG_BLOB:
                return 4_294_967_295L;
            default:
                return t.flen >= 0 ? t.flen : Long.MAX_VALUE;
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }
}
