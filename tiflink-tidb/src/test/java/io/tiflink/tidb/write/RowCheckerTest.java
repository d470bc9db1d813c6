package io.tiflink.tidb.write;

import io.tiflink.tidb.table.TestTables;
import io.tiflink.tidb.types.MysqlType;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What {@link RowChecker} lets through, brought to its column kind's class, and what it refuses as
 * TiDB's strict SQL mode would: integer ranges (signed and unsigned), decimal precision and scale,
 * float and double ranges, string lengths in characters (whitespace past a CHAR or VARCHAR length
 * cut off) and text and binary lengths in bytes, years, bits, dates, datetimes, timestamps, NOT
 * NULL and values of the wrong class. Every refusal names the column, its type and the table.
 */
class RowCheckerTest {
    private static final String UTF8 = "utf8mb4_bin";
    private static final String BINARY = "binary";

    /** A checker of table {@code db.t} whose only column {@code c} has this type. */
    private static RowChecker column(int tp, int flag, int flen, int decimal, String collate) {
        return new RowChecker(
                "db.t",
                TestTables.table(1, "t")
                        .column(1, "c", tp, flag, flen, decimal, collate)
                        .build()
                        .columns);
    }

    private static RowChecker column(int tp) {
        return column(tp, 0, MysqlType.UNSPECIFIED_LENGTH, MysqlType.UNSPECIFIED_LENGTH, null);
    }

    private static RowChecker unsigned(int tp) {
        return column(
                tp,
                MysqlType.UNSIGNED_FLAG,
                MysqlType.UNSPECIFIED_LENGTH,
                MysqlType.UNSPECIFIED_LENGTH,
                null);
    }

    private static RowChecker sized(int tp, int flen, String collate) {
        return column(tp, 0, flen, MysqlType.UNSPECIFIED_LENGTH, collate);
    }

    /** Fails unless the value is refused with an error naming the column, its type and table. */
    private static void refuses(RowChecker checker, Object v, String sqlType, String why) {
        assertThatThrownBy(() -> checker.check(0, v))
                .as("%s into %s", v, sqlType)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("column 'c' (" + sqlType + ") of TiDB table db.t: " + why);
    }

    @Test
    void signedAndUnsignedIntegersWithinTheirTypesRange() {
        int[] types = {MysqlType.TINY, MysqlType.SHORT, MysqlType.INT24, MysqlType.LONG};
        String[] names = {"tinyint", "smallint", "mediumint", "int"};
        for (int i = 0; i < types.length; i++) {
            int bits = 8 * (i + 1);
            long half = 1L << (bits - 1);
            RowChecker signed = column(types[i]);
            assertThat(signed.check(0, -half)).isEqualTo(-half);
            assertThat(signed.check(0, half - 1)).isEqualTo(half - 1);
            String range = " out of range [" + -half + ", " + (half - 1) + "]";
            refuses(signed, -half - 1, names[i], "value " + (-half - 1) + range);
            refuses(signed, half, names[i], "value " + half + range);

            RowChecker unsigned = unsigned(types[i]);
            long max = (1L << bits) - 1;
            assertThat(unsigned.check(0, 0L)).isEqualTo(0L);
            assertThat(unsigned.check(0, max)).isEqualTo(max);
            String urange = " out of range [0, " + max + "]";
            refuses(unsigned, -1L, names[i] + " unsigned", "value -1" + urange);
            refuses(unsigned, max + 1, names[i] + " unsigned", "value " + (max + 1) + urange);
        }
        RowChecker bigint = column(MysqlType.LONGLONG);
        assertThat(bigint.check(0, Long.MIN_VALUE)).isEqualTo(Long.MIN_VALUE);
        assertThat(bigint.check(0, Long.MAX_VALUE)).isEqualTo(Long.MAX_VALUE);
        BigInteger tooBig = BigInteger.valueOf(Long.MAX_VALUE).add(BigInteger.ONE);
        assertThatThrownBy(() -> bigint.check(0, tooBig))
                .hasMessageStartingWith(
                        "column 'c' (bigint) of TiDB table db.t: cannot take a BigInteger value "
                                + tooBig);
    }

    /**
     * Floating-point values are rounded half to even into integer columns, as TiDB's {@code
     * ConvertFloatToInt} rounds them ({@code RoundFloat}, {@code math.RoundToEven}).
     */
    @Test
    void integersAreBroughtToLongAndFloatingPointValuesRoundedHalfToEven() {
        RowChecker c = column(MysqlType.LONG);
        assertThat(c.check(0, 7)).isEqualTo(7L);
        assertThat(c.check(0, (short) -7)).isEqualTo(-7L);
        assertThat(c.check(0, (byte) 7)).isEqualTo(7L);
        assertThat(c.check(0, BigInteger.valueOf(7))).isEqualTo(7L);
        assertThat(c.check(0, new BigDecimal("7"))).isEqualTo(7L);
        assertThat(c.check(0, true)).isEqualTo(1L);
        assertThat(c.check(0, 2.5d)).isEqualTo(2L);
        assertThat(c.check(0, 3.5d)).isEqualTo(4L);
        assertThat(c.check(0, -2.5f)).isEqualTo(-2L);
        assertThat(c.check(0, 2.6d)).isEqualTo(3L);
        assertThat(c.check(0, 2.4d)).isEqualTo(2L);
        assertThatThrownBy(() -> c.check(0, new BigDecimal("7.5")))
                .hasMessageStartingWith("column 'c' (int) of TiDB table db.t: cannot take a");
        RowChecker bigint = column(MysqlType.LONGLONG);
        // 2^63, the double nearest 2^63 - 1, is taken as 2^63 - 1, as TiDB takes it.
        assertThat(bigint.check(0, 0x1p63)).isEqualTo(Long.MAX_VALUE);
        assertThat(bigint.check(0, -0x1p63)).isEqualTo(Long.MIN_VALUE);
        assertThatThrownBy(() -> bigint.check(0, 1e19d))
                .hasMessageStartingWith("column 'c' (bigint) of TiDB table db.t: cannot take a");
    }

    @Test
    void bigintUnsignedTakesEvery64BitValue() {
        RowChecker c = unsigned(MysqlType.LONGLONG);
        BigInteger max = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
        assertThat(c.check(0, 5L)).isEqualTo(BigInteger.valueOf(5));
        assertThat(c.check(0, 5)).isEqualTo(BigInteger.valueOf(5));
        assertThat(c.check(0, max)).isEqualTo(max);
        assertThat(c.check(0, new BigDecimal(max))).isEqualTo(max);
        String range = " out of range [0, " + max + "]";
        refuses(
                c,
                max.add(BigInteger.ONE),
                "bigint unsigned",
                "value " + max.add(BigInteger.ONE) + range);
        refuses(c, -1L, "bigint unsigned", "value -1" + range);
        assertThatThrownBy(() -> c.check(0, new BigDecimal("1.5")))
                .hasMessageStartingWith("column 'c' (bigint unsigned) of TiDB table db.t: cannot");
    }

    @Test
    void decimalsAreRoundedToTheirScaleAndRefusedBeyondTheirPrecision() {
        RowChecker c = column(MysqlType.NEWDECIMAL, 0, 5, 2, null);
        assertThat(c.check(0, new BigDecimal("123.456"))).isEqualTo(new BigDecimal("123.46"));
        assertThat(c.check(0, new BigDecimal("-123.455"))).isEqualTo(new BigDecimal("-123.46"));
        assertThat(c.check(0, new BigDecimal("999.99"))).isEqualTo(new BigDecimal("999.99"));
        assertThat(c.check(0, new BigDecimal("-999.99"))).isEqualTo(new BigDecimal("-999.99"));
        assertThat(c.check(0, 12L)).isEqualTo(new BigDecimal("12.00"));
        assertThat(c.check(0, 0.5d)).isEqualTo(new BigDecimal("0.50"));
        String why = " has more than 3 digits before the point";
        refuses(c, new BigDecimal("1000"), "decimal(5,2)", "value 1000" + why);
        // rounds up to 1000.00
        refuses(c, new BigDecimal("999.995"), "decimal(5,2)", "value 999.995" + why);
        refuses(c, new BigDecimal("-1000.5"), "decimal(5,2)", "value -1000.5" + why);

        RowChecker fraction = column(MysqlType.NEWDECIMAL, 0, 3, 3, null);
        assertThat(fraction.check(0, new BigDecimal("0.999"))).isEqualTo(new BigDecimal("0.999"));
        refuses(
                fraction,
                new BigDecimal("0.9995"),
                "decimal(3,3)",
                "value 0.9995 has more than 0 digits before the point");
    }

    @Test
    void charAndVarcharLengthsCountCharacters() {
        RowChecker varchar = sized(MysqlType.VARCHAR, 4, UTF8);
        String fourChars = "ab€\uD83D\uDE00"; // 4 characters, 9 bytes, 5 UTF-16 units
        assertThat(varchar.check(0, fourChars)).isEqualTo(fourChars);
        assertThat(varchar.check(0, fourChars.getBytes(StandardCharsets.UTF_8)))
                .isEqualTo(fourChars);
        refuses(varchar, "abcde", "varchar(4)", "'abcde' has 5 characters, more than 4");
        refuses(
                varchar,
                "€€€€\uD83D\uDE00",
                "varchar(4)",
                "'€€€€\uD83D\uDE00' has 5 characters, more than 4");
        String long50 = "x".repeat(50);
        refuses(
                varchar,
                long50,
                "varchar(4)",
                "'" + "x".repeat(37) + "...' has 50 characters, more than 4");

        RowChecker chr = sized(MysqlType.STRING, 2, UTF8);
        assertThat(chr.check(0, "é€")).isEqualTo("é€");
        refuses(chr, "abc", "char(2)", "'abc' has 3 characters, more than 2");
    }

    @Test
    void textLengthsCountBytes() {
        RowChecker tiny = sized(MysqlType.TINY_BLOB, MysqlType.UNSPECIFIED_LENGTH, UTF8);
        String bytes255 = "€".repeat(85);
        assertThat(tiny.check(0, bytes255)).isEqualTo(bytes255);
        refuses(tiny, bytes255 + "a", "tinytext", "text of 256 bytes, more than 255");
        RowChecker text = sized(MysqlType.BLOB, MysqlType.UNSPECIFIED_LENGTH, UTF8);
        assertThat(text.check(0, "a".repeat(65_535))).isNotNull();
        refuses(text, "é".repeat(32_768), "text", "text of 65536 bytes, more than 65535");
    }

    @Test
    void binaryLengthsCountBytes() {
        RowChecker varbinary = sized(MysqlType.VARCHAR, 4, BINARY);
        assertThat(varbinary.check(0, new byte[] {1, 2, 3, 4})).isEqualTo(new byte[] {1, 2, 3, 4});
        assertThat(varbinary.check(0, "éé")).isEqualTo("éé".getBytes(StandardCharsets.UTF_8));
        refuses(varbinary, new byte[5], "varbinary(4)", "5 bytes, more than 4");
        refuses(varbinary, "ééé", "varbinary(4)", "6 bytes, more than 4");

        RowChecker binary = sized(MysqlType.STRING, 2, BINARY);
        refuses(binary, new byte[3], "binary(2)", "3 bytes, more than 2");
        RowChecker tinyblob = sized(MysqlType.TINY_BLOB, MysqlType.UNSPECIFIED_LENGTH, BINARY);
        assertThat((byte[]) tinyblob.check(0, new byte[255])).hasSize(255);
        refuses(tinyblob, new byte[256], "tinyblob", "256 bytes, more than 255");
        RowChecker blob = sized(MysqlType.BLOB, MysqlType.UNSPECIFIED_LENGTH, BINARY);
        assertThat((byte[]) blob.check(0, new byte[65_535])).hasSize(65_535);
        refuses(blob, new byte[65_536], "blob", "65536 bytes, more than 65535");
    }

    @Test
    void yearsAreZeroOrFrom1901To2155() {
        RowChecker c = column(MysqlType.YEAR);
        assertThat(c.check(0, 0)).isEqualTo(0L);
        assertThat(c.check(0, 1901)).isEqualTo(1901L);
        assertThat(c.check(0, 2155L)).isEqualTo(2155L);
        refuses(c, 1900, "year", "year 1900 out of range [1901, 2155]");
        refuses(c, 2156, "year", "year 2156 out of range [1901, 2155]");
    }

    @Test
    void bitsFitTheirWidth() {
        RowChecker bit3 = sized(MysqlType.BIT, 3, null);
        assertThat(bit3.check(0, 7)).isEqualTo(7L);
        refuses(bit3, 8L, "bit(3)", "value 8 has more than 3 bits");
        refuses(bit3, -1L, "bit(3)", "value -1 has more than 3 bits");
        RowChecker bit64 = sized(MysqlType.BIT, 64, null);
        assertThat(bit64.check(0, -1L)).isEqualTo(-1L);
    }

    @Test
    void timestampsWithinTheirRange() {
        RowChecker c = column(MysqlType.TIMESTAMP);
        Instant min = Instant.parse("1970-01-01T00:00:01Z");
        Instant max = Instant.parse("2038-01-19T03:14:07.999999Z");
        assertThat(c.check(0, min)).isEqualTo(min);
        assertThat(c.check(0, max)).isEqualTo(max);
        String range = " out of range [1970-01-01T00:00:01Z, 2038-01-19T03:14:07Z]";
        refuses(c, Instant.EPOCH, "timestamp", "timestamp 1970-01-01T00:00:00Z" + range);
        refuses(
                c,
                Instant.parse("2038-01-19T03:14:08Z"),
                "timestamp",
                "timestamp 2038-01-19T03:14:08Z" + range);
        assertThatThrownBy(() -> c.check(0, LocalDateTime.of(2020, 1, 1, 0, 0)))
                .hasMessageStartingWith(
                        "column 'c' (timestamp) of TiDB table db.t: cannot take a LocalDateTime");
    }

    @Test
    void datesDatetimesAndTimesTakeTheirJavaTypes() {
        RowChecker date = column(MysqlType.DATE);
        assertThat(date.check(0, LocalDate.of(2024, 2, 29))).isEqualTo(LocalDate.of(2024, 2, 29));
        assertThat(date.check(0, LocalDateTime.of(2024, 2, 29, 13, 5)))
                .isEqualTo(LocalDate.of(2024, 2, 29));
        assertThatThrownBy(() -> date.check(0, Instant.EPOCH))
                .hasMessageStartingWith(
                        "column 'c' (date) of TiDB table db.t: cannot take a Instant value");
        RowChecker datetime = column(MysqlType.DATETIME);
        assertThat(datetime.check(0, LocalDate.of(2024, 2, 29)))
                .isEqualTo(LocalDateTime.of(2024, 2, 29, 0, 0));
        RowChecker time = column(MysqlType.DURATION);
        assertThat(time.check(0, Duration.ofHours(-5))).isEqualTo(Duration.ofHours(-5));
        assertThatThrownBy(() -> time.check(0, "05:00:00"))
                .hasMessageStartingWith("column 'c' (time) of TiDB table db.t: cannot take a");
    }

    @Test
    void floatsAndDoublesTakeAnyNumber() {
        assertThat(column(MysqlType.FLOAT).check(0, 3)).isEqualTo(3.0f);
        assertThat(column(MysqlType.DOUBLE).check(0, new BigDecimal("0.25"))).isEqualTo(0.25d);
        assertThatThrownBy(() -> column(MysqlType.DOUBLE).check(0, "1.5"))
                .hasMessageStartingWith("column 'c' (double) of TiDB table db.t: cannot take a");
    }

    @Test
    void valuesOfAnotherClassAreRefused() {
        assertThatThrownBy(() -> column(MysqlType.LONG).check(0, "12"))
                .hasMessageStartingWith(
                        "column 'c' (int) of TiDB table db.t: cannot take a String value 12");
        assertThatThrownBy(() -> sized(MysqlType.VARCHAR, 8, UTF8).check(0, 12L))
                .hasMessageStartingWith(
                        "column 'c' (varchar(8)) of TiDB table db.t: cannot take a Long value 12");
    }

    @Test
    void nullsPassTheValueCheckAndNotNullNamesTheColumn() {
        RowChecker c =
                new RowChecker(
                        "db.t",
                        TestTables.table(1, "t")
                                .column(1, "a", MysqlType.LONG)
                                .column(
                                        2,
                                        "b",
                                        MysqlType.VARCHAR,
                                        MysqlType.NOT_NULL_FLAG,
                                        8,
                                        0,
                                        UTF8)
                                .build()
                                .columns);
        assertThat(c.check(0, null)).isNull();
        assertThat(c.check(1, null)).isNull();
        assertThatCode(() -> c.checkNotNull(0, null)).doesNotThrowAnyException();
        assertThatCode(() -> c.checkNotNull(1, "x")).doesNotThrowAnyException();
        assertThatThrownBy(() -> c.checkNotNull(1, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("column 'b' of TiDB table db.t is NOT NULL");
        assertThatThrownBy(() -> c.check(1, "123456789"))
                .hasMessageStartingWith("column 'b' (varchar(8)) of TiDB table db.t: ");
    }

    /**
     * TiDB holds DATE and DATETIME years 0 to 9999 only ({@code checkDateRange}): a Java date
     * beyond them would be written as a packed value no TiDB date has. A DATETIME's fraction is
     * rounded to the column's digits when stored, so one that rounds past 9999 is refused too.
     */
    @Test
    void datesAndDatetimesBeyondTiDBsYearsAreRefused() {
        RowChecker date = column(MysqlType.DATE);
        assertThat(date.check(0, LocalDate.of(0, 1, 1))).isEqualTo(LocalDate.of(0, 1, 1));
        assertThat(date.check(0, LocalDate.of(9999, 12, 31))).isEqualTo(LocalDate.of(9999, 12, 31));
        String range = " out of range [0000-01-01, 9999-12-31]";
        refuses(date, LocalDate.of(10_000, 1, 1), "date", "date +10000-01-01" + range);
        refuses(date, LocalDate.of(-1, 12, 31), "date", "date -0001-12-31" + range);
        refuses(date, LocalDateTime.of(10_000, 1, 1, 0, 0), "date", "date +10000-01-01" + range);

        RowChecker datetime = column(MysqlType.DATETIME);
        LocalDateTime last = LocalDateTime.of(9999, 12, 31, 23, 59, 59, 499_999_999);
        assertThat(datetime.check(0, last)).isEqualTo(last);
        assertThat(datetime.check(0, LocalDateTime.of(0, 1, 1, 0, 0))).isNotNull();
        String seconds = " out of range [0000-01-01 00:00:00, 9999-12-31 23:59:59]";
        refuses(
                datetime,
                LocalDateTime.of(10_000, 1, 1, 0, 0),
                "datetime",
                "datetime +10000-01-01T00:00" + seconds);
        refuses(
                datetime,
                last.plusNanos(1),
                "datetime",
                "datetime 9999-12-31T23:59:59.500" + seconds);
        refuses(
                datetime,
                LocalDate.of(-1, 1, 1),
                "datetime",
                "datetime -0001-01-01T00:00" + seconds);

        RowChecker micros = column(MysqlType.DATETIME, 0, MysqlType.UNSPECIFIED_LENGTH, 6, null);
        LocalDateTime lastMicro = LocalDateTime.of(9999, 12, 31, 23, 59, 59, 999_999_499);
        assertThat(micros.check(0, lastMicro)).isEqualTo(lastMicro);
        refuses(
                micros,
                lastMicro.plusNanos(1),
                "datetime(6)",
                "datetime 9999-12-31T23:59:59.999999500 out of range"
                        + " [0000-01-01 00:00:00, 9999-12-31 23:59:59.999999]");
    }

    /**
     * A Double or Float into BIGINT UNSIGNED is rounded half to even, exactly, as TiDB's {@code
     * ConvertFloatToUint} does with {@code RoundFloat} ({@code math.RoundToEven}; so 2.5 becomes
     * 2), and refused out of the type's range: not truncated or clamped to a long.
     */
    @Test
    void floatingPointValuesIntoBigintUnsignedAreRoundedHalfToEvenAndRangeChecked() {
        RowChecker c = unsigned(MysqlType.LONGLONG);
        assertThat(c.check(0, 2.5d)).isEqualTo(BigInteger.valueOf(2));
        assertThat(c.check(0, 3.5d)).isEqualTo(BigInteger.valueOf(4));
        assertThat(c.check(0, 2.6f)).isEqualTo(BigInteger.valueOf(3));
        assertThat(c.check(0, -0.4d)).isEqualTo(BigInteger.ZERO);
        assertThat(c.check(0, 1.8e19d)).isEqualTo(new BigInteger("18000000000000000000"));
        // The largest double below 2^64, exactly.
        assertThat(c.check(0, 0x1.fffffffffffffp63))
                .isEqualTo(new BigInteger("18446744073709549568"));
        String range = " out of range [0, 18446744073709551615]";
        refuses(c, 1e20d, "bigint unsigned", "value 100000000000000000000" + range);
        refuses(c, -0.6d, "bigint unsigned", "value -1" + range);
        assertThatThrownBy(() -> c.check(0, Double.NaN))
                .hasMessageStartingWith(
                        "column 'c' (bigint unsigned) of TiDB table db.t: cannot take a Double");
    }

    /**
     * FLOAT and DOUBLE values are range checked as TiDB's {@code ProduceFloatWithSpecifiedTp}
     * checks them: NaN and the infinities are refused, and so is a value beyond FLOAT's range for a
     * FLOAT column (not written as infinity) and a negative value for an unsigned column.
     */
    @Test
    void floatOverflowNaNAndInfinityAreRefused() {
        RowChecker f = column(MysqlType.FLOAT);
        RowChecker d = column(MysqlType.DOUBLE);
        assertThat(f.check(0, 3.4e38d)).isEqualTo(3.4e38f);
        assertThat(d.check(0, 1e39d)).isEqualTo(1e39d);
        refuses(f, 1e39d, "float", "value 1.0E39 out of range [-3.4028235E38, 3.4028235E38]");
        refuses(f, -1e39d, "float", "value -1.0E39 out of range [-3.4028235E38, 3.4028235E38]");
        refuses(d, Double.NaN, "double", "value NaN out of range");
        refuses(d, Double.POSITIVE_INFINITY, "double", "value Infinity out of range");
        refuses(f, Float.NEGATIVE_INFINITY, "float", "value -Infinity out of range");
        refuses(
                unsigned(MysqlType.DOUBLE),
                -1.5d,
                "double unsigned",
                "negative value -1.5 for an unsigned column");
        assertThat(unsigned(MysqlType.DOUBLE).check(0, 1.5d)).isEqualTo(1.5d);
    }

    /**
     * FLOAT(M,D) and DOUBLE(M,D) values are rounded to D digits after the point (half to even, as
     * TiDB's {@code TruncateFloat} rounds) and refused with more than M - D digits before it.
     */
    @Test
    void floatsAndDoublesWithDigitsAreRoundedToThemAndRefusedBeyondThem() {
        RowChecker c = column(MysqlType.DOUBLE, 0, 5, 2, null);
        assertThat(c.check(0, 1.125d)).isEqualTo(1.12d);
        assertThat(c.check(0, -999.99d)).isEqualTo(-999.99d);
        assertThat(c.check(0, 12L)).isEqualTo(12d);
        refuses(c, 1000d, "double", "value 1000.0 has more than 3 digits before the point");
        refuses(c, 999.996d, "double", "value 999.996 has more than 3 digits before the point");
        RowChecker f = column(MysqlType.FLOAT, 0, 4, 1, null);
        assertThat(f.check(0, 12.25d)).isEqualTo(12.2f);
    }

    /**
     * Whitespace (spaces, tabs, newlines) past a CHAR or VARCHAR column's length is cut off, as
     * TiDB's {@code ProduceStrWithSpecifiedTp} cuts it: a note, not an error, even in strict mode;
     * the value is stored truncated to the length. Anything else past the length, and anything past
     * a TEXT or binary length, is still refused.
     */
    @Test
    void trailingWhitespacePastACharOrVarcharLengthIsCutOff() {
        RowChecker varchar = sized(MysqlType.VARCHAR, 2, UTF8);
        assertThat(varchar.check(0, "ab   ")).isEqualTo("ab");
        assertThat(varchar.check(0, "ab\t\n\r ")).isEqualTo("ab");
        assertThat(sized(MysqlType.VARCHAR, 4, UTF8).check(0, "ab    ")).isEqualTo("ab  ");
        assertThat(
                        sized(MysqlType.VARCHAR, 2, UTF8)
                                .check(0, "€\uD83D\uDE00 ".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo("€\uD83D\uDE00");
        assertThat(sized(MysqlType.STRING, 2, UTF8).check(0, "ab  ")).isEqualTo("ab");
        refuses(varchar, "ab  c", "varchar(2)", "'ab  c' has 5 characters, more than 2");
        refuses(varchar, " ab", "varchar(2)", "' ab' has 3 characters, more than 2");
        RowChecker tinytext = sized(MysqlType.TINY_BLOB, MysqlType.UNSPECIFIED_LENGTH, UTF8);
        refuses(tinytext, "a".repeat(255) + " ", "tinytext", "text of 256 bytes, more than 255");
        refuses(sized(MysqlType.VARCHAR, 2, BINARY), "ab ", "varbinary(2)", "3 bytes, more than 2");
    }
}
