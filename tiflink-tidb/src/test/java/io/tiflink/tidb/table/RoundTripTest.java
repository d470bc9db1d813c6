package io.tiflink.tidb.table;

import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.types.MysqlType;
import io.tiflink.tikv.Keys;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Random rows of every type survive encode then decode, under each kind of handle. */
class RoundTripTest {
    private static final int ROWS = 2000;

    static TestTables allTypes(long id) {
        return TestTables.table(id, "all_types")
                .column(1, "id", MysqlType.LONGLONG)
                .column(2, "ti", MysqlType.TINY, 0, 4, 0, null)
                .column(3, "tiu", MysqlType.TINY, MysqlType.UNSIGNED_FLAG, 3, 0, null)
                .column(4, "si", MysqlType.SHORT)
                .column(5, "mi", MysqlType.INT24)
                .column(6, "iu", MysqlType.LONG, MysqlType.UNSIGNED_FLAG, 10, 0, null)
                .column(7, "bu", MysqlType.LONGLONG, MysqlType.UNSIGNED_FLAG, 20, 0, null)
                .column(8, "f", MysqlType.FLOAT)
                .column(9, "d", MysqlType.DOUBLE)
                .column(10, "dec", MysqlType.NEWDECIMAL, 0, 65, 30, null)
                .column(11, "dec2", MysqlType.NEWDECIMAL, 0, 10, 2, null)
                .column(12, "vc", MysqlType.VARCHAR, 0, 64, 0, "utf8mb4_general_ci")
                .column(13, "ch", MysqlType.STRING, 0, 8, 0, "utf8mb4_bin")
                .column(14, "txt", MysqlType.BLOB, 0, 65535, 0, "utf8mb4_unicode_ci")
                .column(15, "vb", MysqlType.VARCHAR, 0, 64, 0, "binary")
                .column(16, "bl", MysqlType.BLOB, 0, 65535, 0, "binary")
                .column(17, "dt", MysqlType.DATE)
                .column(18, "dtm", MysqlType.DATETIME, 0, 26, 6, null)
                .column(19, "ts", MysqlType.TIMESTAMP, 0, 23, 3, null)
                .column(20, "tm", MysqlType.DURATION, 0, 15, 4, null)
                .column(21, "yr", MysqlType.YEAR)
                .column(22, "bt", MysqlType.BIT, MysqlType.UNSIGNED_FLAG, 64, 0, null)
                .column(23, "en", MysqlType.ENUM, 0, -1, 0, "utf8mb4_bin")
                .elems("red", "green", "blue")
                .column(24, "st", MysqlType.SET, 0, -1, 0, "utf8mb4_bin")
                .elems("a", "b", "c", "d")
                .column(25, "js", MysqlType.JSON)
                .column(26, "v09", MysqlType.VARCHAR, 0, 64, 0, "utf8mb4_0900_ai_ci");
    }

    static Object[] randomRow(Random r, long id, int columns) {
        Object[] row = new Object[columns];
        row[0] = id;
        row[1] = (long) (byte) r.nextInt();
        row[2] = (long) r.nextInt(256);
        row[3] = (long) (short) r.nextInt();
        row[4] = (long) (r.nextInt(1 << 24) - (1 << 23));
        row[5] = r.nextLong() & 0xFFFFFFFFL;
        row[6] = new BigInteger(64, r);
        row[7] = r.nextFloat() * 1000 - 500;
        row[8] = r.nextGaussian() * 1e10;
        row[9] =
                new BigDecimal(new BigInteger(200, r), 30)
                        .multiply(BigDecimal.valueOf(r.nextBoolean() ? 1 : -1));
        row[10] = BigDecimal.valueOf(r.nextInt(2_000_000_000) - 1_000_000_000L, 2);
        row[11] = randomString(r, 20);
        row[12] = randomString(r, 8).trim();
        row[13] = randomString(r, 200);
        row[14] = randomBytes(r, 30);
        row[15] = randomBytes(r, 300);
        row[16] = LocalDate.of(1000 + r.nextInt(8999), 1 + r.nextInt(12), 1 + r.nextInt(28));
        row[17] =
                LocalDateTime.of(
                        1000 + r.nextInt(8999),
                        1 + r.nextInt(12),
                        1 + r.nextInt(28),
                        r.nextInt(24),
                        r.nextInt(60),
                        r.nextInt(60),
                        r.nextInt(1_000_000) * 1000);
        row[18] = Instant.ofEpochMilli(r.nextInt(Integer.MAX_VALUE) * 1000L + r.nextInt(1000));
        row[19] =
                Duration.ofNanos(
                        (r.nextLong() % (838L * 3600 * 1_000_000_000L)) / 100_000 * 100_000);
        row[20] = (long) (1901 + r.nextInt(255));
        row[21] = r.nextLong();
        row[22] = new String[] {"", "red", "green", "blue"}[r.nextInt(4)];
        row[23] = new String[] {"", "a", "b,c", "a,b,c,d"}[r.nextInt(4)];
        // Keys in TiDB's order (bytewise), which decoding prints.
        row[24] =
                "{\"a\": \""
                        + r.nextInt()
                        + "\", \"k\": [1, -2, 3.5, \"s\", true, null, {\"n\": 18446744073709551615}]}";
        row[25] = randomString(r, 10);
        for (int i = 1; i < columns; i++) {
            if (r.nextInt(10) == 0) {
                row[i] = null;
            }
        }
        return row;
    }

    static String randomString(Random r, int max) {
        int n = r.nextInt(max + 1);
        StringBuilder sb = new StringBuilder();
        String alphabet = "abcXYZ 09éßØ中文😃 ";
        for (int i = 0; i < n; i++) {
            sb.appendCodePoint(
                    alphabet.codePointAt(
                            alphabet.offsetByCodePoints(
                                    0, r.nextInt(alphabet.codePointCount(0, alphabet.length())))));
        }
        return sb.toString();
    }

    static byte[] randomBytes(Random r, int max) {
        byte[] b = new byte[r.nextInt(max + 1)];
        r.nextBytes(b);
        return b;
    }

    private static void assertRowsEqual(Object[] actual, Object[] expected) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] instanceof byte[]) {
                assertThat((byte[]) actual[i]).as("column %d", i).isEqualTo((byte[]) expected[i]);
            } else if (expected[i] instanceof BigDecimal) {
                assertThat((BigDecimal) actual[i])
                        .as("column %d", i)
                        .isEqualByComparingTo((BigDecimal) expected[i]);
            } else {
                assertThat(actual[i]).as("column %d", i).isEqualTo(expected[i]);
            }
        }
    }

    @Test
    void intHandleRows() {
        TableInfo t = allTypes(100).pkIsHandle().build();
        // pkIsHandle marks the last column; make "id" the handle instead.
        t.columns.get(t.columns.size() - 1).type.flag = 0;
        t.columns.get(0).type.flag |= MysqlType.PRI_KEY_FLAG | MysqlType.NOT_NULL_FLAG;
        TableCodec codec = new TableCodec(t);
        Random r = new Random(42);
        for (int i = 0; i < ROWS; i++) {
            Object[] row = randomRow(r, r.nextLong(), t.columns.size());
            Handle h = codec.handleOf(row);
            List<KeyValue> kvs = codec.encodeRecord(100, row, h);
            assertThat(kvs).hasSize(1);
            assertRowsEqual(codec.decode(kvs.get(0).key(), kvs.get(0).value()), row);
        }
    }

    @Test
    void clusteredRowsWithCollatedKey() {
        TableInfo t =
                allTypes(101)
                        .index(1, "PRIMARY", true, true, "vc", "id")
                        .clustered()
                        .index(2, "uk", true, "v09")
                        .index(3, "k", false, "ch", "dec2")
                        .build();
        TableCodec codec = new TableCodec(t);
        Random r = new Random(7);
        for (int i = 0; i < ROWS; i++) {
            Object[] row = randomRow(r, i, t.columns.size());
            row[11] = randomString(r, 20);
            Handle h = codec.handleOf(row);
            assertThat(h.isInt()).isFalse();
            List<KeyValue> kvs = codec.encodeRecord(101, row, h);
            assertThat(kvs).hasSize(3);
            assertRowsEqual(codec.decode(kvs.get(0).key(), kvs.get(0).value()), row);
            for (int k = 1; k < 3; k++) {
                assertThat(
                                codec.indexHandle(
                                        t.indices.get(k), kvs.get(k).key(), kvs.get(k).value()))
                        .isEqualTo(h);
            }
        }
    }

    @Test
    void rowIdTableIndexesPointAtTheRowId() {
        TableInfo t =
                allTypes(102)
                        .index(1, "uk", true, "vc")
                        .index(2, "k", false, "txt(5)", "bt")
                        .build();
        TableCodec codec = new TableCodec(t);
        Random r = new Random(9);
        for (int i = 0; i < ROWS; i++) {
            Object[] row = randomRow(r, i, t.columns.size());
            Handle h = Handle.ofInt(i + 1);
            List<KeyValue> kvs = codec.encodeRecord(102, row, h);
            assertRowsEqual(codec.decode(kvs.get(0).key(), kvs.get(0).value()), row);
            assertThat(codec.handle(kvs.get(0).key())).isEqualTo(h);
            for (int k = 1; k < 3; k++) {
                assertThat(
                                codec.indexHandle(
                                        t.indices.get(k - 1), kvs.get(k).key(), kvs.get(k).value()))
                        .isEqualTo(h);
            }
        }
    }

    @Test
    void intKeysSortLikeTheirValues() {
        TableInfo t =
                TestTables.table(5, "t")
                        .column(1, "a", MysqlType.LONGLONG)
                        .column(2, "b", MysqlType.DOUBLE)
                        .column(3, "c", MysqlType.NEWDECIMAL, 0, 20, 5, null)
                        .index(1, "k", false, "a", "b", "c")
                        .build();
        TableCodec codec = new TableCodec(t);
        Random r = new Random(3);
        List<Object[]> rows = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            rows.add(
                    new Object[] {
                        (long) r.nextInt(20) - 10,
                        r.nextGaussian(),
                        BigDecimal.valueOf(r.nextLong() % 1_000_000_000L, 5)
                    });
        }
        rows.sort(
                (x, y) -> {
                    int c = Long.compare((Long) x[0], (Long) y[0]);
                    if (c == 0) c = Double.compare((Double) x[1], (Double) y[1]);
                    if (c == 0) c = ((BigDecimal) x[2]).compareTo((BigDecimal) y[2]);
                    return c;
                });
        byte[] prev = null;
        for (int i = 0; i < rows.size(); i++) {
            byte[] key = codec.indexEntry(5, t.indices.get(0), rows.get(i), Handle.ofInt(i)).key();
            if (prev != null) {
                assertThat(Arrays.compareUnsigned(prev, key)).isNegative();
            }
            prev = key;
        }
    }

    @Test
    void columnsAddedLaterReadTheirOriginDefault() {
        TableInfo before = TestTables.table(6, "t").column(1, "a", MysqlType.LONGLONG).build();
        TableInfo after =
                TestTables.table(6, "t")
                        .column(1, "a", MysqlType.LONGLONG)
                        .column(2, "b", MysqlType.VARCHAR, 0, 10, 0, "utf8mb4_bin")
                        .originDefault("dflt")
                        .column(3, "c", MysqlType.LONGLONG)
                        .build();
        byte[] value = new TableCodec(before).encodeValue(new Object[] {7L});
        Object[] row =
                new TableCodec(after).decode(TableCodec.recordKey(6, Handle.ofInt(1)), value);
        assertThat(row).containsExactly(7L, "dflt", null);
    }

    @Test
    void badValuesNameTheColumn() {
        TableInfo t =
                TestTables.table(7, "t")
                        .column(1, "small", MysqlType.TINY)
                        .column(2, "e", MysqlType.ENUM, 0, -1, 0, "utf8mb4_bin")
                        .elems("x")
                        .build();
        TableCodec codec = new TableCodec(t);
        assertThatThrownBy(() -> codec.encodeValue(new Object[] {300L, null}))
                .hasMessageContaining("'small'")
                .hasMessageContaining("out of range");
        assertThatThrownBy(() -> codec.encodeValue(new Object[] {1L, "y"}))
                .hasMessageContaining("'e'")
                .hasMessageContaining("'y'");
        assertThatThrownBy(() -> codec.encodeValue(new Object[] {"1", null}))
                .hasMessageContaining("'small'");
    }

    @Test
    void emptyRowIsNeverEmptyBytes() {
        TableInfo t =
                TestTables.table(8, "t").column(1, "id", MysqlType.LONGLONG).pkIsHandle().build();
        assertThat(Keys.hex(new TableCodec(t).encodeValue(new Object[] {1L})))
                .isEqualTo("800000000000");
    }
}
