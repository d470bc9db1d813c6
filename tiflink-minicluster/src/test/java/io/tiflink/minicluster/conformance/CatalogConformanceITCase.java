package io.tiflink.minicluster.conformance;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.codec.KeyCodec;
import io.tiflink.minicluster.junit.MiniTiKVExtension;

import org.tikv.common.BytePairWrapper;
import org.tikv.common.TiSession;
import org.tikv.common.catalog.Catalog;
import org.tikv.common.meta.TiDBInfo;
import org.tikv.common.meta.TiTableInfo;
import org.tikv.common.util.ConcreteBackOffer;
import org.tikv.txn.TwoPhaseCommitter;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * TiSession start-up and the TiDB catalog. A bare TiKV has no TiDB schema: the client's Catalog
 * reads {@code SchemaVersionKey} in its constructor and fails when the key is missing, exactly as
 * against a real TiKV without TiDB. Once TiDB's meta keys exist (written here through 2PC, as TiDB
 * would), the catalog loads.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CatalogConformanceITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(1).splitAt(Wire.bytes("m"), Wire.bytes("n")));

    /** TiDB's meta string key: {@code m + EncodeBytes(key) + EncodeUint('s')}. */
    static byte[] metaStringKey(String key) {
        return concat(
                new byte[] {'m'},
                KeyCodec.encodeBytes(key.getBytes(StandardCharsets.UTF_8)),
                u64('s'));
    }

    /** TiDB's meta hash field: {@code m + EncodeBytes(key) + EncodeUint('h') + EncodeBytes(f)}. */
    static byte[] metaHashKey(String key, String field) {
        return concat(
                new byte[] {'m'},
                KeyCodec.encodeBytes(key.getBytes(StandardCharsets.UTF_8)),
                u64('h'),
                KeyCodec.encodeBytes(field.getBytes(StandardCharsets.UTF_8)));
    }

    private static byte[] u64(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static String hex(byte[] b) {
        return KeyCodec.toHex(b);
    }

    private static void commitRaw(TiSession session, List<BytePairWrapper> pairs) throws Exception {
        long startTs = session.getTimestamp().getVersion();
        try (TwoPhaseCommitter c = new TwoPhaseCommitter(session, startTs)) {
            c.prewritePrimaryKey(
                    ConcreteBackOffer.newCustomBackOff(5000),
                    pairs.get(0).getKey(),
                    pairs.get(0).getValue());
            if (pairs.size() > 1) {
                c.prewriteSecondaryKeys(
                        pairs.get(0).getKey(), pairs.subList(1, pairs.size()).iterator(), 5000);
            }
            long commitTs = session.getTimestamp().getVersion();
            c.commitPrimaryKey(
                    ConcreteBackOffer.newCustomBackOff(5000), pairs.get(0).getKey(), commitTs);
            if (pairs.size() > 1) {
                List<org.tikv.common.ByteWrapper> keys = new ArrayList<>();
                for (BytePairWrapper p : pairs.subList(1, pairs.size())) {
                    keys.add(new org.tikv.common.ByteWrapper(p.getKey()));
                }
                c.commitSecondaryKeys(keys.iterator(), commitTs, 5000);
            }
        }
    }

    @Test
    void metaKeyBytesMatchTiDB() {
        // Worked examples from TiDB's meta layout (spec 4.1).
        assertThat(hex(metaStringKey("SchemaVersionKey")))
                .isEqualTo(
                        "6d536368656d615665ff7273696f6e4b6579ff0000000000000000f7"
                                + "0000000000000073");
        assertThat(hex(metaHashKey("DBs", "DB:2")))
                .isEqualTo("6d4442730000000000fa000000000000006844423a3200000000fb");
    }

    @Test
    @Order(1)
    void sessionStartsButCatalogFailsWithoutTiDBSchema(MiniTiKVCluster cluster) throws Exception {
        try (TiSession session = Wire.session(cluster)) {
            // Session start-up talks to PD only: members, then a TSO on first use.
            assertThat(session.getPDClient().getClusterId()).isEqualTo(cluster.clusterId());
            assertThat(session.getTimestamp().getVersion()).isPositive();
            // No SchemaVersionKey: the catalog parses "" as a long and throws.
            assertThatThrownBy(session::getCatalog)
                    .satisfies(e -> assertThat(e).hasStackTraceContaining("NumberFormatException"));
        }
    }

    @Test
    @Order(2)
    void emptySchemaLoadsOnceSchemaVersionKeyExists(MiniTiKVCluster cluster) throws Exception {
        try (TiSession session = Wire.session(cluster)) {
            List<BytePairWrapper> meta = new ArrayList<>();
            meta.add(new BytePairWrapper(metaStringKey("SchemaVersionKey"), Wire.bytes("1")));
            commitRaw(session, meta);

            Catalog catalog = session.getCatalog();
            assertThat(catalog.listDatabases()).isEmpty();
            assertThat(catalog.getDatabase("test")).isNull();
            assertThat(catalog.getTable("test", "orders")).isNull();
        }
    }

    @Test
    @Order(3)
    void catalogSeesDatabasesAndTablesWrittenThroughTwoPhaseCommit(MiniTiKVCluster cluster)
            throws Exception {
        try (TiSession session = Wire.session(cluster)) {
            String db =
                    "{\"id\":2,\"db_name\":{\"O\":\"test\",\"L\":\"test\"},"
                            + "\"charset\":\"utf8mb4\",\"collate\":\"utf8mb4_bin\",\"state\":5}";
            String table =
                    "{\"id\":100,\"name\":{\"O\":\"orders\",\"L\":\"orders\"},"
                            + "\"charset\":\"utf8mb4\",\"collate\":\"utf8mb4_bin\",\"cols\":["
                            + "{\"id\":1,\"name\":{\"O\":\"id\",\"L\":\"id\"},\"offset\":0,"
                            + "\"state\":5,\"version\":2,\"type\":{\"Tp\":8,\"Flag\":515,"
                            + "\"Flen\":20,\"Decimal\":0,\"Charset\":\"binary\","
                            + "\"Collate\":\"binary\",\"Elems\":null}},"
                            + "{\"id\":2,\"name\":{\"O\":\"name\",\"L\":\"name\"},\"offset\":1,"
                            + "\"state\":5,\"version\":2,\"type\":{\"Tp\":15,\"Flag\":0,"
                            + "\"Flen\":64,\"Decimal\":0,\"Charset\":\"utf8mb4\","
                            + "\"Collate\":\"utf8mb4_bin\",\"Elems\":null}}],"
                            + "\"index_info\":[],\"state\":5,\"pk_is_handle\":true,"
                            + "\"comment\":\"\",\"auto_inc_id\":0,\"max_col_id\":2,"
                            + "\"max_idx_id\":0,\"update_timestamp\":0,\"partition\":null,"
                            + "\"version\":5}";
            List<BytePairWrapper> meta = new ArrayList<>();
            meta.add(new BytePairWrapper(metaStringKey("SchemaVersionKey"), Wire.bytes("2")));
            meta.add(new BytePairWrapper(metaHashKey("DBs", "DB:2"), Wire.bytes(db)));
            meta.add(new BytePairWrapper(metaHashKey("DB:2", "Table:100"), Wire.bytes(table)));
            meta.add(new BytePairWrapper(metaHashKey("DB:2", "TID:100"), Wire.bytes("0")));
            commitRaw(session, meta);

            Catalog catalog = session.getCatalog();
            assertThat(catalog.listDatabases())
                    .extracting(TiDBInfo::getName)
                    .containsExactly("test");
            TiTableInfo orders = catalog.getTable("test", "orders");
            assertThat(orders).isNotNull();
            assertThat(orders.getId()).isEqualTo(100);
            assertThat(orders.isPkHandle()).isTrue();
            assertThat(orders.getColumns()).hasSize(2);
            assertThat(catalog.listTables(catalog.getDatabase("test"))).hasSize(1);
        }
    }
}
