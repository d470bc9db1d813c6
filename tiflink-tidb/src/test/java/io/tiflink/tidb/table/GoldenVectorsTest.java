package io.tiflink.tidb.table;

import io.tiflink.tidb.codec.BytesReader;
import io.tiflink.tidb.codec.BytesWriter;
import io.tiflink.tidb.codec.Codec;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.types.MyDecimal;
import io.tiflink.tidb.types.MysqlType;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.LocalDateTime;

import static io.tiflink.tidb.codec.Codec.unhex;
import static io.tiflink.tikv.Keys.hex;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Byte vectors published by TiDB and TiKV, each cited where it is defined. They are facts about the
 * formats; the encoders must produce them and the decoders must read them.
 */
class GoldenVectorsTest {

    private static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    /**
     * tikv/tikv components/tidb_query_datatype/src/codec/row/v2/encoder_for_test.rs test_encode.
     */
    @Test
    void rowV2MixedTypes() {
        TableInfo t =
                TestTables.table(1, "t")
                        .column(1, "c1", MysqlType.LONGLONG)
                        .column(12, "c12", MysqlType.LONGLONG)
                        .column(33, "c33", MysqlType.LONGLONG)
                        .column(3, "c3", MysqlType.LONGLONG, MysqlType.UNSIGNED_FLAG, 20, 0, null)
                        .column(8, "c8", MysqlType.LONG)
                        .column(7, "c7", MysqlType.VARCHAR, 0, 10, 0, "binary")
                        .column(9, "c9", MysqlType.DOUBLE)
                        .column(6, "c6", MysqlType.DOUBLE)
                        .column(13, "c13", MysqlType.DATETIME, 0, 19, 0, null)
                        .column(14, "c14", MysqlType.NEWDECIMAL, 0, 1, 0, null)
                        .column(15, "c15", MysqlType.JSON)
                        .column(16, "c16", MysqlType.DURATION, 0, 10, 0, null)
                        .build();
        Object[] row = {
            1000L,
            2L,
            null,
            BigInteger.valueOf(3),
            32767L,
            Codec.utf8("abc"),
            1.8,
            -1.8,
            LocalDateTime.of(2018, 1, 19, 3, 14, 7),
            BigDecimal.ONE,
            "{\"key\": \"value\"}",
            Duration.ofSeconds(1)
        };
        byte[] expected =
                bytes(
                        128, 0, 11, 0, 1, 0, 1, 3, 6, 7, 8, 9, 12, 13, 14, 15, 16, 33, 2, 0, 3, 0,
                        11, 0, 14, 0, 16, 0, 24, 0, 25, 0, 33, 0, 36, 0, 65, 0, 69, 0, 232, 3, 3,
                        64, 3, 51, 51, 51, 51, 51, 50, 97, 98, 99, 255, 127, 191, 252, 204, 204,
                        204, 204, 204, 205, 2, 0, 0, 0, 135, 51, 230, 158, 25, 1, 0, 129, 1, 1, 0,
                        0, 0, 28, 0, 0, 0, 19, 0, 0, 0, 3, 0, 12, 22, 0, 0, 0, 107, 101, 121, 5,
                        118, 97, 108, 117, 101, 0, 202, 154, 59);
        TableCodec codec = new TableCodec(t);
        assertThat(hex(codec.encodeValue(row))).isEqualTo(hex(expected));

        Object[] decoded = codec.decode(TableCodec.recordKey(1, Handle.ofInt(1)), expected);
        assertThat(decoded).usingRecursiveComparison().isEqualTo(row);
    }

    /** tikv/tikv .../row/v2/encoder_for_test.rs test_encode_big: a column id over 255. */
    @Test
    void rowV2Large() {
        TableInfo t =
                TestTables.table(1, "t")
                        .column(1, "c1", MysqlType.LONGLONG)
                        .column(12, "c12", MysqlType.LONGLONG)
                        .column(335, "c335", MysqlType.LONGLONG)
                        .column(3, "c3", MysqlType.LONGLONG)
                        .column(8, "c8", MysqlType.LONGLONG)
                        .build();
        Object[] row = {1000L, 2L, null, 3L, 32767L};
        byte[] expected =
                bytes(
                        128, 1, 4, 0, 1, 0, 1, 0, 0, 0, 3, 0, 0, 0, 8, 0, 0, 0, 12, 0, 0, 0, 79, 1,
                        0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 232, 3, 3, 255, 127,
                        2);
        TableCodec codec = new TableCodec(t);
        assertThat(hex(codec.encodeValue(row))).isEqualTo(hex(expected));
        assertThat(codec.decode(TableCodec.recordKey(1, Handle.ofInt(1)), expected))
                .containsExactly(row);
    }

    /** tikv/tikv .../row/v2/encoder_for_test.rs test_encode_unsigned. */
    @Test
    void rowV2Unsigned() {
        TableInfo t =
                TestTables.table(1, "t")
                        .column(1, "u", MysqlType.LONGLONG, MysqlType.UNSIGNED_FLAG, 20, 0, null)
                        .column(2, "s", MysqlType.LONGLONG)
                        .build();
        BigInteger max = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
        byte[] expected =
                bytes(
                        128, 0, 2, 0, 0, 0, 1, 2, 8, 0, 9, 0, 255, 255, 255, 255, 255, 255, 255,
                        255, 255);
        TableCodec codec = new TableCodec(t);
        assertThat(hex(codec.encodeValue(new Object[] {max, -1L}))).isEqualTo(hex(expected));
        assertThat(codec.decode(TableCodec.recordKey(1, Handle.ofInt(1)), expected))
                .containsExactly(max, -1L);
    }

    /**
     * pingcap/docs troubleshoot-data-inconsistency-errors.md, error 8139: table 73 with index i1 on
     * (c1, c2); record t73_r3 holds ("hello", "hello"), and a non-unique index entry for handle 4.
     */
    @Test
    void recordAndIndexFromTiDBDocs() {
        TableInfo t =
                TestTables.table(73, "t")
                        .column(1, "c1", MysqlType.STRING, 0, 10, 0, "utf8mb4_bin")
                        .column(2, "c2", MysqlType.STRING, 0, 10, 0, "utf8mb4_bin")
                        .index(1, "i1", false, "c1", "c2")
                        .build();
        TableCodec codec = new TableCodec(t);
        Object[] row = {"hello", "hello"};
        byte[] recordKey = unhex("7480000000000000495f728000000000000003");
        byte[] recordValue = unhex("800002000000010205000a0068656c6c6f68656c6c6f");
        assertThat(hex(TableCodec.recordKey(73, Handle.ofInt(3)))).isEqualTo(hex(recordKey));
        assertThat(hex(codec.encodeValue(row))).isEqualTo(hex(recordValue));
        assertThat(codec.decode(recordKey, recordValue)).containsExactly("hello", "hello");

        KeyValue index = codec.indexEntry(73, t.indices.get(0), row, Handle.ofInt(4));
        assertThat(hex(index.key()))
                .isEqualTo(
                        "7480000000000000495f698000000000000001"
                                + "0168656c6c6f000000fc"
                                + "0168656c6c6f000000fc"
                                + "038000000000000004");
        assertThat(hex(index.value())).isEqualTo("30");
        assertThat(codec.indexHandle(t.indices.get(0), index.key(), index.value()))
                .isEqualTo(Handle.ofInt(4));
    }

    /**
     * pingcap/docs troubleshoot-data-inconsistency-errors.md, error 8141: the clustered record key
     * 7480000000000000405f72013300000000000000f8 of table 64 with the varchar primary key '3'.
     */
    @Test
    void clusteredRecordKeyFromTiDBDocs() {
        TableInfo t =
                TestTables.table(64, "t")
                        .column(1, "a", MysqlType.VARCHAR, 0, 10, 0, "utf8mb4_bin")
                        .column(2, "b", MysqlType.LONGLONG)
                        .index(1, "PRIMARY", true, true, "a")
                        .clustered()
                        .build();
        TableCodec codec = new TableCodec(t);
        Handle h = codec.handleOf(new Object[] {"3", 1L});
        byte[] key = TableCodec.recordKey(64, h);
        assertThat(hex(key)).isEqualTo("7480000000000000405f72013300000000000000f8");
        assertThat(codec.handle(key)).isEqualTo(h);
        assertThat(TableCodec.physicalId(key)).isEqualTo(64);
    }

    /** pingcap/tidb pkg/types/mydecimal.go, the ToBin doc comment: DECIMAL(14,4). */
    @Test
    void decimalBinary() {
        BytesWriter out = new BytesWriter();
        MyDecimal.writeBin(out, new BigDecimal("1234567890.1234"), 14, 4);
        assertThat(hex(out.toByteArray())).isEqualTo("810dfb38d204d2");
        out = new BytesWriter();
        MyDecimal.writeBin(out, new BigDecimal("-1234567890.1234"), 14, 4);
        assertThat(hex(out.toByteArray())).isEqualTo("7ef204c72dfb2d");
        assertThat(MyDecimal.readBin(new BytesReader(unhex("7ef204c72dfb2d")), 14, 4))
                .isEqualByComparingTo("-1234567890.1234");
    }

    /** tikv/tikv components/codec/src/byte.rs test_read_bytes (TiDB's EncodeBytes). */
    @Test
    void memcomparableBytes() {
        String[][] cases = {
            {"", "0000000000000000f7"},
            {"00", "0000000000000000f8"},
            {"010203", "0102030000000000fa"},
            {"01020300", "0102030000000000fb"},
            {"01020304050607", "0102030405060700fe"},
            {"0000000000000000", "0000000000000000ff0000000000000000f7"},
            {"0102030405060708", "0102030405060708ff0000000000000000f7"},
            {"010203040506070809", "0102030405060708ff0900000000000000f8"},
        };
        for (String[] c : cases) {
            BytesWriter out = new BytesWriter();
            Codec.writeBytes(out, unhex(c[0]));
            assertThat(hex(out.toByteArray())).as(c[0]).isEqualTo(c[1]);
            assertThat(hex(Codec.readBytes(new BytesReader(unhex(c[1]))))).isEqualTo(c[0]);
        }
    }
}
