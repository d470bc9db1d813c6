package io.tiflink.tidb.write;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.table.Handle;
import io.tiflink.tidb.table.KeyValue;
import io.tiflink.tidb.table.TableCodec;
import io.tiflink.tikv.ByteKey;
import io.tiflink.tikv.Keys;
import io.tiflink.tikv.txn.TxnClient;
import io.tiflink.tikv.txn.WriteConflictException;

import org.tikv.kvproto.Kvrpcpb;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Writers' parts in Percolator transactions they share, as the sink's subtasks write an epoch: the
 * test owns each transaction's primary (prewritten, then committed, and the writers' key ranges
 * resolved, as the sink's coordinator and committer do). Readers see nothing of a transaction
 * before its commit and all of it after; a second write of a key already in the transaction is
 * deferred, in order, to the next; the key range covers exactly the keys prewritten; a key
 * committed by another transaction after the start ts is a write conflict.
 */
class SharedTxnWriterITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(1));

    private static final AtomicInteger EPOCHS = new AtomicInteger();

    private static WriteTestBed bed;
    private static TxnClient txn;

    @BeforeAll
    static void schema(MiniTiKVCluster cluster) {
        bed = new WriteTestBed(cluster);
        txn = bed.txn();
        StringBuilder ddl = new StringBuilder("CREATE DATABASE s; USE s;");
        for (String t : List.of("shared", "deferred", "range", "conflict")) {
            ddl.append(" CREATE TABLE ")
                    .append(t)
                    .append(" (id BIGINT PRIMARY KEY, name VARCHAR(16) NOT NULL, n INT,")
                    .append("   UNIQUE KEY uk_name (name), KEY k_n (n));");
        }
        // Rows depend on nothing but themselves: no unique key but the primary.
        ddl.append(" CREATE TABLE hot (id BIGINT PRIMARY KEY, name VARCHAR(16) NOT NULL, n INT,")
                .append("   KEY k_n (n));");
        bed.ddl(ddl.toString());
    }

    @AfterAll
    static void close() throws Exception {
        bed.close();
    }

    /** A transaction the test owns: its primary, on a key of its own, prewritten at once. */
    private static final class Epoch {
        final byte[] primary =
                ("tiflink-test/epoch/" + EPOCHS.incrementAndGet())
                        .getBytes(StandardCharsets.US_ASCII);
        final long startTs = txn.timestamp();

        Epoch() {
            txn.prewrite(
                    primary,
                    List.of(WriteTestBed.put(primary, primary)),
                    startTs,
                    WriteTestBed.LOCK_TTL.toMillis());
        }

        /** Commits the primary, then the writers' locks in their key ranges. */
        long commit(Writer... writers) {
            long commitTs = txn.commitPrimary(primary, startTs);
            for (Writer w : writers) {
                if (w.shared.wroteKeys()) {
                    txn.resolveRange(
                            w.shared.firstKey(), Keys.next(w.shared.lastKey()), startTs, commitTs);
                }
            }
            return commitTs;
        }
    }

    /** What a writer reported to its {@link WriteListener}. */
    private static final class Heard implements WriteListener {
        int rows;
        long bytes;
        int conflicts;

        @Override
        public void written(int rows, long bytes) {
            this.rows += rows;
            this.bytes += bytes;
        }

        @Override
        public void conflicted() {
            conflicts++;
        }
    }

    /** One writer (a subtask) of a table: its own TableWriter and part in the transactions. */
    private static final class Writer {
        final TableWriter table;
        final SharedTxnWriter shared;
        final Heard heard = new Heard();

        Writer(String table) {
            this.table = bed.writer("s", table);
            this.table.reportTo(heard);
            this.shared = new SharedTxnWriter(this.table, txn, WriteTestBed.LOCK_TTL.toMillis());
        }

        void prewrite(Epoch epoch, RowWrite... changes) {
            List<RowWrite> checked = new ArrayList<>();
            for (RowWrite c : changes) {
                checked.add(table.checked(c));
            }
            shared.prewrite(checked, epoch.primary, epoch.startTs);
        }
    }

    private static RowWrite upsert(long id, String name, long n) {
        return RowWrite.upsert(new Object[] {id, name, n});
    }

    /** The record and index entry keys of new rows, in key order. */
    private static TreeSet<ByteKey> keysOf(TableInfo t, Object[]... rows) {
        TableCodec codec = new TableCodec(t);
        TreeSet<ByteKey> keys = new TreeSet<>();
        for (Object[] r : rows) {
            for (KeyValue kv : codec.encodeRecord(t.id, r, Handle.ofInt((Long) r[0]))) {
                keys.add(new ByteKey(kv.key()));
            }
        }
        return keys;
    }

    private static TreeSet<ByteKey> lockedKeys(Writer w, Epoch epoch) {
        TreeSet<ByteKey> keys = new TreeSet<>();
        for (Kvrpcpb.LockInfo l : bed.locks(w.table.table(), epoch.startTs)) {
            assertThat(l.getPrimaryLock().toByteArray()).isEqualTo(epoch.primary);
            keys.add(new ByteKey(l.getKey().toByteArray()));
        }
        return keys;
    }

    @Test
    void twoWritersCommitOneTransactionAtItsPrimary() {
        Writer a = new Writer("shared");
        Writer b = new Writer("shared");
        TableInfo t = bed.table("s", "shared");
        Epoch epoch = new Epoch();
        a.prewrite(epoch, upsert(1, "one", 1), upsert(2, "two", 2));
        b.prewrite(epoch, upsert(3, "three", 3), upsert(4, "four", 4));
        // Secondaries under the test's primary: 3 keys a row.
        assertThat(lockedKeys(a, epoch)).hasSize(12);

        List<byte[]> keys = new ArrayList<>();
        keys.add(epoch.primary);
        for (long id = 1; id <= 4; id++) {
            keys.add(TableCodec.recordKey(t.id, Handle.ofInt(id)));
        }
        long before = txn.timestamp();
        assertThat(txn.get(before, keys)).as("read before the commit").isEmpty();

        long commitTs = epoch.commit(a, b);
        assertThat(commitTs).isGreaterThan(before);
        assertThat(txn.get(before, keys)).as("read at a ts before the commit").isEmpty();
        assertThat(txn.get(txn.timestamp(), keys)).hasSize(5);
        // All committed: no lock left, every index entry in place.
        assertThat(bed.rows(t))
                .containsExactly("[1, one, 1]", "[2, two, 2]", "[3, three, 3]", "[4, four, 4]");
    }

    @Test
    void aSecondWriteOfAKeyInTheTransactionIsDeferredInOrderToTheNext() {
        Writer a = new Writer("deferred");
        TableInfo t = bed.table("s", "deferred");
        Epoch first = new Epoch();
        a.prewrite(first, upsert(10, "a", 1), upsert(11, "b", 1));
        a.prewrite(
                first,
                upsert(10, "a2", 2),
                upsert(12, "c", 1),
                upsert(11, "b2", 2),
                upsert(13, "d", 1));
        a.prewrite(
                first,
                upsert(10, "a3", 3), // its key is a deferred change's
                upsert(14, "c", 5), // c's unique entry is row 12's, prewritten
                upsert(15, "e", 1));
        List<String> deferred =
                List.of(
                        "UPSERT [10, a2, 2]",
                        "UPSERT [11, b2, 2]",
                        "UPSERT [10, a3, 3]",
                        "UPSERT [14, c, 5]");
        assertThat(a.shared.deferred()).extracting(RowWrite::toString).isEqualTo(deferred);
        assertThat(a.heard.rows).as("rows prewritten, not deferred").isEqualTo(9 - 4);
        assertThat(a.heard.bytes).isPositive();
        // Nothing deferred was prewritten.
        assertThat(lockedKeys(a, first))
                .isEqualTo(
                        keysOf(
                                t,
                                new Object[] {10L, "a", 1L},
                                new Object[] {11L, "b", 1L},
                                new Object[] {12L, "c", 1L},
                                new Object[] {13L, "d", 1L},
                                new Object[] {15L, "e", 1L}));

        first.commit(a);
        assertThat(bed.rows(t))
                .containsExactly(
                        "[10, a, 1]", "[11, b, 1]", "[12, c, 1]", "[13, d, 1]", "[15, e, 1]");

        List<RowWrite> released = a.shared.releaseDeferred();
        assertThat(released).extracting(RowWrite::toString).isEqualTo(deferred);
        assertThat(a.shared.deferred()).isEmpty();
        a.shared.clearKeyRange();
        Epoch second = new Epoch();
        a.shared.prewrite(released, second.primary, second.startTs);
        assertThat(a.shared.deferred()).isEmpty();
        second.commit(a);
        // 14 took c from 12 (REPLACE).
        assertThat(bed.rows(t))
                .containsExactly(
                        "[10, a3, 3]", "[11, b2, 2]", "[13, d, 1]", "[14, c, 5]", "[15, e, 1]");
    }

    /**
     * A row changed on every record after the writer prewrote it (a hot key) defers its changes to
     * the next transaction; where rows depend on no other row, they collapse, so the writer holds a
     * row's outcome rather than every change, and writes the same rows.
     */
    @Test
    void theDeferredChangesOfARowCollapseWhereRowsAreIndependent() {
        Writer a = new Writer("hot");
        TableInfo t = bed.table("s", "hot");
        Epoch first = new Epoch();
        a.prewrite(first, upsert(1, "a", 0), upsert(2, "b", 0), upsert(3, "c", 0));
        for (long i = 1; i <= 1000; i++) {
            a.prewrite(first, upsert(1, "a", i), upsert(2, "b", i));
        }
        a.prewrite(
                first,
                RowWrite.of(
                        RowWrite.Kind.UPSERT,
                        new Object[] {2L, null, 5000L},
                        new boolean[] {true, false, true}),
                RowWrite.delete(new Object[] {3L, null, null}),
                RowWrite.of(
                        RowWrite.Kind.UPSERT,
                        new Object[] {3L, "c2", null},
                        new boolean[] {true, true, false}));
        assertThat(a.shared.deferred())
                .extracting(RowWrite::toString)
                .containsExactly(
                        "UPSERT [1, a, 1000]",
                        "UPSERT [2, b, 5000]",
                        "DELETE [3, null, null]",
                        "UPSERT [3, c2, null]");

        first.commit(a);
        List<RowWrite> released = a.shared.releaseDeferred();
        a.shared.clearKeyRange();
        Epoch second = new Epoch();
        a.shared.prewrite(released, second.primary, second.startTs);
        second.commit(a);
        // Row 3 was deleted, then written anew: n takes its default.
        assertThat(bed.rows(t)).containsExactly("[1, a, 1000]", "[2, b, 5000]", "[3, c2, null]");
    }

    @Test
    void theKeyRangeSpansExactlyTheKeysPrewritten() {
        Writer a = new Writer("range");
        Writer b = new Writer("range");
        TableInfo t = bed.table("s", "range");
        assertThat(a.shared.wroteKeys()).isFalse();
        assertThat(a.shared.firstKey()).isNull();
        assertThat(a.shared.lastKey()).isNull();

        Epoch first = new Epoch();
        a.prewrite(first, upsert(20, "x", 1), upsert(5, "y", 9));
        b.prewrite(first, upsert(30, "z", 2));
        TreeSet<ByteKey> aKeys = keysOf(t, new Object[] {20L, "x", 1L}, new Object[] {5L, "y", 9L});
        TreeSet<ByteKey> bKeys = keysOf(t, new Object[] {30L, "z", 2L});
        assertThat(a.shared.wroteKeys()).isTrue();
        assertThat(a.shared.firstKey()).isEqualTo(aKeys.first().bytes());
        assertThat(a.shared.lastKey()).isEqualTo(aKeys.last().bytes());
        assertThat(b.shared.firstKey()).isEqualTo(bKeys.first().bytes());
        assertThat(b.shared.lastKey()).isEqualTo(bKeys.last().bytes());
        TreeSet<ByteKey> all = new TreeSet<>(aKeys);
        all.addAll(bKeys);
        assertThat(lockedKeys(a, first)).isEqualTo(all);
        first.commit(a, b);
        a.shared.clearKeyRange();
        assertThat(a.shared.wroteKeys()).isFalse();
        assertThat(a.shared.firstKey()).isNull();
        assertThat(a.shared.lastKey()).isNull();

        // Until the writer hears its keys committed, a change of them waits, and writes nothing.
        Epoch second = new Epoch();
        a.prewrite(second, upsert(5, "y2", 9));
        assertThat(a.shared.deferred()).hasSize(1);
        assertThat(a.shared.wroteKeys()).isFalse();
        assertThat(lockedKeys(a, second)).isEmpty();
        // Released, it goes in. An update: the keys written include the old entries it deletes.
        a.shared.prewrite(a.shared.releaseDeferred(), second.primary, second.startTs);
        assertThat(a.shared.deferred()).isEmpty();
        TreeSet<ByteKey> updated = lockedKeys(a, second);
        assertThat(updated)
                .hasSize(4)
                .contains(
                        new ByteKey(
                                new TableCodec(t)
                                        .indexEntry(
                                                t.id,
                                                t.indices.get(0),
                                                new Object[] {5L, "y", 9L},
                                                Handle.ofInt(5))
                                        .key()));
        assertThat(a.shared.firstKey()).isEqualTo(updated.first().bytes());
        assertThat(a.shared.lastKey()).isEqualTo(updated.last().bytes());
        second.commit(a);
        assertThat(bed.rows(t)).containsExactly("[5, y2, 9]", "[20, x, 1]", "[30, z, 2]");
    }

    @Test
    void aKeyCommittedByAnotherTransactionAfterTheStartTsIsAWriteConflict() {
        Writer a = new Writer("conflict");
        TableInfo t = bed.table("s", "conflict");
        Epoch epoch = new Epoch();
        TableWriter other = bed.writer("s", "conflict");
        Heard otherHeard = new Heard();
        other.reportTo(otherHeard);
        other.writeAlone(List.of(other.checked(upsert(50, "late", 1))));
        assertThat(otherHeard.rows).isEqualTo(1);
        // The record, the unique index entry, the index entry: keys and values.
        assertThat(otherHeard.bytes).isPositive();

        assertThatThrownBy(() -> a.prewrite(epoch, upsert(50, "mine", 2)))
                .isInstanceOf(WriteConflictException.class)
                .hasMessageContaining("write conflict");
        assertThat(a.heard.conflicts).isEqualTo(1);
        assertThat(a.heard.rows).isZero();
        // The coordinator rolls the transaction back.
        txn.rollbackPrimary(epoch.primary, epoch.startTs);
        TargetTable target = a.table.table();
        txn.resolveRange(target.keyPrefix(), target.keyEnd(), epoch.startTs, 0);
        assertThat(bed.rows(t)).containsExactly("[50, late, 1]");
    }
}
