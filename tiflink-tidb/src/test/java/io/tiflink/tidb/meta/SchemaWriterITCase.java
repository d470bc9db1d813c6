package io.tiflink.tidb.meta;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.tidb.table.Handle;
import io.tiflink.tidb.table.KeyValue;
import io.tiflink.tidb.table.TableCodec;
import io.tiflink.tidb.table.TestTables;
import io.tiflink.tidb.types.MysqlType;
import io.tiflink.tidb.write.RowWrite;
import io.tiflink.tidb.write.TableWriter;
import io.tiflink.tidb.write.WriteTestBed;
import io.tiflink.tikv.Keys;

import org.tikv.common.BytePairWrapper;
import org.tikv.common.ByteWrapper;
import org.tikv.common.Snapshot;
import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;
import org.tikv.common.catalog.Catalog;
import org.tikv.common.meta.TiTableInfo;
import org.tikv.common.util.ConcreteBackOffer;
import org.tikv.shade.com.google.protobuf.ByteString;
import org.tikv.txn.TwoPhaseCommitter;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntConsumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** DDL through 2PC against the minicluster, read back by MetaReader and tikv-client-java. */
class SchemaWriterITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(1));

    private static TiSession session;
    private static SchemaWriter writer;
    private static WriteTestBed bed;

    @BeforeAll
    static void start() {
        session = TiSession.create(TiConfiguration.createDefault(TIKV.cluster().pdAddress()));
        writer = new SchemaWriter(session);
        bed = new WriteTestBed(TIKV.cluster());
    }

    @AfterAll
    static void stop() throws Exception {
        bed.close();
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

    /** TiDB's split-table: each physical table's rows start a region at {@code t<id>}. */
    @Test
    void createTableSplitsARegionForEachPhysicalTable(MiniTiKVCluster cluster) throws Exception {
        writer.createDatabase("split_db");
        TableInfo plain =
                writer.createTable(
                        "split_db",
                        TestTables.table(0, "plain")
                                .column(0, "id", MysqlType.LONGLONG)
                                .pkIsHandle()
                                .build());
        // A schema file's table, partitioned: each partition is split, not the logical table.
        bed.ddl(
                "USE split_db; CREATE TABLE parts (id BIGINT PRIMARY KEY) PARTITION BY HASH(id)"
                        + " PARTITIONS 3;");
        TableInfo parts = bed.table("split_db", "parts");

        assertThat(parts.physicalIds()).hasSize(3).doesNotContain(parts.id);
        List<Long> physicalIds = new ArrayList<>();
        try (TiSession fresh =
                TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()))) {
            for (TableInfo t : List.of(plain, parts)) {
                TableCodec codec = new TableCodec(t);
                for (long id : t.physicalIds()) {
                    Object[] row = {id};
                    List<KeyValue> record = codec.encodeRecord(id, row, codec.handleOf(row));
                    commit(fresh, record);
                    ByteString key = ByteString.copyFrom(record.get(0).key());
                    assertThat(fresh.getRegionManager().getRegionByKey(key).getStartKey())
                            .as("start of the region of physical table %d", id)
                            .isEqualTo(ByteString.copyFrom(TableCodec.tablePrefix(id)));
                    physicalIds.add(id);
                }
            }
        }
        // Each region ends where the next table's starts.
        for (int i = 0; i + 1 < physicalIds.size(); i++) {
            assertThat(cluster.regions().locate(TableCodec.tablePrefix(physicalIds.get(i))).end)
                    .isEqualTo(TableCodec.tablePrefix(physicalIds.get(i + 1)));
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

    // ---- indexes ----

    private static final int[] ADD_STATES = {
        SchemaState.DELETE_ONLY,
        SchemaState.WRITE_ONLY,
        SchemaState.WRITE_REORGANIZATION,
        SchemaState.PUBLIC
    };

    private static final int[] DROP_STATES = {
        SchemaState.WRITE_ONLY,
        SchemaState.DELETE_ONLY,
        SchemaState.DELETE_REORGANIZATION,
        SchemaState.NONE
    };

    private static Object[] user(long id, String email, String city) {
        return new Object[] {id, email, city};
    }

    /** A new database with a table of these columns and rows; the database. */
    private static DBInfo tableWithRows(
            String database, String table, String columns, Object[]... rows) {
        bed.ddl(
                "CREATE DATABASE "
                        + database
                        + "; USE "
                        + database
                        + "; CREATE TABLE "
                        + table
                        + " ("
                        + columns
                        + ");");
        RowWrite[] inserts = new RowWrite[rows.length];
        for (int i = 0; i < rows.length; i++) {
            inserts[i] = RowWrite.insert(rows[i]);
        }
        write(bed.writer(database, table), inserts);
        return MetaReader.latest(session).database(database);
    }

    /** Writes in a transaction of its own, through a writer that loaded the schema earlier. */
    private static void write(TableWriter w, RowWrite... changes) {
        List<RowWrite> checked = new ArrayList<>();
        for (RowWrite c : changes) {
            checked.add(w.checked(c));
        }
        w.writeAlone(checked);
    }

    /**
     * Runs {@code change} step by step: each step writes one schema version whose diff is {@code
     * action}, leaves the index in the next of {@code states} as MetaReader reads it, and is
     * followed by {@code between} (given the step's number, from 0).
     */
    private static void step(
            IndexChange change, DBInfo db, int action, int[] states, IntConsumer between) {
        for (int i = 0; i < states.length; i++) {
            long before = writer.schemaVersion();
            assertThat(change.done()).isFalse();
            assertThat(change.next()).isEqualTo(states[i]);
            assertThat(change.schemaVersion()).isEqualTo(before + 1);
            MetaReader meta = MetaReader.latest(session);
            assertThat(meta.schemaVersion()).isEqualTo(before + 1);
            SchemaDiff diff = meta.schemaDiff(before + 1);
            assertThat(diff.type).isEqualTo(action);
            assertThat(diff.schemaId).isEqualTo(db.id);
            assertThat(diff.tableId).isEqualTo(change.table().id);
            IndexInfo idx = meta.table(db.id, change.table().id).index(change.index());
            if (states[i] == SchemaState.NONE) {
                assertThat(idx).isNull();
            } else {
                assertThat(idx.state).isEqualTo(states[i]);
                assertThat(idx.id).isEqualTo(change.indexId());
            }
            between.accept(i);
        }
        int last = states[states.length - 1];
        assertThat(change.done()).isEqualTo(last == SchemaState.PUBLIC || last == SchemaState.NONE);
    }

    @Test
    void addIndexGoesThroughTiDBsStatesAndBackfillsWhatWritersLeft(MiniTiKVCluster cluster)
            throws Exception {
        DBInfo db =
                tableWithRows(
                        "ix",
                        "users",
                        "id BIGINT PRIMARY KEY, email VARCHAR(32) NOT NULL, city VARCHAR(16)",
                        user(1, "a@x", "paris"),
                        user(2, "b@x", "oslo"),
                        user(3, "c@x", "paris"),
                        user(4, "d@x", "rome"),
                        user(5, "e@x", null),
                        user(6, "f@x", "oslo"));
        // Three rows a batch: the backfill takes several transactions.
        SchemaWriter small = new SchemaWriter(session, 3);
        IndexChange add = small.startAddIndex("ix", "users", IndexInfo.of("k_city", false, "city"));
        assertThat(add.state()).isEqualTo(SchemaState.NONE);
        TableWriter[] writers = new TableWriter[ADD_STATES.length];
        step(
                add,
                db,
                SchemaDiff.ADD_INDEX,
                ADD_STATES,
                i -> {
                    // A writer that reads the schema at this step, as a TiDB server would.
                    TableWriter w = bed.writer("ix", "users");
                    writers[i] = w;
                    switch (i) {
                        case 0: // delete-only: rows get no entry, deletes remove theirs
                            write(w, RowWrite.insert(user(11, "k@x", "lima")));
                            write(w, RowWrite.delete(user(1, "a@x", "paris")));
                            break;
                        case 1: // write-only: rows get their entry
                            write(w, RowWrite.insert(user(12, "l@x", "kiev")));
                            write(w, RowWrite.upsert(user(2, "b@x", "bern")));
                            write(w, RowWrite.delete(user(3, "c@x", "paris")));
                            // A row written with the entry and deleted by a writer one version
                            // behind (delete-only) loses its entry too.
                            write(w, RowWrite.insert(user(15, "o@x", "nice")));
                            write(writers[0], RowWrite.delete(user(15, "o@x", "nice")));
                            break;
                        case 2: // write reorganization, before the backfill
                            write(w, RowWrite.insert(user(13, "m@x", "oslo")));
                            write(w, RowWrite.upsert(user(4, "d@x", "riga")));
                            break;
                        default: // public
                            write(w, RowWrite.insert(user(14, "n@x", "oslo")));
                            write(w, RowWrite.delete(user(5, "e@x", null)));
                    }
                });
        // Rows 5, 6 and 11 had no entry when the backfill ran; 2, 4, 12 and 13 had theirs.
        assertThat(add.backfilled()).isEqualTo(3);
        TableInfo t = bed.table("ix", "users");
        // Every row has exactly the entries TableCodec computes for it, and no other is left.
        assertThat(bed.rows(t))
                .containsExactly(
                        "[2, b@x, bern]",
                        "[4, d@x, riga]",
                        "[6, f@x, oslo]",
                        "[11, k@x, lima]",
                        "[12, l@x, kiev]",
                        "[13, m@x, oslo]",
                        "[14, n@x, oslo]");
        assertThat(bed.indexEntries(t, bed.txn().timestamp())).hasSize(7);
        assertThat(t.column("city").type.hasFlag(MysqlType.MULTIPLE_KEY_FLAG)).isTrue();

        // A unique index, run to the end at once.
        long before = writer.schemaVersion();
        TableInfo withUnique = writer.addIndex("ix", "users", "uk_email", true, "email");
        assertThat(writer.schemaVersion()).isEqualTo(before + 4);
        assertThat(withUnique.index("uk_email").state).isEqualTo(SchemaState.PUBLIC);
        assertThat(withUnique.index("uk_email").unique).isTrue();
        assertThat(withUnique.index("uk_email").id).isEqualTo(withUnique.maxIndexId);
        assertThat(withUnique.column("email").type.hasFlag(MysqlType.UNIQUE_KEY_FLAG)).isTrue();
        assertThat(bed.rows(withUnique)).hasSize(7);
        assertThat(bed.indexEntries(withUnique, bed.txn().timestamp())).hasSize(14);
        // Writers of the new schema check the new unique key.
        assertThatThrownBy(
                        () ->
                                write(
                                        bed.writer("ix", "users"),
                                        RowWrite.insert(user(20, "b@x", "oslo"))))
                .hasMessageContaining("Duplicate entry 'b@x' for key 'users.uk_email'");

        // tikv-client-java's catalog reads the table with its new indexes.
        try (TiSession fresh =
                TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()))) {
            TiTableInfo ti = fresh.getCatalog().getTable("ix", "users");
            assertThat(ti.getIndices())
                    .extracting(i -> i.getName() + (i.isUnique() ? " unique" : ""))
                    .containsExactly("k_city", "uk_email unique");
        }

        // DROP INDEX: through its states, then its entries are deleted.
        IndexChange drop = writer.startDropIndex("ix", "users", "k_city");
        long cityIndex = drop.indexId();
        step(drop, db, SchemaDiff.DROP_INDEX, DROP_STATES, i -> {});
        t = bed.table("ix", "users");
        assertThat(t.indices).extracting(i -> i.name.o).containsExactly("uk_email");
        assertThat(t.column("city").type.hasFlag(MysqlType.MULTIPLE_KEY_FLAG)).isFalse();
        assertThat(bed.rows(t)).hasSize(7);
        assertThat(entriesOf(t, cityIndex)).isEmpty();
    }

    /** The entries stored under index {@code indexId} of the table (each partition). */
    private static Map<String, String> entriesOf(TableInfo t, long indexId) {
        Map<String, String> out = new TreeMap<>();
        for (long physicalId : t.physicalIds()) {
            String prefix = Keys.hex(TableCodec.indexPrefix(physicalId, indexId));
            bed.indexEntries(t, bed.txn().timestamp()).entrySet().stream()
                    .filter(e -> e.getKey().startsWith(prefix))
                    .forEach(e -> out.put(e.getKey(), e.getValue()));
        }
        return out;
    }

    @Test
    void aDuplicateFailsAUniqueAddIndexAndRollsItBack() {
        DBInfo db =
                tableWithRows(
                        "dup_ix",
                        "codes",
                        "id BIGINT PRIMARY KEY, code VARCHAR(8)",
                        new Object[] {1L, "a"},
                        new Object[] {2L, "b"},
                        new Object[] {3L, null},
                        new Object[] {4L, null},
                        new Object[] {5L, "b"});
        // Two rows a batch: the first batches commit entries before the duplicate shows.
        IndexChange add =
                new SchemaWriter(session, 2)
                        .startAddIndex("dup_ix", "codes", IndexInfo.of("uk_code", true, "code"));
        step(
                add,
                db,
                SchemaDiff.ADD_INDEX,
                new int[] {
                    SchemaState.DELETE_ONLY,
                    SchemaState.WRITE_ONLY,
                    SchemaState.WRITE_REORGANIZATION
                },
                i -> {});
        long before = writer.schemaVersion();
        // The backfill meets rows 2 and 5: write reorganization → delete-only, as TiDB rolls back.
        assertThat(add.next()).isEqualTo(SchemaState.DELETE_ONLY);
        assertThat(add.rollingBack()).isTrue();
        assertThat(add.done()).isFalse();
        assertThat(add.table().index("uk_code").state).isEqualTo(SchemaState.DELETE_ONLY);
        assertThat(add.next()).isEqualTo(SchemaState.DELETE_REORGANIZATION);
        assertThatThrownBy(add::next)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("Duplicate entry 'b' for key 'codes.uk_code'");
        assertThat(add.done()).isTrue();
        assertThat(add.state()).isEqualTo(SchemaState.NONE);
        MetaReader meta = MetaReader.latest(session);
        assertThat(meta.schemaVersion()).isEqualTo(before + 3);
        for (long v = before + 1; v <= before + 3; v++) {
            assertThat(meta.schemaDiff(v).type).isEqualTo(SchemaDiff.ADD_INDEX);
        }
        TableInfo t = meta.table("dup_ix", "codes");
        assertThat(t.indices).isEmpty();
        assertThat(bed.indexEntries(t, bed.txn().timestamp())).isEmpty();
        assertThat(bed.rows(t)).hasSize(5);

        // The same at once; a non-unique index on the column is fine.
        assertThatThrownBy(() -> writer.addIndex("dup_ix", "codes", "uk_code", true, "code"))
                .hasMessageContaining("Duplicate entry 'b' for key 'codes.uk_code'");
        assertThat(bed.table("dup_ix", "codes").indices).isEmpty();
        assertThat(writer.addIndex("dup_ix", "codes", "k_code", false, "code").indices)
                .extracting(i -> i.name.o)
                .containsExactly("k_code");
        assertThat(bed.indexEntries(bed.table("dup_ix", "codes"), bed.txn().timestamp()))
                .hasSize(5);
    }

    @Test
    void addIndexBackfillsEveryPartition() throws Exception {
        bed.ddl(
                "CREATE DATABASE part_ix; USE part_ix; CREATE TABLE parts (id BIGINT PRIMARY KEY,"
                        + " v INT) PARTITION BY HASH(id) PARTITIONS 2;");
        TableInfo t = bed.table("part_ix", "parts");
        TableCodec codec = new TableCodec(t);
        for (long id = 1; id <= 6; id++) {
            Object[] row = {id, id * 10};
            long partition = t.partition.definitions.get((int) (id % 2)).id;
            commit(session, codec.encodeRecord(partition, row, Handle.ofInt(id)));
        }
        assertThatThrownBy(
                        () ->
                                writer.startAddIndex(
                                        "part_ix", "parts", IndexInfo.of("uk_v", true, "v")))
                .hasMessageContaining(
                        "A UNIQUE INDEX must include all columns in the table's"
                                + " partitioning function")
                .hasMessageContaining("'id'");
        TableInfo indexed = writer.addIndex("part_ix", "parts", "uk_v_id", true, "v", "id");
        assertThat(bed.rows(indexed)).hasSize(6);
        Map<String, String> entries = bed.indexEntries(indexed, bed.txn().timestamp());
        assertThat(entries).hasSize(6);
        for (PartitionInfo.PartitionDefinition d : t.partition.definitions) {
            assertThat(entries.keySet())
                    .filteredOn(k -> k.startsWith(Keys.hex(TableCodec.indexPrefix(d.id, 1))))
                    .hasSize(3);
        }
        writer.dropIndex("part_ix", "parts", "uk_v_id");
        assertThat(bed.indexEntries(indexed, bed.txn().timestamp())).isEmpty();
    }

    @Test
    void addIndexRefusesWhatTiDBRefuses() {
        bed.ddl(
                "CREATE DATABASE bad_ix; USE bad_ix; CREATE TABLE t (id BIGINT PRIMARY KEY,"
                        + " j JSON, b BLOB, v INT, KEY k_v (v));");
        assertThatThrownBy(() -> writer.addIndex("bad_ix", "t", "k_v", false, "id"))
                .hasMessageContaining("Duplicate key name 'k_v'");
        assertThatThrownBy(() -> writer.addIndex("bad_ix", "t", "k_x", false, "nope"))
                .hasMessageContaining("Key column 'nope' doesn't exist");
        assertThatThrownBy(() -> writer.addIndex("bad_ix", "t", "k_j", false, "j"))
                .hasMessageContaining("JSON column 'j' cannot be used in key specification");
        assertThatThrownBy(() -> writer.addIndex("bad_ix", "t", "k_b", false, "b"))
                .hasMessageContaining("without a key length");
        assertThatThrownBy(() -> writer.dropIndex("bad_ix", "t", "k_nope"))
                .hasMessageContaining("Can't DROP 'k_nope'");
        assertThatThrownBy(() -> writer.addIndex("bad_ix", "nope", "k", false, "v"))
                .hasMessageContaining("'bad_ix.nope' does not exist");
    }
}
