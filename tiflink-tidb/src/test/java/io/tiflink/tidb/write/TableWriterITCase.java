package io.tiflink.tidb.write;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.tidb.meta.IndexInfo;
import io.tiflink.tidb.meta.SchemaWriter;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.schema.SchemaFile;
import io.tiflink.tidb.table.Handle;
import io.tiflink.tidb.table.KeyValue;
import io.tiflink.tidb.table.TableCodec;
import io.tiflink.tikv.ByteKey;
import io.tiflink.tikv.txn.TxnClient;

import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What {@link TableWriter} leaves in TiKV, compared with what TiDB's INSERT, REPLACE and DELETE
 * would leave: the record and every index entry (unique, non-unique, composite, NULLs in unique
 * keys), duplicate keys refused, rows replaced on another unique key, old index entries removed,
 * defaults, AUTO_INCREMENT and {@code _tidb_rowid} ids, several writes of a row in one batch,
 * {@link TableWriter#writeOnce} under a marker, and the tables it refuses to open.
 */
class TableWriterITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(1));

    /** Tables shaped like {@code users}, one per test. */
    private static final List<String> USER_TABLES =
            List.of("u_insert", "u_dup", "u_replace", "u_update", "u_delete", "u_batch");

    /** Tables shaped like {@code codes} (a clustered composite primary key), one per test. */
    private static final List<String> CODE_TABLES =
            List.of("c_insert", "c_dup", "c_replace", "c_delete");

    private static WriteTestBed bed;

    @BeforeAll
    static void schema(MiniTiKVCluster cluster) {
        bed = new WriteTestBed(cluster);
        StringBuilder ddl = new StringBuilder("CREATE DATABASE w; USE w;");
        for (String t : USER_TABLES) {
            ddl.append(" CREATE TABLE ")
                    .append(t)
                    .append(" (id BIGINT PRIMARY KEY, email VARCHAR(32) NOT NULL,")
                    .append("   nick VARCHAR(16), city VARCHAR(16), score INT DEFAULT 7,")
                    .append("   UNIQUE KEY uk_email (email), UNIQUE KEY uk_nick (nick),")
                    .append("   KEY k_city_score (city, score));");
        }
        for (String t : CODE_TABLES) {
            ddl.append(" CREATE TABLE ")
                    .append(t)
                    .append(" (code VARCHAR(8) NOT NULL, region INT NOT NULL, label VARCHAR(8),")
                    .append("   a INT, b INT, PRIMARY KEY (code, region),")
                    .append(
                            "   UNIQUE KEY uk_label (label), UNIQUE KEY uk_ab (a, b), KEY k_b (b));");
        }
        ddl.append(
                " CREATE TABLE defaults (id BIGINT PRIMARY KEY, n INT DEFAULT 7,"
                        + "   s VARCHAR(8) NOT NULL DEFAULT 'x', note VARCHAR(8), need VARCHAR(8),"
                        + "   at DATETIME DEFAULT CURRENT_TIMESTAMP);"
                        + " CREATE TABLE strict_defaults (id BIGINT PRIMARY KEY,"
                        + "   need VARCHAR(8) NOT NULL);"
                        + " CREATE TABLE orders (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
                        + "   note VARCHAR(16), KEY k_note (note));"
                        + " CREATE TABLE orders_in_batch (id BIGINT NOT NULL AUTO_INCREMENT"
                        + "   PRIMARY KEY, note VARCHAR(16), KEY k_note (note));"
                        + " CREATE TABLE orders_rebased (id BIGINT NOT NULL AUTO_INCREMENT"
                        + "   PRIMARY KEY, note VARCHAR(16));"
                        + " CREATE TABLE uorders (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT"
                        + "   PRIMARY KEY, note VARCHAR(16));"
                        + " CREATE TABLE tags (tag VARCHAR(16) NOT NULL, hits INT,"
                        + "   PRIMARY KEY (tag) NONCLUSTERED, KEY k_hits (hits));"
                        + " CREATE TABLE notes (body VARCHAR(16), n INT, UNIQUE KEY uk_n (n));"
                        + " CREATE TABLE once (id BIGINT PRIMARY KEY, v VARCHAR(8), KEY k_v (v));"
                        + " CREATE TABLE once_open (id BIGINT PRIMARY KEY, v VARCHAR(8),"
                        + "   KEY k_v (v));"
                        + " CREATE TABLE parts (id BIGINT PRIMARY KEY, v INT)"
                        + "   PARTITION BY HASH(id) PARTITIONS 2;");
        bed.ddl(ddl.toString());
        // What the schema file cannot say: altered specs, stored as TiDB would store them.
        SchemaWriter schema = new SchemaWriter(bed.session());
        TableInfo autoRandom = spec("CREATE TABLE w.random_ids (id BIGINT PRIMARY KEY, v INT)");
        autoRandom.autoRandomBits = 5;
        schema.createTable("w", autoRandom);
        TableInfo generated =
                spec("CREATE TABLE w.generated (id BIGINT PRIMARY KEY, v INT, twice INT)");
        generated.column("twice").generatedExprString = "`v` * 2";
        schema.createTable("w", generated);
        TableInfo view = spec("CREATE TABLE w.a_view (id BIGINT, v INT)");
        view.view = Map.of("view_select", "SELECT id, v FROM w.once");
        schema.createTable("w", view);
        TableInfo cached =
                spec("CREATE TABLE w.cached_ids (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT)");
        cached.autoIdCache = 1;
        schema.createTable("w", cached);
    }

    @AfterAll
    static void close() throws Exception {
        bed.close();
    }

    private static TableInfo spec(String createTable) {
        return SchemaFile.parse("spec", createTable).get(0).table;
    }

    private static Object[] row(Object... values) {
        return values;
    }

    private static Object[] user(long id, String email, String nick, String city, Long score) {
        return row(id, email, nick, city, score);
    }

    /** Writes the changes, checked as the sink checks them, in a transaction of their own. */
    private static void write(TableWriter w, RowWrite... changes) {
        w.writeAlone(checked(w, changes));
    }

    private static List<RowWrite> checked(TableWriter w, RowWrite... changes) {
        List<RowWrite> out = new ArrayList<>();
        for (RowWrite c : changes) {
            out.add(w.checked(c));
        }
        return out;
    }

    private static IndexInfo index(TableInfo t, String name) {
        return t.indices.stream().filter(i -> i.name.o.equals(name)).findFirst().orElseThrow();
    }

    /** The key of {@code row}'s entry in index {@code name}. */
    private static byte[] entryKey(TableInfo t, String name, Object[] row, Handle handle) {
        return new TableCodec(t).indexEntry(t.id, index(t, name), row, handle).key();
    }

    @Test
    void insertsWriteTheRecordAndEveryIndexEntry() {
        TableWriter w = bed.writer("w", "u_insert");
        List<Object[]> rows =
                List.of(
                        user(1, "a@x", "ann", "paris", 1L),
                        // two NULL nicks: a unique key with a NULL holds no value
                        user(2, "b@x", null, "paris", null),
                        user(3, "c@x", null, null, 3L));
        write(w, rows.stream().map(RowWrite::insert).toArray(RowWrite[]::new));

        TableInfo t = bed.table("w", "u_insert");
        assertThat(bed.rows(w))
                .containsExactly(
                        "[1, a@x, ann, paris, 1]",
                        "[2, b@x, null, paris, null]",
                        "[3, c@x, null, null, 3]");
        // The entries stored are those TableCodec computes from the rows written: 3 each.
        TableCodec codec = new TableCodec(t);
        Map<String, String> expected = new TreeMap<>();
        for (Object[] r : rows) {
            expected.putAll(WriteTestBed.indexEntriesOf(codec, r, Handle.ofInt((Long) r[0])));
        }
        long ts = bed.txn().timestamp();
        assertThat(expected).hasSize(9);
        assertThat(bed.indexEntries(t, ts)).isEqualTo(expected);
        // A unique entry points at its row.
        byte[] key = entryKey(t, "uk_email", rows.get(1), Handle.ofInt(2));
        assertThat(codec.indexHandle(index(t, "uk_email"), key, bed.get(key, ts)))
                .isEqualTo(Handle.ofInt(2));
    }

    @Test
    void insertsIntoAClusteredCompositeKeyWriteEveryIndexEntry() {
        TableWriter w = bed.writer("w", "c_insert");
        write(
                w,
                RowWrite.insert(row("a", 1L, "one", 1L, 1L)),
                RowWrite.insert(row("a", 2L, null, 1L, null)),
                RowWrite.insert(row("b", 1L, null, 1L, null)));
        TableInfo t = bed.table("w", "c_insert");
        assertThat(bed.rows(w))
                .containsExactly(
                        "[a, 1, one, 1, 1]", "[a, 2, null, 1, null]", "[b, 1, null, 1, null]");
        // No entry for the clustered primary key; 3 for each row.
        assertThat(bed.indexEntries(t, bed.txn().timestamp())).hasSize(9);
    }

    @Test
    void aDuplicateInsertFailsNamingTheIndexAndValueAndWritesNothingOfItsBatch() {
        TableWriter w = bed.writer("w", "u_dup");
        write(w, RowWrite.insert(user(1, "a@x", "ann", "rome", 1L)));
        List<String> before = bed.rows(w);

        assertThatThrownBy(
                        () ->
                                write(
                                        w,
                                        RowWrite.insert(user(2, "b@x", null, "oslo", 2L)),
                                        RowWrite.insert(user(3, "a@x", null, null, null))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Duplicate entry 'a@x' for key 'u_dup.uk_email'")
                .hasMessageContaining("TiDB table w.u_dup");
        assertThatThrownBy(
                        () ->
                                write(
                                        w,
                                        RowWrite.insert(user(2, "b@x", null, "oslo", 2L)),
                                        RowWrite.insert(user(1, "z@x", null, null, null))))
                .hasMessageContaining("Duplicate entry '1' for key 'u_dup.PRIMARY'");
        // Two inserts of one new key in a batch: the second is the duplicate.
        assertThatThrownBy(
                        () ->
                                write(
                                        w,
                                        RowWrite.insert(user(4, "d@x", "dee", null, null)),
                                        RowWrite.insert(user(5, "e@x", "dee", null, null))))
                .hasMessageContaining("Duplicate entry 'dee' for key 'u_dup.uk_nick'");
        assertThat(bed.rows(w)).isEqualTo(before);
        // The error names the change that collided, as it was in the batch.
        List<RowWrite> batch =
                checked(
                        w,
                        RowWrite.insert(user(6, "f@x", null, null, null)),
                        RowWrite.insert(user(7, "a@x", null, null, null)),
                        RowWrite.insert(user(8, "h@x", null, null, null)));
        assertThatThrownBy(() -> w.writeAlone(batch))
                .isInstanceOfSatisfying(
                        RowRejectedException.class,
                        e -> assertThat(e.write()).isSameAs(batch.get(1)));
        RowWrite tooLong =
                RowWrite.insert(user(9, "i@x", "a nick far too long for it", null, null));
        assertThatThrownBy(() -> w.checked(tooLong))
                .isInstanceOfSatisfying(
                        RowRejectedException.class, e -> assertThat(e.write()).isSameAs(tooLong));

        TableWriter codes = bed.writer("w", "c_dup");
        write(codes, RowWrite.insert(row("a", 1L, null, 1L, 2L)));
        assertThatThrownBy(() -> write(codes, RowWrite.insert(row("b", 1L, null, 1L, 2L))))
                .hasMessageContaining("Duplicate entry '1-2' for key 'c_dup.uk_ab'");
        assertThatThrownBy(() -> write(codes, RowWrite.insert(row("a", 1L, null, 3L, 3L))))
                .hasMessageContaining("Duplicate entry 'a-1' for key 'c_dup.PRIMARY'");
        // A NULL in a unique key is never a duplicate.
        write(
                codes,
                RowWrite.insert(row("c", 1L, null, 1L, null)),
                RowWrite.insert(row("d", 1L, null, 1L, null)));
        assertThat(bed.rows(bed.table("w", "c_dup")))
                .containsExactly(
                        "[a, 1, null, 1, 2]", "[c, 1, null, 1, null]", "[d, 1, null, 1, null]");
    }

    @Test
    void anUpsertCollidingOnAnotherUniqueKeyReplacesThatRow() {
        TableWriter w = bed.writer("w", "u_replace");
        write(
                w,
                RowWrite.upsert(user(1, "a@x", "ann", "rome", 1L)),
                RowWrite.upsert(user(2, "b@x", "bob", "oslo", 2L)),
                RowWrite.upsert(user(3, "c@x", "cat", "lima", 3L)));
        // id 4 takes row 1's email and row 2's nick: REPLACE deletes both.
        write(w, RowWrite.upsert(user(4, "a@x", "bob", "kyiv", 4L)));
        assertThat(bed.rows(w)).containsExactly("[3, c@x, cat, lima, 3]", "[4, a@x, bob, kyiv, 4]");
        // id 3 takes row 4's nick while keeping its own email.
        write(w, RowWrite.upsert(user(3, "c@x", "bob", "lima", 3L)));
        assertThat(bed.rows(w)).containsExactly("[3, c@x, bob, lima, 3]");

        TableWriter codes = bed.writer("w", "c_replace");
        write(
                codes,
                RowWrite.upsert(row("r", 1L, "one", null, null)),
                RowWrite.upsert(row("r", 2L, "two", null, null)));
        write(codes, RowWrite.upsert(row("s", 1L, "two", null, null)));
        assertThat(bed.rows(bed.table("w", "c_replace")))
                .containsExactly("[r, 1, one, null, null]", "[s, 1, two, null, null]");
    }

    @Test
    void anUpdateRemovesTheOldRowsIndexEntries() {
        TableWriter w = bed.writer("w", "u_update");
        Object[] old = user(1, "a@x", "ann", "rome", 1L);
        write(w, RowWrite.upsert(old));
        long before = bed.txn().timestamp();
        write(w, RowWrite.upsert(user(1, "a2@x", null, "lima", 5L)));

        assertThat(bed.rows(w)).containsExactly("[1, a2@x, null, lima, 5]");
        TableInfo t = w.table().info();
        long ts = bed.txn().timestamp();
        for (String idx : List.of("uk_email", "uk_nick", "k_city_score")) {
            byte[] key = entryKey(t, idx, old, Handle.ofInt(1));
            assertThat(bed.get(key, before)).as("old %s entry before", idx).isNotNull();
            assertThat(bed.get(key, ts)).as("old %s entry after", idx).isNull();
        }
        // The old values are free again.
        write(w, RowWrite.insert(user(2, "a@x", "ann", null, null)));
        assertThat(bed.rows(w))
                .containsExactly("[1, a2@x, null, lima, 5]", "[2, a@x, ann, null, null]");
    }

    @Test
    void aDeleteNeedsOnlyTheKeyColumnsAndRemovesTheIndexEntries() {
        TableWriter w = bed.writer("w", "u_delete");
        write(
                w,
                RowWrite.insert(user(1, "a@x", "ann", "rome", 1L)),
                RowWrite.insert(user(2, "b@x", "bob", "oslo", 2L)));
        write(
                w,
                RowWrite.delete(row(1L, null, null, null, null)),
                // absent: nothing to do
                RowWrite.delete(row(9L, null, null, null, null)));
        assertThat(bed.rows(w)).containsExactly("[2, b@x, bob, oslo, 2]");
        TableInfo t = w.table().info();
        assertThat(bed.indexEntries(t, bed.txn().timestamp())).hasSize(3);
        assertThatThrownBy(() -> write(w, RowWrite.delete(new Object[5])))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(
                        "a DELETE from TiDB table w.u_delete needs its primary key columns [id]");

        TableWriter codes = bed.writer("w", "c_delete");
        TableInfo c = bed.table("w", "c_delete");
        write(
                codes,
                RowWrite.insert(row("d", 7L, "del", 7L, 7L)),
                RowWrite.insert(row("d", 8L, "keep", 8L, 8L)));
        write(codes, RowWrite.delete(row("d", 7L, null, null, null)));
        assertThat(bed.rows(c)).containsExactly("[d, 8, keep, 8, 8]");
        assertThat(bed.indexEntries(c, bed.txn().timestamp())).hasSize(3);
    }

    @Test
    void columnsNotGivenGetTheirDefaultOnInsertAndKeepTheirValueOnUpdate() {
        TableWriter w = bed.writer("w", "defaults");
        boolean[] idAndNeed = {true, false, false, false, true, false};
        LocalDateTime start = LocalDateTime.now(ZoneOffset.UTC).withNano(0);
        write(
                w,
                RowWrite.of(RowWrite.Kind.UPSERT, row(1L, null, null, null, "a", null), idAndNeed));
        TableInfo t = w.table().info();
        Object[] row = bed.decodedRows(t, bed.txn().timestamp()).get(0);
        assertThat(Arrays.copyOf(row, 5)).containsExactly(1L, 7L, "x", null, "a");
        assertThat((LocalDateTime) row[5]).isBetween(start, start.plusMinutes(5));

        write(
                w,
                RowWrite.of(
                        RowWrite.Kind.UPSERT,
                        row(1L, 8L, null, "n", null, null),
                        new boolean[] {true, true, false, true, false, false}));
        Object[] updated = bed.decodedRows(t, bed.txn().timestamp()).get(0);
        assertThat(updated).containsExactly(1L, 8L, "x", "n", "a", row[5]);

        // A NOT NULL column without a default must be given for a new row.
        TableWriter strict = bed.writer("w", "strict_defaults");
        assertThatThrownBy(
                        () ->
                                write(
                                        strict,
                                        RowWrite.of(
                                                RowWrite.Kind.UPSERT,
                                                row(1L, null),
                                                new boolean[] {true, false})))
                .hasMessageContaining("column 'need' of TiDB table w.strict_defaults is NOT NULL");
    }

    @Test
    void autoIncrementIdsAreAllocatedAndTheAllocatorRaisedPastExplicitOnes() {
        TableWriter w = bed.writer("w", "orders");
        // NULL and 0 are allocated, as in TiDB.
        write(w, RowWrite.insert(row(null, "a")), RowWrite.insert(row(0L, "b")));
        write(w, RowWrite.insert(row(5000L, "explicit")));
        write(w, RowWrite.insert(row(null, "c")));

        List<Long> ids = new ArrayList<>();
        TableInfo t = w.table().info();
        for (Object[] r : bed.decodedRows(t, bed.txn().timestamp())) {
            ids.add((Long) r[0]);
        }
        assertThat(bed.rows(w)).hasSize(4).contains("[5000, explicit]");
        long base = bed.allocatorBase(w.table());
        assertThat(ids).doesNotHaveDuplicates().allMatch(id -> id > 0 && id <= base);
        assertThat(base).isGreaterThanOrEqualTo(5000);
        // Another writer (a TiDB server, or the sink after a restart) allocates above them all.
        TableWriter next = bed.writer("w", "orders");
        write(next, RowWrite.insert(row(null, "d")));
        assertThat(bed.decodedRows(t, bed.txn().timestamp()))
                .filteredOn(r -> "d".equals(r[1]))
                .singleElement()
                .satisfies(r -> assertThat((Long) r[0]).isGreaterThan(base));

        TableWriter unsigned = bed.writer("w", "uorders");
        write(unsigned, RowWrite.insert(row(null, "u")));
        assertThat(bed.decodedRows(bed.table("w", "uorders"), bed.txn().timestamp()).get(0)[0])
                .isInstanceOf(BigInteger.class);
    }

    @Test
    void rowIdTablesAreWrittenThroughTheirPrimaryKeyIndex() {
        TableWriter w = bed.writer("w", "tags");
        write(w, RowWrite.upsert(row("red", 1L)), RowWrite.upsert(row("blue", 1L)));
        TableInfo t = w.table().info();
        byte[] redKey = entryKey(t, "PRIMARY", row("red", null), Handle.ofInt(0));
        TableCodec codec = new TableCodec(t);
        Handle red =
                codec.indexHandle(
                        index(t, "PRIMARY"), redKey, bed.get(redKey, bed.txn().timestamp()));
        write(w, RowWrite.upsert(row("red", 2L)), RowWrite.delete(row("blue", null)));
        write(w, RowWrite.upsert(row("red", 3L)));
        assertThat(bed.rows(w)).containsExactly("[red, 3]");
        // red kept its _tidb_rowid, which the allocator handed out.
        long ts = bed.txn().timestamp();
        assertThat(codec.indexHandle(index(t, "PRIMARY"), redKey, bed.get(redKey, ts)))
                .isEqualTo(red);
        assertThat(bed.get(TableCodec.recordKey(t.id, red), ts)).isNotNull();
        assertThat(red.intValue()).isBetween(1L, bed.allocatorBase(w.table()));
        assertThatThrownBy(() -> write(w, RowWrite.insert(row("red", 4L))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Duplicate entry 'red' for key 'tags.PRIMARY'");
    }

    @Test
    void tablesWithoutAPrimaryKeyGetRowIdsAndReplaceOnTheirUniqueKeys() {
        TableWriter w = bed.writer("w", "notes");
        write(
                w,
                RowWrite.insert(row("x", 1L)),
                RowWrite.insert(row("y", 2L)),
                RowWrite.insert(row("y", null)),
                RowWrite.insert(row("y", null)));
        assertThat(bed.rows(w)).containsExactly("[x, 1]", "[y, 2]", "[y, null]", "[y, null]");
        // An upsert finds no row by key: it is a new row, replacing the one holding n = 1.
        write(w, RowWrite.upsert(row("z", 1L)));
        assertThat(bed.rows(w)).containsExactly("[y, 2]", "[y, null]", "[y, null]", "[z, 1]");
        long base = bed.allocatorBase(w.table());
        TableInfo t = w.table().info();
        for (Kvrpcpb.KvPair p : bed.records(t, bed.txn().timestamp())) {
            assertThat(new TableCodec(t).handle(p.getKey().toByteArray()).intValue())
                    .isBetween(1L, base);
        }
        assertThatThrownBy(() -> write(w, RowWrite.insert(row("w", 2L))))
                .hasMessageContaining("Duplicate entry '2' for key 'notes.uk_n'");
        assertThatThrownBy(() -> write(w, RowWrite.delete(row("y", 2L))))
                .hasMessageContaining("needs its primary key, which the table does not have");
    }

    @Test
    void severalWritesOfOneRowInABatchCollapseToTheLast() {
        TableWriter w = bed.writer("w", "u_batch");
        write(w, RowWrite.insert(user(2, "b@x", "bob", "oslo", 2L)));
        List<RowWrite> batch =
                checked(
                        w,
                        RowWrite.upsert(user(1, "a1@x", "a1", "rome", 1L)),
                        RowWrite.upsert(user(1, "a2@x", "a2", "lima", 2L)),
                        RowWrite.delete(row(2L, null, null, null, null)),
                        RowWrite.upsert(user(1, "a3@x", "a3", "kyiv", 3L)),
                        RowWrite.insert(user(2, "b2@x", "bob", "oslo", 2L)),
                        RowWrite.delete(row(2L, null, null, null, null)),
                        RowWrite.insert(user(2, "b3@x", null, null, null)));

        // One mutation per key; the record's is the last write's.
        ChangePlanner.Plan plan =
                w.plan(batch, bed.txn().timestamp(), new KeyHashSet(), new DeferredChanges());
        List<Kvrpcpb.Mutation> mutations = plan.mutationList();
        assertThat(mutations.stream().map(m -> new ByteKey(m.getKey().toByteArray())))
                .doesNotHaveDuplicates();
        TableInfo t = w.table().info();
        TableCodec codec = new TableCodec(t);
        Object[] last = batch.get(3).row();
        KeyValue record = codec.encodeRecord(t.id, last, Handle.ofInt(1)).get(0);
        assertThat(mutations)
                .filteredOn(m -> m.getKey().equals(ByteString.copyFrom(record.key())))
                .singleElement()
                .satisfies(m -> assertThat(m.getValue().toByteArray()).isEqualTo(record.value()));

        w.writeAlone(batch);
        assertThat(bed.rows(w))
                .containsExactly("[1, a3@x, a3, kyiv, 3]", "[2, b3@x, null, null, null]");
    }

    @Test
    void writeOnceWritesOnceUnderItsMarker() {
        TableWriter w = bed.writer("w", "once");
        byte[] marker = "tiflink-test/once/1".getBytes(StandardCharsets.US_ASCII);
        w.writeOnce(checked(w, RowWrite.insert(row(1L, "a"))), marker);
        // Again: an INSERT written twice would be a duplicate; it is not written at all.
        w.writeOnce(checked(w, RowWrite.insert(row(1L, "a"))), marker);
        w.writeOnce(checked(w, RowWrite.upsert(row(1L, "b"))), marker);
        assertThat(bed.rows(w)).containsExactly("[1, a]");
        assertThat(bed.get(marker, bed.txn().timestamp()))
                .asString(StandardCharsets.UTF_8)
                .isEqualTo("w.once");
    }

    @Test
    void writeOnceRollsBackAnAttemptLeftOpenBeforeIt() {
        TableWriter w = bed.writer("w", "once_open");
        TxnClient txn = bed.txn();
        byte[] marker = "tiflink-test/once/2".getBytes(StandardCharsets.US_ASCII);
        // An attempt that failed after its prewrite: its locks outlive it.
        long stale = txn.timestamp();
        List<Kvrpcpb.Mutation> attempt = new ArrayList<>();
        attempt.add(WriteTestBed.put(marker, "w.once_open".getBytes(StandardCharsets.UTF_8)));
        TableInfo t = w.table().info();
        TableCodec codec = new TableCodec(t);
        for (KeyValue kv : codec.encodeRecord(t.id, row(7L, "stale"), Handle.ofInt(7))) {
            attempt.add(WriteTestBed.put(kv.key(), kv.value()));
        }
        txn.prewrite(marker, attempt, stale, Duration.ofMinutes(5).toMillis());
        assertThat(bed.locks(w.table(), stale)).hasSize(2);

        w.writeOnce(checked(w, RowWrite.insert(row(8L, "fresh"))), marker);

        assertThat(txn.status(marker, stale).rolledBack()).isTrue();
        assertThat(bed.locks(w.table(), stale)).isEmpty();
        assertThat(bed.rows(w)).containsExactly("[8, fresh]");
        assertThat(bed.get(marker, txn.timestamp())).isNotNull();
    }

    @Test
    void checkedConvertsValuesAndRefusesRowsNamingTheTable() {
        TableWriter w = bed.writer("w", "u_insert");
        RowWrite c = w.checked(RowWrite.upsert(row(1, "a@x", null, null, (short) 3)));
        assertThat(c.row()).containsExactly(1L, "a@x", null, null, 3L);
        assertThatThrownBy(() -> w.checked(RowWrite.upsert(row(1L, "a@x"))))
                .hasMessageContaining(
                        "a row for TiDB table w.u_insert has 2 values; the table has 5 columns");
        assertThatThrownBy(() -> w.checked(RowWrite.insert(user(1, null, null, null, null))))
                .hasMessageContaining("column 'email' of TiDB table w.u_insert is NOT NULL");
        // A delete needs no more than its key.
        assertThat(w.checked(RowWrite.delete(user(1, null, null, null, null))).row())
                .containsExactly(1L, null, null, null, null);
        assertThatThrownBy(() -> w.checked(RowWrite.upsert(user(1, "a@x", null, null, 1L << 40))))
                .hasMessageContaining("column 'score' (int) of TiDB table w.u_insert");
    }

    @Test
    void openingATableTheSinkCannotWriteFailsNamingTheTableAndReason() {
        assertThatThrownBy(() -> bed.writer("w", "missing"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("TiDB table w.missing does not exist");
        assertThatThrownBy(() -> bed.writer("nodb", "t"))
                .hasMessage("TiDB table nodb.t does not exist (no database nodb)");
        String refused = "the TiKV sink cannot write TiDB table ";
        assertThatThrownBy(() -> bed.writer("w", "parts"))
                .hasMessageStartingWith(refused + "w.parts: it is partitioned");
        assertThatThrownBy(() -> bed.writer("w", "random_ids"))
                .hasMessageStartingWith(refused + "w.random_ids: its primary key is AUTO_RANDOM");
        assertThatThrownBy(() -> bed.writer("w", "generated"))
                .hasMessageStartingWith(refused + "w.generated: column 'twice' is generated");
        assertThatThrownBy(() -> bed.writer("w", "a_view"))
                .hasMessage(refused + "w.a_view: it is a view");
        assertThatThrownBy(() -> bed.writer("w", "cached_ids"))
                .hasMessageStartingWith(refused + "w.cached_ids: it has AUTO_ID_CACHE 1");
    }

    /**
     * An explicit AUTO_INCREMENT value rebases the allocator at its row, as TiDB's INSERT does: ids
     * allocated later in the same batch are above it, so no row of the batch replaces it (and every
     * index entry points at its own row).
     */
    @Test
    void idsAllocatedAfterAnExplicitOneInItsBatchAreAboveIt() {
        TableWriter w = bed.writer("w", "orders_in_batch");
        write(
                w,
                RowWrite.insert(row(3L, "explicit")),
                RowWrite.insert(row(null, "a")),
                RowWrite.insert(row(null, "b")),
                RowWrite.insert(row(null, "c")));
        assertThat(bed.rows(w)).containsExactly("[3, explicit]", "[4, a]", "[5, b]", "[6, c]");
    }

    /**
     * An explicit AUTO_INCREMENT value rebases the writer's cached batch of ids as TiDB's allocator
     * ({@code Rebase}) does: one within the batch moves the batch past it (no transaction of its
     * own); one above it drops the batch, and ids allocated afterwards are above the explicit
     * value, as in MySQL.
     */
    @Test
    void idsAllocatedAfterAnExplicitOneAreAboveItWithinOrAboveTheCachedBatch() {
        TableWriter w = bed.writer("w", "orders_rebased");
        write(w, RowWrite.insert(row(null, "first")));
        write(w, RowWrite.insert(row(10L, "within")), RowWrite.insert(row(null, "next")));
        assertThat(bed.allocatorBase(w.table())).isEqualTo(1000);
        write(w, RowWrite.insert(row(5000L, "explicit")));
        assertThat(bed.allocatorBase(w.table())).isGreaterThanOrEqualTo(5000);
        write(w, RowWrite.insert(row(null, "after")));
        assertThat(bed.rows(w))
                .containsExactly(
                        "[1, first]",
                        "[10, within]",
                        "[11, next]",
                        "[5000, explicit]",
                        "[5001, after]");
    }
}
