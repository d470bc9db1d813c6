package io.tiflink.tidb.table;

import io.tiflink.tidb.meta.SchemaState;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.types.MysqlType;
import io.tiflink.tikv.Keys;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Key prefixes, handles, and what a key alone tells (deletes carry no value). */
class KeysTest {
    private static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length
                && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }

    /** {@code t (id BIGINT PRIMARY KEY, v VARCHAR(8), KEY k (v))}, of id 9, index k of id 3. */
    private static TableInfo indexedTable() {
        return TestTables.table(9, "t")
                .column(1, "id", MysqlType.LONGLONG)
                .pkIsHandle()
                .column(2, "v", MysqlType.VARCHAR, 0, 8, 0, "utf8mb4_bin")
                .index(3, "k", false, "v")
                .build();
    }

    @Test
    void prefixesCoverTheirKeys() {
        TableInfo t = indexedTable();
        TableCodec codec = new TableCodec(t);
        Object[] row = {-5L, "x"};
        java.util.List<KeyValue> kvs = codec.encodeRecord(9, row, codec.handleOf(row));
        assertThat(startsWith(kvs.get(0).key(), TableCodec.recordPrefix(9))).isTrue();
        assertThat(TableCodec.isRecordKey(kvs.get(0).key())).isTrue();
        assertThat(startsWith(kvs.get(1).key(), TableCodec.indexPrefix(9, 3))).isTrue();
        assertThat(TableCodec.isIndexKey(kvs.get(1).key())).isTrue();
        assertThat(TableCodec.indexId(kvs.get(1).key())).isEqualTo(3);
        assertThat(Keys.hex(TableCodec.recordPrefix(9))).isEqualTo("7480000000000000095f72");
        assertThat(codec.recordKeys(9, row, codec.handleOf(row)))
                .containsExactly(kvs.get(0).key(), kvs.get(1).key());
    }

    @Test
    void indexesBeingAddedOrDroppedAreWrittenOrDeletedAsTheirStateSays() {
        TableInfo t = indexedTable();
        Object[] row = {1L, "x"};
        int[][] statesWrittenDeleted = {
            {SchemaState.DELETE_ONLY, 0, 1},
            {SchemaState.WRITE_ONLY, 1, 1},
            {SchemaState.WRITE_REORGANIZATION, 1, 1},
            {SchemaState.DELETE_REORGANIZATION, 0, 1},
            {SchemaState.PUBLIC, 1, 1}
        };
        for (int[] c : statesWrittenDeleted) {
            t.indices.get(0).state = c[0];
            TableCodec codec = new TableCodec(t);
            assertThat(codec.encodeRecord(9, row, Handle.ofInt(1)))
                    .as("state %s", c[0])
                    .hasSize(1 + c[1]);
            assertThat(codec.recordKeys(9, row, Handle.ofInt(1)))
                    .as("state %s", c[0])
                    .hasSize(1 + c[2]);
        }
    }

    @Test
    void keysAloneGiveThePrimaryKey() {
        TableInfo intPk =
                TestTables.table(1, "t")
                        .column(1, "id", MysqlType.LONGLONG, MysqlType.UNSIGNED_FLAG, 20, 0, null)
                        .pkIsHandle()
                        .column(2, "v", MysqlType.LONG)
                        .build();
        BigInteger big = new BigInteger("18446744073709551615");
        TableCodec c1 = new TableCodec(intPk);
        byte[] k1 = TableCodec.recordKey(1, c1.handleOf(new Object[] {big, 1L}));
        assertThat(c1.decodeKey(k1)).containsExactly(big, null);

        TableInfo clustered =
                TestTables.table(2, "t")
                        .column(1, "a", MysqlType.VARCHAR, 0, 8, 0, "utf8mb4_0900_bin")
                        .column(2, "b", MysqlType.VARCHAR, 0, 8, 0, "utf8mb4_general_ci")
                        .column(3, "c", MysqlType.LONG)
                        .index(1, "PRIMARY", true, true, "a", "b", "c")
                        .clustered()
                        .build();
        TableCodec c2 = new TableCodec(clustered);
        Handle h = c2.handleOf(new Object[] {"Ab ", "Ab", 7L});
        assertThat(Keys.hex(h.encoded())).startsWith("01416220");
        // The general_ci column's key is a sort key: not readable back, so left null.
        assertThat(c2.decodeKey(TableCodec.recordKey(2, h))).containsExactly("Ab ", null, 7L);
        assertThatThrownBy(h::intValue).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void textUnderBinCollationKeepsNoRestoredData() {
        // types.NeedRestoredData: only varchar needs its trailing spaces restored under _bin.
        TableInfo t =
                TestTables.table(3, "t")
                        .column(1, "txt", MysqlType.BLOB, 0, 65535, 0, "utf8mb4_bin")
                        .column(2, "vc", MysqlType.VARCHAR, 0, 8, 0, "utf8mb4_bin")
                        .index(1, "k1", false, "txt(4)")
                        .index(2, "k2", false, "vc")
                        .build();
        TableCodec codec = new TableCodec(t);
        Object[] row = {"ab  cd", "ab "};
        assertThat(Keys.hex(codec.indexEntry(3, t.indices.get(0), row, Handle.ofInt(1)).value()))
                .isEqualTo("30");
        assertThat(Keys.hex(codec.indexEntry(3, t.indices.get(1), row, Handle.ofInt(1)).value()))
                .isEqualTo("00800001000000020300616220");
    }
}
