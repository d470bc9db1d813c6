package io.tiflink.tidb.meta;

import io.tiflink.tidb.table.Handle;
import io.tiflink.tidb.table.TableCodec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;

import static io.tiflink.tikv.Keys.hex;
import static org.assertj.core.api.Assertions.assertThat;

/** The model reads TiDB-written JSON and writes it back without losing a field. */
class MetaJsonTest {
    /**
     * A TableInfo as TiDB wrote it after {@code ALTER TABLE test DROP COLUMN b} on a table with the
     * clustered primary key (a, c): pingcap/tiflash, the gtest
     * DecodingStorageSchemaSnapshotTest.CheckPKInfosUnderClusteredIndexAfterDropColumn.
     */
    static final String TIDB_TABLE =
            "{\"id\":75,\"name\":{\"O\":\"test\",\"L\":\"test\"},\"charset\":\"utf8mb4\",\"collate\":\"utf8mb4_bin\",\"cols\":[{\"id\":1,\"name\":{\"O\":\"A\",\"L\":\"a\"},\"offset\":0,\"origin_default\":null,\"origin_default_bit\":null,\"default\":null,\"default_bit\":null,\"default_is_expr\":false,\"generated_expr_string\":\"\",\"generated_stored\":false,\"dependences\":null,\"type\":{\"Tp\":3,\"Flag\":4099,\"Flen\":11,\"Decimal\":0,\"Charset\":\"binary\",\"Collate\":\"binary\",\"Elems\":null},\"state\":5,\"comment\":\"\",\"hidden\":false,\"change_state_info\":null,\"version\":2},{\"id\":3,\"name\":{\"O\":\"C\",\"L\":\"c\"},\"offset\":1,\"origin_default\":null,\"origin_default_bit\":null,\"default\":null,\"default_bit\":null,\"default_is_expr\":false,\"generated_expr_string\":\"\",\"generated_stored\":false,\"dependences\":null,\"type\":{\"Tp\":3,\"Flag\":4099,\"Flen\":11,\"Decimal\":0,\"Charset\":\"binary\",\"Collate\":\"binary\",\"Elems\":null},\"state\":5,\"comment\":\"\",\"hidden\":false,\"change_state_info\":null,\"version\":2},{\"id\":4,\"name\":{\"O\":\"D\",\"L\":\"d\"},\"offset\":2,\"origin_default\":null,\"origin_default_bit\":null,\"default\":null,\"default_bit\":null,\"default_is_expr\":false,\"generated_expr_string\":\"\",\"generated_stored\":false,\"dependences\":null,\"type\":{\"Tp\":3,\"Flag\":0,\"Flen\":11,\"Decimal\":0,\"Charset\":\"binary\",\"Collate\":\"binary\",\"Elems\":null},\"state\":5,\"comment\":\"\",\"hidden\":false,\"change_state_info\":null,\"version\":2}],\"index_info\":[{\"id\":1,\"idx_name\":{\"O\":\"PRIMARY\",\"L\":\"primary\"},\"tbl_name\":{\"O\":\"\",\"L\":\"\"},\"idx_cols\":[{\"name\":{\"O\":\"A\",\"L\":\"a\"},\"offset\":0,\"length\":-1},{\"name\":{\"O\":\"C\",\"L\":\"c\"},\"offset\":1,\"length\":-1}],\"state\":5,\"comment\":\"\",\"index_type\":1,\"is_unique\":true,\"is_primary\":true,\"is_invisible\":false,\"is_global\":false}],\"constraint_info\":null,\"fk_info\":null,\"state\":5,\"pk_is_handle\":false,\"is_common_handle\":true,\"common_handle_version\":1,\"comment\":\"\",\"auto_inc_id\":0,\"auto_id_cache\":0,\"auto_rand_id\":0,\"max_col_id\":4,\"max_idx_id\":1,\"max_cst_id\":0,\"update_timestamp\":434039123413303302,\"ShardRowIDBits\":0,\"max_shard_row_id_bits\":0,\"auto_random_bits\":0,\"pre_split_regions\":0,\"partition\":null,\"compression\":\"\",\"view\":null,\"sequence\":null,\"Lock\":null,\"version\":4,\"tiflash_replica\":{\"Count\":1,\"LocationLabels\":[],\"Available\":false,\"AvailablePartitionIDs\":null},\"is_columnar\":false,\"temp_table_type\":0,\"cache_table_status\":0,\"policy_ref_info\":null,\"stats_options\":null}";

    @Test
    void readsTiDBsTableInfo() {
        TableInfo t = MetaJson.read(TIDB_TABLE.getBytes(StandardCharsets.UTF_8), TableInfo.class);
        assertThat(t.id).isEqualTo(75);
        assertThat(t.isCommonHandle).isTrue();
        assertThat(t.commonHandleVersion).isEqualTo(1);
        assertThat(t.primaryKeyColumns()).containsExactly("A", "C");
        assertThat(t.columns).extracting(c -> c.id).containsExactly(1L, 3L, 4L);
        assertThat(t.columns.get(1).type.isNotNull()).isTrue();
        assertThat(t.isView()).isFalse();

        // A clustered key of two ints: t75_r{03 a}{03 c}.
        TableCodec codec = new TableCodec(t);
        Object[] row = {1L, 2L, 3L};
        Handle h = codec.handleOf(row);
        assertThat(hex(TableCodec.recordKey(75, h)))
                .isEqualTo("74800000000000004b5f7203800000000000000103800000000000000" + "2");
        assertThat(codec.decode(TableCodec.recordKey(75, h), codec.encodeValue(row)))
                .containsExactly(1L, 2L, 3L);
    }

    @Test
    void writesBackEveryFieldTiDBWrote() throws Exception {
        ObjectMapper m = new ObjectMapper();
        JsonNode original = m.readTree(TIDB_TABLE);
        JsonNode rewritten =
                m.readTree(
                        MetaJson.write(
                                MetaJson.read(
                                        TIDB_TABLE.getBytes(StandardCharsets.UTF_8),
                                        TableInfo.class)));
        assertContains(rewritten, original, "$");
    }

    private static void assertContains(JsonNode actual, JsonNode expected, String path) {
        if (expected.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                assertThat(actual.has(f.getKey())).as("%s.%s is kept", path, f.getKey()).isTrue();
                assertContains(actual.get(f.getKey()), f.getValue(), path + "." + f.getKey());
            }
        } else if (expected.isArray()) {
            assertThat(actual.size()).as(path).isEqualTo(expected.size());
            for (int i = 0; i < expected.size(); i++) {
                assertContains(actual.get(i), expected.get(i), path + "[" + i + "]");
            }
        } else {
            assertThat(actual).as(path).isEqualTo(expected);
        }
    }
}
