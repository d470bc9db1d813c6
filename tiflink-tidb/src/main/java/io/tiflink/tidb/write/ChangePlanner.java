package io.tiflink.tidb.write;

import io.tiflink.tidb.codec.CodecException;
import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.meta.IndexInfo;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.table.Handle;
import io.tiflink.tidb.table.KeyValue;
import io.tiflink.tidb.table.TableCodec;
import io.tiflink.tikv.ByteKey;
import io.tiflink.tikv.txn.TxnClient;

import org.tikv.kvproto.Kvrpcpb;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns a batch of row changes into the key-value mutations of one transaction, as TiDB's INSERT,
 * REPLACE and DELETE would write them: the record and every index entry; the old row's index
 * entries removed (the old row read at the transaction's start ts); unique keys checked (a
 * duplicate fails an INSERT, and is deleted by an upsert, as REPLACE does); AUTO_INCREMENT and
 * {@code _tidb_rowid} ids allocated from TiDB's allocator. Several changes of one row collapse into
 * the last one: a key gets one mutation per transaction.
 *
 * <p>A transaction may hold one mutation per key, and keys prewritten earlier in it cannot change.
 * A change that touches such a key (or a key of a change so deferred) is deferred: it goes, in its
 * order, into the next transaction.
 */
final class ChangePlanner {
    private static final byte[] ABSENT = new byte[0];
    private static final Object[] DELETED = new Object[0];

    private final TargetTable table;
    private final TableCodec codec;
    private final long physicalId;
    private final TxnClient txn;
    private final RowIdAllocator ids;
    private final RowChecker checker;

    /** Unique indexes TiDB checks on insert: every one but a clustered primary key. */
    private final List<IndexInfo> uniques = new ArrayList<>();

    /**
     * The non-clustered primary key of a {@code _tidb_rowid} table, through which rows are found.
     */
    private final IndexInfo pkIndex;

    private final int[] keyOffsets;
    private final int autoIncOffset;
    private final Handle anyHandle;

    /**
     * Whether a row's changes depend on no other row: the table has a primary key and no other
     * unique key (see {@link DeferredChanges}).
     */
    private final boolean independentRows;

    ChangePlanner(TargetTable table, TxnClient txn, RowIdAllocator ids, RowChecker checker) {
        this.table = table;
        this.codec = table.codec();
        this.physicalId = table.physicalId();
        this.txn = txn;
        this.ids = ids;
        this.checker = checker;
        TableInfo info = table.info();
        IndexInfo pk = null;
        for (IndexInfo idx : info.indices) {
            if (!idx.unique || !idx.writable() || idx.primary && info.isCommonHandle) {
                continue;
            }
            uniques.add(idx);
            if (idx.primary) {
                pk = idx;
            }
        }
        this.pkIndex = table.rowIdHandle() ? pk : null;
        List<String> keyColumns = info.primaryKeyColumns();
        this.keyOffsets = new int[keyColumns.size()];
        for (int i = 0; i < keyOffsets.length; i++) {
            keyOffsets[i] = info.column(keyColumns.get(i)).offset;
        }
        ColumnInfo auto = table.autoIncrement();
        this.autoIncOffset = auto == null ? -1 : auto.offset;
        this.anyHandle = info.isCommonHandle ? Handle.ofCommon(new byte[0]) : Handle.ofInt(0);
        this.independentRows = keyOffsets.length > 0 && uniques.stream().allMatch(u -> u.primary);
    }

    /** The mutations of a batch, and the changes deferred to the next transaction. */
    static final class Plan {
        final Map<ByteKey, Kvrpcpb.Mutation> mutations = new LinkedHashMap<>();
        final List<RowWrite> deferred = new ArrayList<>();

        void put(KeyValue kv) {
            ByteKey k = new ByteKey(kv.key());
            mutations.remove(k); // keep the order of the last mutation
            mutations.put(k, TxnClient.put(kv.key(), kv.value()));
        }

        void delete(byte[] key) {
            ByteKey k = new ByteKey(key);
            mutations.remove(k);
            mutations.put(k, TxnClient.delete(key));
        }

        List<Kvrpcpb.Mutation> mutationList() {
            return new ArrayList<>(mutations.values());
        }
    }

    /**
     * Plans {@code changes}, in order, reading stored rows at {@code readTs}.
     *
     * @param written keys this transaction prewrote already
     * @param deferred the changes deferred so far in this transaction (added to)
     */
    Plan plan(List<RowWrite> changes, long readTs, KeyHashSet written, DeferredChanges deferred) {
        Batch b = new Batch(readTs);
        prefetch(b, changes);
        Plan plan = new Plan();
        for (RowWrite c : changes) {
            try {
                apply(b, c, plan, written, deferred);
            } catch (RowRejectedException e) {
                throw e.of(c);
            }
        }
        // Explicit AUTO_INCREMENT values reach the allocator's key before this plan commits.
        ids.settle();
        return plan;
    }

    /** Reads, in two batches, the rows and index entries the changes will look at. */
    private void prefetch(Batch b, List<RowWrite> changes) {
        List<byte[]> keys = new ArrayList<>();
        for (RowWrite c : changes) {
            Object[] row = c.row();
            if (!table.rowIdHandle() && keyGiven(c)) {
                keys.add(TableCodec.recordKey(physicalId, codec.handleOf(row)));
            }
            if (c.kind() == RowWrite.Kind.DELETE) {
                if (pkIndex != null && keyGiven(c)) {
                    keys.add(uniqueKey(pkIndex, row));
                }
                continue;
            }
            for (IndexInfo idx : uniques) {
                if (given(c, idx)) {
                    byte[] k = uniqueKey(idx, row);
                    if (k != null) {
                        keys.add(k);
                    }
                }
            }
        }
        b.prefetch(keys);
        List<byte[]> owners = new ArrayList<>();
        for (Map.Entry<ByteKey, byte[]> e : b.values.entrySet()) {
            byte[] k = e.getKey().bytes();
            if (e.getValue() != ABSENT && TableCodec.isIndexKey(k)) {
                IndexInfo idx = indexOf(k);
                if (idx != null) {
                    owners.add(
                            TableCodec.recordKey(
                                    physicalId, codec.indexHandle(idx, k, e.getValue())));
                }
            }
        }
        b.prefetch(owners);
    }

    private IndexInfo indexOf(byte[] indexKey) {
        long id = TableCodec.indexId(indexKey);
        for (IndexInfo idx : uniques) {
            if (idx.id == id) {
                return idx;
            }
        }
        return null;
    }

    private boolean keyGiven(RowWrite c) {
        for (int o : keyOffsets) {
            if (!c.gives(o) || c.row()[o] == null) {
                return false;
            }
        }
        return keyOffsets.length > 0;
    }

    private static boolean given(RowWrite c, IndexInfo idx) {
        for (IndexInfo.IndexColumn ic : idx.columns) {
            if (!c.gives(ic.offset)) {
                return false;
            }
        }
        return true;
    }

    /** A stored row: its handle and values. */
    private static final class Current {
        final Handle handle;
        final Object[] row;

        Current(Handle handle, Object[] row) {
            this.handle = handle;
            this.row = row;
        }
    }

    /** Plans one change. */
    private void apply(
            Batch b, RowWrite c, Plan plan, KeyHashSet written, DeferredChanges deferred) {
        byte[] identity = identityOf(c);
        if (identity != null && blocked(List.of(identity), written, deferred)) {
            // The row is this transaction's already: what we would read of it is stale (a
            // partial upsert would take defaults for columns the row has).
            defer(c, List.of(identity), plan, deferred);
            return;
        }
        Current cur = current(b, c);
        List<byte[]> deletes = new ArrayList<>();
        if (cur != null) {
            deletes.addAll(codec.recordKeys(physicalId, cur.row, cur.handle));
        }
        if (c.kind() == RowWrite.Kind.DELETE) {
            if (cur == null) {
                return; // absent, and not written since the transaction began (checked above)
            }
            if (blocked(deletes, written, deferred)) {
                defer(c, deletes, plan, deferred);
                return;
            }
            deletes.forEach(plan::delete);
            b.forget(cur);
            return;
        }
        Object[] row = merge(c, cur);
        if (autoIncOffset >= 0) {
            if (isUnset(row[autoIncOffset])) {
                long id = ids.next();
                row[autoIncOffset] =
                        row[autoIncOffset] instanceof BigInteger || uint64(autoIncOffset)
                                ? BigInteger.valueOf(id)
                                : (Object) id;
            } else {
                // As TiDB's INSERT, rebase at the row: no id handed out after it may equal it.
                ids.rebase(((Number) row[autoIncOffset]).longValue());
            }
        }
        for (int i = 0; i < row.length; i++) {
            checker.checkNotNull(i, row[i]);
        }
        Handle handle =
                !table.rowIdHandle()
                        ? codec.handleOf(row)
                        : cur != null ? cur.handle : Handle.ofInt(ids.next());
        String duplicate = c.kind() == RowWrite.Kind.INSERT && cur != null ? "PRIMARY" : null;
        String duplicateValue = duplicate == null ? null : TableCodec.keyValues(row, keyOffsets);
        List<Current> victims = new ArrayList<>();
        for (IndexInfo idx : uniques) {
            byte[] k = uniqueKey(idx, row);
            Handle owner = k == null ? null : b.owner(k, idx);
            if (owner == null || owner.equals(handle) || cur != null && owner.equals(cur.handle)) {
                continue;
            }
            if (duplicate == null && c.kind() == RowWrite.Kind.INSERT) {
                duplicate = idx.name.o;
                duplicateValue = TableCodec.keyValues(row, idx);
            }
            Object[] victimRow = b.row(owner);
            if (victimRow == null) {
                deletes.add(k); // an index entry without its row: drop the entry
            } else if (victims.stream().noneMatch(v -> v.handle.equals(owner))) {
                victims.add(new Current(owner, victimRow));
                deletes.addAll(codec.recordKeys(physicalId, victimRow, owner));
            }
        }
        List<KeyValue> puts = codec.encodeRecord(physicalId, row, handle);
        List<byte[]> touched = new ArrayList<>(deletes);
        for (KeyValue kv : puts) {
            touched.add(kv.key());
        }
        if (blocked(touched, written, deferred)) {
            // What we read may be changed by earlier changes not yet written: decide next time.
            defer(c, touched, plan, deferred);
            return;
        }
        if (duplicate != null) {
            throw new RowRejectedException(
                    "Duplicate entry '"
                            + duplicateValue
                            + "' for key '"
                            + table.info().name()
                            + "."
                            + duplicate
                            + "' of TiDB table "
                            + table.name()
                            + " (an INSERT; write with a primary key to upsert)");
        }
        for (KeyValue kv : puts) {
            long size = kv.key().length + kv.value().length;
            if (size > RowChecker.MAX_ENTRY_BYTES) {
                throw new RowRejectedException(
                        "a row of TiDB table "
                                + table.name()
                                + " (handle "
                                + handle
                                + ") encodes to "
                                + size
                                + " bytes, more than TiDB's txn-entry-size-limit of "
                                + RowChecker.MAX_ENTRY_BYTES
                                + " bytes");
            }
        }
        deletes.forEach(plan::delete);
        puts.forEach(plan::put);
        if (cur != null) {
            b.forget(cur);
        }
        victims.forEach(b::forget);
        b.remember(handle, row);
    }

    private boolean uint64(int offset) {
        return table.info().columns.get(offset).type.isUnsigned()
                && table.info().columns.get(offset).type.tp
                        == io.tiflink.tidb.types.MysqlType.LONGLONG;
    }

    /** TiDB allocates an AUTO_INCREMENT value for NULL and 0. */
    private static boolean isUnset(Object v) {
        if (v == null) {
            return true;
        }
        if (v instanceof BigInteger) {
            return ((BigInteger) v).signum() == 0;
        }
        if (v instanceof BigDecimal) {
            return ((BigDecimal) v).signum() == 0;
        }
        return v instanceof Number && ((Number) v).longValue() == 0;
    }

    private static boolean blocked(
            List<byte[]> keys, KeyHashSet written, DeferredChanges deferred) {
        for (byte[] k : keys) {
            if (written.contains(k) || deferred.holds(k)) {
                return true;
            }
        }
        return false;
    }

    private void defer(RowWrite c, List<byte[]> touched, Plan plan, DeferredChanges deferred) {
        plan.deferred.add(c);
        byte[] identity = independentRows ? identityOf(c) : null;
        if (identity != null) {
            deferred.addOfRow(identity, c);
        } else {
            deferred.add(c, touched);
        }
    }

    /** The key that finds the row {@code c} changes, or null if it is a new row to allocate. */
    private byte[] identityOf(RowWrite c) {
        if (!keyGiven(c)
                || c.kind() != RowWrite.Kind.DELETE
                        && autoIncOffset >= 0
                        && isKeyColumn(autoIncOffset)
                        && isUnset(c.row()[autoIncOffset])) {
            return null;
        }
        return identityKey(c.row());
    }

    private boolean isKeyColumn(int offset) {
        for (int o : keyOffsets) {
            if (o == offset) {
                return true;
            }
        }
        return false;
    }

    /** The new row: the given columns, the others from the stored row, or their defaults. */
    private Object[] merge(RowWrite c, Current cur) {
        Object[] given = c.row();
        Object[] row = new Object[given.length];
        for (int i = 0; i < row.length; i++) {
            if (c.gives(i)) {
                row[i] = given[i];
            } else if (cur != null) {
                row[i] = cur.row[i];
            } else {
                row[i] = checker.check(i, defaultValue(i));
            }
        }
        return row;
    }

    /** The DEFAULT of the column at {@code offset} for a new row. */
    private Object defaultValue(int offset) {
        try {
            return codec.defaultValue(offset);
        } catch (CodecException e) {
            // A DEFAULT only TiDB evaluates: every new row without the column fails the same way.
            throw new RowRejectedException(
                    "TiDB table " + table.name() + ", " + e.getMessage() + "; give it a value");
        }
    }

    /** The stored row a change addresses, or null. */
    private Current current(Batch b, RowWrite c) {
        if (!keyGiven(c)) {
            if (c.kind() == RowWrite.Kind.DELETE) {
                throw new RowRejectedException(
                        "a DELETE from TiDB table "
                                + table.name()
                                + " needs its primary key"
                                + (keyOffsets.length == 0
                                        ? ", which the table does not have"
                                        : " columns " + table.info().primaryKeyColumns()));
            }
            return null; // a new row (e.g. an AUTO_INCREMENT id to allocate)
        }
        Object[] row = c.row();
        Handle h;
        if (pkIndex != null) {
            h = b.owner(uniqueKey(pkIndex, row), pkIndex);
            if (h == null) {
                return null;
            }
        } else {
            h = codec.handleOf(row);
        }
        Object[] stored = b.row(h);
        return stored == null ? null : new Current(h, stored);
    }

    /** The key that finds a row: its record key, or its primary key's index entry. */
    private byte[] identityKey(Object[] row) {
        return pkIndex != null
                ? uniqueKey(pkIndex, row)
                : TableCodec.recordKey(physicalId, codec.handleOf(row));
    }

    /** The key of a row's entry in a unique index, or null if a key column is NULL. */
    private byte[] uniqueKey(IndexInfo idx, Object[] row) {
        for (IndexInfo.IndexColumn ic : idx.columns) {
            if (row[ic.offset] == null) {
                return null;
            }
        }
        // A unique entry's key holds no handle: any handle of the table's kind will do.
        return codec.indexEntry(physicalId, idx, row, anyHandle).key();
    }

    /** What one plan read, and the rows as its changes left them. */
    private final class Batch {
        final long readTs;
        final Map<ByteKey, byte[]> values = new HashMap<>();
        final Map<ByteKey, Object[]> rows = new HashMap<>();
        final Map<ByteKey, Optional<Handle>> owners = new HashMap<>();

        Batch(long readTs) {
            this.readTs = readTs;
        }

        void prefetch(List<byte[]> keys) {
            List<byte[]> missing = new ArrayList<>();
            for (byte[] k : keys) {
                ByteKey key = new ByteKey(k);
                if (!values.containsKey(key)) {
                    values.put(key, ABSENT);
                    missing.add(k);
                }
            }
            values.putAll(txn.get(readTs, missing));
        }

        byte[] value(byte[] key) {
            ByteKey k = new ByteKey(key);
            if (!values.containsKey(k)) {
                prefetch(List.of(key));
            }
            byte[] v = values.get(k);
            return v == ABSENT ? null : v;
        }

        Object[] row(Handle h) {
            byte[] key = TableCodec.recordKey(physicalId, h);
            ByteKey k = new ByteKey(key);
            Object[] r = rows.get(k);
            if (r == null) {
                byte[] v = value(key);
                r = v == null ? DELETED : codec.decode(key, v);
                rows.put(k, r);
            }
            return r == DELETED ? null : r;
        }

        Handle owner(byte[] indexKey, IndexInfo idx) {
            ByteKey k = new ByteKey(indexKey);
            Optional<Handle> o = owners.get(k);
            if (o == null) {
                byte[] v = value(indexKey);
                o = v == null ? Optional.empty() : Optional.of(codec.indexHandle(idx, indexKey, v));
                owners.put(k, o);
            }
            return o.orElse(null);
        }

        void forget(Current c) {
            rows.put(new ByteKey(TableCodec.recordKey(physicalId, c.handle)), DELETED);
            for (IndexInfo idx : uniques) {
                byte[] k = uniqueKey(idx, c.row);
                if (k != null) {
                    owners.put(new ByteKey(k), Optional.empty());
                }
            }
        }

        void remember(Handle h, Object[] row) {
            rows.put(new ByteKey(TableCodec.recordKey(physicalId, h)), row);
            for (IndexInfo idx : uniques) {
                byte[] k = uniqueKey(idx, row);
                if (k != null) {
                    owners.put(new ByteKey(k), Optional.of(h));
                }
            }
        }
    }

    @Override
    public String toString() {
        return "ChangePlanner(" + table.name() + ", key " + Arrays.toString(keyOffsets) + ")";
    }
}
