package io.tiflink.tidb.table;

import io.tiflink.tidb.meta.MetaJson;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.types.MysqlType;

import org.tikv.common.meta.TiTableInfo;
import org.tikv.shade.com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * tikv-client-java's row codec (org.tikv.common.codec.TableCodec) reads what this codec writes, and
 * this codec reads what it writes in both row formats, for the types client-java supports.
 */
class ClientJavaCrossCheckTest {
    private static TableInfo table() {
        TableInfo t =
                TestTables.table(200, "orders")
                        .column(1, "id", MysqlType.LONGLONG)
                        .pkIsHandle()
                        .column(2, "qty", MysqlType.LONG)
                        .column(3, "name", MysqlType.VARCHAR, 0, 64, 0, "utf8mb4_bin")
                        .column(4, "price", MysqlType.NEWDECIMAL, 0, 12, 2, null)
                        .column(5, "ratio", MysqlType.DOUBLE)
                        .column(6, "day", MysqlType.DATE)
                        .column(7, "at", MysqlType.DATETIME, 0, 19, 0, null)
                        .column(8, "raw", MysqlType.BLOB, 0, 65535, 0, "binary")
                        .build();
        return t;
    }

    private static TiTableInfo clientJavaTable(TableInfo t) throws Exception {
        return new ObjectMapper().readValue(MetaJson.write(t), TiTableInfo.class);
    }

    private static Object[] row(Random r, long id) {
        return new Object[] {
            id,
            (long) r.nextInt(),
            RoundTripTest.randomString(r, 30),
            BigDecimal.valueOf(r.nextInt(1_000_000_000), 2),
            r.nextDouble(),
            LocalDate.of(1970 + r.nextInt(100), 1 + r.nextInt(12), 1 + r.nextInt(28)),
            LocalDateTime.of(
                    1970 + r.nextInt(100),
                    1 + r.nextInt(12),
                    1 + r.nextInt(28),
                    r.nextInt(24),
                    r.nextInt(60),
                    r.nextInt(60)),
            RoundTripTest.randomBytes(r, 20)
        };
    }

    @Test
    void clientJavaDecodesOurRows() throws Exception {
        TableInfo t = table();
        TableCodec codec = new TableCodec(t);
        TiTableInfo ti = clientJavaTable(t);
        Random r = new Random(11);
        for (int i = 0; i < 500; i++) {
            Object[] row = row(r, r.nextLong());
            byte[] value = codec.encodeValue(row);
            Object[] theirs =
                    org.tikv.common.codec.TableCodec.decodeObjects(value, (Long) row[0], ti);
            assertThat(theirs[0]).isEqualTo(row[0]);
            assertThat(theirs[1]).isEqualTo(row[1]);
            assertThat(theirs[2]).isEqualTo(row[2]);
            assertThat((BigDecimal) theirs[3]).isEqualByComparingTo((BigDecimal) row[3]);
            assertThat(theirs[4]).isEqualTo(row[4]);
            assertThat(theirs[5].toString()).isEqualTo(row[5].toString());
            assertThat((byte[]) theirs[7]).isEqualTo((byte[]) row[7]);
        }
    }

    @Test
    void weDecodeClientJavaRowsInBothFormats() throws Exception {
        TableInfo t = table();
        TableCodec codec = new TableCodec(t);
        TiTableInfo ti = clientJavaTable(t);
        Random r = new Random(12);
        for (boolean v2 : new boolean[] {false, true}) {
            for (int i = 0; i < 200; i++) {
                Object[] row = row(r, i);
                Object[] theirs = {
                    row[0],
                    row[1],
                    row[2],
                    row[3],
                    row[4],
                    java.sql.Date.valueOf((LocalDate) row[5]),
                    java.sql.Timestamp.valueOf((LocalDateTime) row[6]),
                    row[7]
                };
                byte[] value =
                        org.tikv.common.codec.TableCodec.encodeRow(
                                ti.getColumns(), theirs, true, v2);
                assertThat(value[0] == (byte) 0x80).isEqualTo(v2);
                Object[] ours = codec.decode(TableCodec.recordKey(200, Handle.ofInt(i)), value);
                assertThat(ours[0]).isEqualTo(row[0]);
                assertThat(ours[1]).isEqualTo(row[1]);
                assertThat(ours[2]).isEqualTo(row[2]);
                assertThat((BigDecimal) ours[3]).isEqualByComparingTo((BigDecimal) row[3]);
                assertThat(ours[4]).isEqualTo(row[4]);
                assertThat(ours[5]).isEqualTo(row[5]);
                assertThat((byte[]) ours[7]).isEqualTo((byte[]) row[7]);
            }
        }
    }
}
