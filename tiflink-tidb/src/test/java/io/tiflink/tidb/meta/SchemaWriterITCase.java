package io.tiflink.tidb.meta;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.tidb.table.Handle;
import io.tiflink.tidb.table.KeyValue;
import io.tiflink.tidb.table.TableCodec;
import io.tiflink.tidb.table.TestTables;
import io.tiflink.tidb.types.MysqlType;

import org.tikv.common.BytePairWrapper;
import org.tikv.common.ByteWrapper;
import org.tikv.common.Snapshot;
import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;
import org.tikv.common.catalog.Catalog;
import org.tikv.common.meta.TiTableInfo;
import org.tikv.common.util.ConcreteBackOffer;
import org.tikv.txn.TwoPhaseCommitter;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** DDL through 2PC against the minicluster, read back by MetaReader and tikv-client-java. */
class SchemaWriterITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(1));

    private static TiSession session;
    private static SchemaWriter writer;

    @BeforeAll
    static void start() {
        session = TiSession.create(TiConfiguration.createDefault(TIKV.cluster().pdAddress()));
        writer = new SchemaWriter(session);
    }

    @AfterAll
    static void stop() throws Exception {
        session.close();
    }

    static void commit(TiSession s, List<KeyValue> kvs) throws Exception {
        long startTs = s.getTimestamp().getVersion();
        try (TwoPhaseCommitter c = new TwoPhaseCommitter(s, startTs)) {
            byte[] primary = kvs.get(0).key();
            c.prewritePrimaryKey(
                    ConcreteBackOffer.newCustomBackOff(5000), primary, kvs.get(0).value());
            List<BytePairWrapper> rest = new ArrayList<>();
            List<ByteWrapper> keys = new ArrayList<>();
            for (KeyValue kv : kvs.subList(1, kvs.size())) {
                rest.add(new BytePairWrapper(kv.key(), kv.value()));
                keys.add(new ByteWrapper(kv.key()));
            }
            c.prewriteSecondaryKeys(primary, rest.iterator(), 5000);
            long commitTs = s.getTimestamp().getVersion();
            c.commitPrimaryKey(ConcreteBackOffer.newCustomBackOff(5000), primary, commitTs);
            c.commitSecondaryKeys(keys.iterator(), commitTs, 5000);
        }
    }

    @Test
    void clientJavaCatalogReadsWhatTheWriterWrote(MiniTiKVCluster cluster) throws Exception {
        long before = writer.schemaVersion();
        DBInfo db = writer.createDatabase("shop");
        TableInfo spec =
                TestTables.table(0, "orders")
                        .column(0, "id", MysqlType.LONGLONG)
                        .pkIsHandle()
                        .column(0, "name", MysqlType.VARCHAR, 0, 64, 0, "utf8mb4_bin")
                        .index(0, "idx_name", false, "name")
                        .build();
        TableInfo orders = writer.createTable("shop", spec);

        MetaReader meta = MetaReader.latest(session);
        assertThat(meta.schemaVersion()).isEqualTo(before + 2);
        SchemaDiff diff = meta.schemaDiff(before + 2);
        assertThat(diff.type).isEqualTo(SchemaDiff.CREATE_TABLE);
        assertThat(diff.tableId).isEqualTo(orders.id);
        assertThat(meta.nextGlobalId()).isGreaterThanOrEqualTo(orders.id);
        assertThat(meta.table("SHOP", "Orders").columns)
                .extracting(ColumnInfo::name)
                .containsExactly("id", "name");
        assertThat(orders.id).isGreaterThan(db.id);

        try (TiSession fresh =
                TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()))) {
            Catalog catalog = fresh.getCatalog();
            TiTableInfo ti = catalog.getTable("shop", "orders");
            assertThat(ti).isNotNull();
            assertThat(ti.getId()).isEqualTo(orders.id);
            assertThat(ti.isPkHandle()).isTrue();
            assertThat(ti.getIndices()).hasSize(1);

            // Rows written with our codec are what client-java decodes.
            TableCodec codec = new TableCodec(orders);
            Object[] row = {42L, "widget"};
            commit(fresh, codec.encodeRecord(orders.id, row, codec.handleOf(row)));
            Snapshot snap = new Snapshot(fresh.getTimestamp(), fresh);
            byte[] key = TableCodec.recordKey(orders.id, Handle.ofInt(42));
            byte[] value = snap.get(key);
            assertThat(org.tikv.common.codec.TableCodec.decodeObjects(value, 42L, ti))
                    .containsExactly(42L, "widget");
            assertThat(codec.decode(key, value)).containsExactly(42L, "widget");
        }
    }

    @Test
    void addedColumnsReadTheirDefaultInOldRows() throws Exception {
        writer.createDatabase("alter_db");
        TableInfo t =
                writer.createTable(
                        "alter_db",
                        TestTables.table(0, "t")
                                .column(0, "id", MysqlType.LONGLONG)
                                .pkIsHandle()
                                .build());
        TableCodec v1 = new TableCodec(t);
        commit(session, v1.encodeRecord(t.id, new Object[] {1L}, Handle.ofInt(1)));

        ColumnInfo c = new ColumnInfo();
        c.name = CIStr.of("flag");
        c.type = new FieldType(MysqlType.VARCHAR);
        c.type.flen = 8;
        c.type.charset = "utf8mb4";
        c.type.collate = "utf8mb4_bin";
        c.defaultValue = "on";
        TableInfo altered = writer.addColumn("alter_db", "t", c);
        assertThat(MetaReader.latest(session).schemaDiff(writer.schemaVersion()).type)
                .isEqualTo(SchemaDiff.ADD_COLUMN);

        byte[] key = TableCodec.recordKey(t.id, Handle.ofInt(1));
        byte[] value = new Snapshot(session.getTimestamp(), session).get(key);
        assertThat(new TableCodec(altered).decode(key, value)).containsExactly(1L, "on");

        ColumnInfo at = new ColumnInfo();
        at.name = CIStr.of("at");
        at.type = new FieldType(MysqlType.TIMESTAMP);
        at.defaultValue = "CURRENT_TIMESTAMP";
        long before = System.currentTimeMillis() / 1000;
        altered = writer.addColumn("alter_db", "t", at);
        Object[] row = new TableCodec(altered).decode(key, value);
        assertThat(((java.time.Instant) row[2]).getEpochSecond())
                .isBetween(before - 5, before + 60);

        TableInfo dropped = writer.dropColumn("alter_db", "t", "flag");
        assertThat(dropped.columns).extracting(ColumnInfo::name).containsExactly("id", "at");
        writer.dropTable("alter_db", "t");
        assertThat(MetaReader.latest(session).table("alter_db", "t")).isNull();
        writer.dropDatabase("alter_db");
        assertThat(MetaReader.latest(session).database("alter_db")).isNull();
    }

    @Test
    void readsAtAnOlderTsSeeTheOlderSchema() {
        writer.createDatabase("versions");
        long ts = session.getTimestamp().getVersion();
        writer.createTable(
                "versions", TestTables.table(0, "later").column(0, "a", MysqlType.LONG).build());
        assertThat(new MetaReader(session, ts).table("versions", "later")).isNull();
        assertThat(MetaReader.latest(session).table("versions", "later")).isNotNull();
        assertThat(new MetaReader(session, ts).schemaVersion())
                .isEqualTo(MetaReader.latest(session).schemaVersion() - 1);
    }

    @Test
    void errorsNameTheObject() {
        assertThatThrownBy(() -> writer.dropTable("nope", "t"))
                .hasMessageContaining("database 'nope' does not exist");
        writer.createDatabase("dup");
        assertThatThrownBy(() -> writer.createDatabase("dup"))
                .hasMessageContaining("'dup' already exists");
    }
}
