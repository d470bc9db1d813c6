package io.tiflink.tidb.table;

import io.tiflink.tidb.meta.IndexInfo;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.types.MysqlType;

import org.junit.jupiter.api.Test;

import static io.tiflink.tidb.codec.Codec.unhex;
import static io.tiflink.tikv.Keys.hex;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Index entries TiDB wrote, as recorded in tikv/tikv
 * components/tidb_query_executors/src/index_scan_executor.rs (tests test_int_handle_char_index,
 * test_int_handle_varchar_index and test_common_handle_index; the schema and the inserted row are
 * in each test's comment). Our encoder must produce the same keys and values: new collations,
 * restored data, the tail-space count of _bin varchars, and clustered index values (version 1).
 * Table ids differ between entries in those tests, so each entry's own id is used.
 */
class TiDBIndexVectorsTest {
    /** create table t(a int, b char(10) utf8mb4_bin, c char(10) utf8mb4_unicode_ci, ...). */
    static final String[][] CHAR_INDEXES = {
        {"7480000000000000315f698000000000000001038000000000000001038000000000000001", "30"},
        {"7480000000000000355f698000000000000005038000000000000001", "0000000000000001"},
        {"7480000000000000315f698000000000000002016100000000000000f8038000000000000001", "30"},
        {"7480000000000000355f698000000000000006016100000000000000f8", "0000000000000001"},
        {
            "7480000000000000315f698000000000000003010e33000000000000f9038000000000000001",
            "0080000100000003010041"
        },
        {
            "7480000000000000355f698000000000000007010e33000000000000f9",
            "08800001000000030100410000000000000001"
        },
        {
            "7480000000000000355f698000000000000004038000000000000001016100000000000000f8010e33000000000000f9038000000000000001",
            "00800003000000010203010002000300016141"
        },
        {
            "7480000000000000355f698000000000000008038000000000000001016100000000000000f8010e33000000000000f9",
            "088000030000000102030100020003000161410000000000000001"
        },
    };

    /** The same with b varchar(10) utf8mb4_bin and c varchar(10) utf8mb4_unicode_ci. */
    static final String[][] VARCHAR_INDEXES = {
        {"7480000000000000315f698000000000000001038000000000000001038000000000000001", "30"},
        {"7480000000000000355f698000000000000005038000000000000001", "0000000000000001"},
        {
            "74800000000000003d5f698000000000000002016100000000000000f8038000000000000001",
            "008000010000000202006120"
        },
        {
            "74800000000000003d5f698000000000000006016100000000000000f8",
            "0880000100000002020061200000000000000001"
        },
        {
            "74800000000000003d5f698000000000000003010e33000000000000f9038000000000000001",
            "008000010000000302004120"
        },
        {
            "74800000000000003d5f698000000000000007010e33000000000000f9",
            "0880000100000003020041200000000000000001"
        },
        {
            "74800000000000003d5f698000000000000004038000000000000001016100000000000000f8010e33000000000000f9038000000000000001",
            "008000030000000102030100030005000161204120"
        },
        {
            "74800000000000003d5f698000000000000008038000000000000001016100000000000000f8010e33000000000000f9",
            "0880000300000001020301000300050001612041200000000000000001"
        },
    };

    /** Clustered primary key (a, b, c, d, e) over int, char, char, varchar, varchar. */
    static final String[][] CLUSTERED_INDEXES = {
        {
            "7480000000000000315f698000000000000002038000000000000001038000000000000001016100000000000000f8010e33000000000000f9016100000000000000f8010041000000000000f9",
            "007d0180000300000003040501000200040041014120"
        },
        {
            "7480000000000000315f698000000000000008038000000000000001",
            "007d017f0031038000000000000001016100000000000000f8010e33000000000000f9016100000000000000f8010041000000000000f980000300000003040501000200040041014120"
        },
        {
            "7480000000000000315f698000000000000003016100000000000000f8038000000000000001016100000000000000f8010e33000000000000f9016100000000000000f8010041000000000000f9",
            "007d0180000300000003040501000200040041014120"
        },
        {
            "7480000000000000405f698000000000000009016100000000000000f8",
            "007d017f0031038000000000000001016100000000000000f8010e33000000000000f9016100000000000000f8010041000000000000f980000300000003040501000200040041014120"
        },
        {
            "7480000000000000405f698000000000000004010e33000000000000f9038000000000000001016100000000000000f8010e33000000000000f9016100000000000000f8010041000000000000f9",
            "007d0180000300000003040501000200040041014120"
        },
        {
            "7480000000000000405f69800000000000000a010e33000000000000f9",
            "007d017f0031038000000000000001016100000000000000f8010e33000000000000f9016100000000000000f8010041000000000000f980000300000003040501000200040041014120"
        },
        {
            "7480000000000000405f698000000000000005016100000000000000f8038000000000000001016100000000000000f8010e33000000000000f9016100000000000000f8010041000000000000f9",
            "007d0180000300000003040501000200040041014120"
        },
        {
            "7480000000000000405f69800000000000000b016100000000000000f8",
            "007d017f0031038000000000000001016100000000000000f8010e33000000000000f9016100000000000000f8010041000000000000f980000300000003040501000200040041014120"
        },
        {
            "7480000000000000405f698000000000000006010041000000000000f9038000000000000001016100000000000000f8010e33000000000000f9016100000000000000f8010041000000000000f9",
            "007d0180000300000003040501000200040041014120"
        },
        {
            "7480000000000000405f69800000000000000c010041000000000000f9",
            "007d017f0031038000000000000001016100000000000000f8010e33000000000000f9016100000000000000f8010041000000000000f980000300000003040501000200040041014120"
        },
        {
            "7480000000000000405f698000000000000007038000000000000001016100000000000000f8010e33000000000000f9016100000000000000f8010041000000000000f9038000000000000001016100000000000000f8010e33000000000000f9016100000000000000f8010041000000000000f9",
            "007d0180000300000003040501000200040041014120"
        },
        {
            "7480000000000000405f69800000000000000d038000000000000001016100000000000000f8010e33000000000000f9016100000000000000f8010041000000000000f9",
            "007d017f0031038000000000000001016100000000000000f8010e33000000000000f9016100000000000000f8010041000000000000f980000300000003040501000200040041014120"
        },
    };

    private static TableInfo rowIdTable(int stringType) {
        return TestTables.table(0, "t")
                .column(1, "a", MysqlType.LONG, 0, 11, 0, null)
                .column(2, "b", stringType, 0, 10, 0, "utf8mb4_bin")
                .column(3, "c", stringType, 0, 10, 0, "utf8mb4_unicode_ci")
                .index(1, "i_a", false, "a")
                .index(2, "i_b", false, "b")
                .index(3, "i_c", false, "c")
                .index(4, "i_abc", false, "a", "b", "c")
                .index(5, "i_ua", true, "a")
                .index(6, "i_ub", true, "b")
                .index(7, "i_uc", true, "c")
                .index(8, "i_uabc", true, "a", "b", "c")
                .build();
    }

    private static void check(TableInfo t, Object[] row, Handle handle, String[][] vectors) {
        TableCodec codec = new TableCodec(t);
        for (String[] v : vectors) {
            byte[] key = unhex(v[0]);
            long physicalId = TableCodec.physicalId(key);
            long indexId = TableCodec.indexId(key);
            IndexInfo idx =
                    t.indices.stream().filter(i -> i.id == indexId).findFirst().orElseThrow();
            Handle h = handle != null ? handle : codec.handleOf(row);
            KeyValue kv = codec.indexEntry(physicalId, idx, row, h);
            assertThat(hex(kv.key())).as("key of %s", idx.name.o).isEqualTo(v[0]);
            assertThat(hex(kv.value())).as("value of %s", idx.name.o).isEqualTo(v[1]);
            assertThat(codec.indexHandle(idx, key, unhex(v[1]))).isEqualTo(h);
        }
    }

    @Test
    void charIndexesWithIntHandle() {
        check(
                rowIdTable(MysqlType.STRING),
                new Object[] {1L, "a ", "A "},
                Handle.ofInt(1),
                CHAR_INDEXES);
    }

    @Test
    void varcharIndexesWithIntHandle() {
        check(
                rowIdTable(MysqlType.VARCHAR),
                new Object[] {1L, "a ", "A "},
                Handle.ofInt(1),
                VARCHAR_INDEXES);
    }

    @Test
    void indexesOfAClusteredTable() {
        TableInfo t =
                TestTables.table(0, "t")
                        .column(1, "a", MysqlType.LONG, 0, 11, 0, null)
                        .column(2, "b", MysqlType.STRING, 0, 10, 0, "utf8mb4_bin")
                        .column(3, "c", MysqlType.STRING, 0, 10, 0, "utf8mb4_unicode_ci")
                        .column(4, "d", MysqlType.VARCHAR, 0, 10, 0, "utf8mb4_bin")
                        .column(5, "e", MysqlType.VARCHAR, 0, 10, 0, "utf8mb4_general_ci")
                        .index(1, "PRIMARY", true, true, "a", "b", "c", "d", "e")
                        .clustered()
                        .index(2, "i_a", false, "a")
                        .index(3, "i_b", false, "b")
                        .index(4, "i_c", false, "c")
                        .index(5, "i_d", false, "d")
                        .index(6, "i_e", false, "e")
                        .index(7, "i_abcde", false, "a", "b", "c", "d", "e")
                        .index(8, "i_ua", true, "a")
                        .index(9, "i_ub", true, "b")
                        .index(10, "i_uc", true, "c")
                        .index(11, "i_ud", true, "d")
                        .index(12, "i_ue", true, "e")
                        .index(13, "i_uabcde", true, "a", "b", "c", "d", "e")
                        .build();
        check(t, new Object[] {1L, "a ", "A ", "a ", "A "}, null, CLUSTERED_INDEXES);
    }
}
