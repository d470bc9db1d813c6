package io.tiflink.tidb.write;

import io.tiflink.tikv.Keys;
import io.tiflink.tikv.txn.TxnClient;
import io.tiflink.tikv.txn.WriteConflictException;

import org.tikv.kvproto.Kvrpcpb;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Row changes into one TiDB table: checked ({@link RowChecker}), planned into mutations ({@link
 * ChangePlanner}), and written either into a transaction others share (the writer's epochs) or in a
 * transaction of their own.
 */
public final class TableWriter {
    private static final Logger LOG = LoggerFactory.getLogger(TableWriter.class);

    private final TxnClient txn;
    private final TargetTable table;
    private final RowChecker checker;
    private final ChangePlanner planner;
    private final long lockTtl;
    private final int maxRetries;
    private WriteListener listener = WriteListener.NONE;

    private TableWriter(TxnClient txn, TargetTable table, Duration lockTtl, int maxRetries) {
        this.txn = txn;
        this.table = table;
        this.checker = new RowChecker(table.name(), table.info().columns);
        this.lockTtl = lockTtl.toMillis();
        this.maxRetries = maxRetries;
        RowIdAllocator ids =
                new RowIdAllocator(txn, table.dbId(), table.physicalId(), this.lockTtl);
        this.planner = new ChangePlanner(table, txn, ids, checker);
    }

    /**
     * A writer of {@code database.table}, as its schema is now.
     *
     * @param lockTtl TTL of the locks of the transactions it commits itself
     * @param maxRetries how often a transaction of its own that conflicted with another writer is
     *     retried
     * @throws IllegalArgumentException if the table does not exist or cannot be written
     */
    public static TableWriter open(
            TxnClient txn, String database, String table, Duration lockTtl, int maxRetries) {
        TargetTable target = TargetTable.load(txn.session(), txn.timestamp(), database, table);
        return new TableWriter(txn, target, lockTtl, maxRetries);
    }

    public TargetTable table() {
        return table;
    }

    /** Reports what this writer and its shared-transaction writers send to {@code listener}. */
    public void reportTo(WriteListener listener) {
        this.listener = listener;
    }

    WriteListener listener() {
        return listener;
    }

    /** The bytes of {@code mutations}' keys and values. */
    static long bytes(List<Kvrpcpb.Mutation> mutations) {
        long bytes = 0;
        for (Kvrpcpb.Mutation m : mutations) {
            bytes += m.getKey().size() + m.getValue().size();
        }
        return bytes;
    }

    /**
     * The change with its given values checked and in their column kinds' classes.
     *
     * @throws RowRejectedException naming {@code c} if a value does not fit its column
     */
    public RowWrite checked(RowWrite c) {
        Object[] row = c.row();
        if (row.length != table.info().columns.size()) {
            throw new IllegalArgumentException(
                    "a row for TiDB table "
                            + table.name()
                            + " has "
                            + row.length
                            + " values; the table has "
                            + table.info().columns.size()
                            + " columns");
        }
        Object[] values = new Object[row.length];
        try {
            for (int i = 0; i < row.length; i++) {
                if (c.gives(i)) {
                    values[i] = checker.check(i, row[i]);
                    boolean allocated =
                            table.autoIncrement() != null && table.autoIncrement().offset == i;
                    if (c.kind() != RowWrite.Kind.DELETE && !allocated) {
                        checker.checkNotNull(i, values[i]);
                    }
                }
            }
        } catch (RowRejectedException e) {
            throw e.of(c);
        }
        return c.isRetraction()
                ? RowWrite.retraction(values, c.givenMask())
                : RowWrite.of(c.kind(), values, c.givenMask());
    }

    ChangePlanner.Plan plan(
            List<RowWrite> changes, long readTs, KeyHashSet written, DeferredChanges deferred) {
        return planner.plan(changes, readTs, written, deferred);
    }

    /**
     * Writes and commits the changes in a transaction of their own, retrying write conflicts with
     * other writers.
     *
     * @throws WriteConflictException if the last retry conflicted too
     */
    public void writeAlone(List<RowWrite> changes) {
        writeInOwnTransaction(changes, null);
    }

    /**
     * Writes the changes once, in a transaction whose primary is {@code marker}: when the marker is
     * committed already, they were written; an attempt a failure left open is rolled back.
     */
    public void writeOnce(List<RowWrite> changes, byte[] marker) {
        if (!txn.get(txn.timestamp(), List.of(marker)).isEmpty()) {
            return;
        }
        for (Kvrpcpb.LockInfo lock : txn.scanLocks(marker, Keys.next(marker), Long.MAX_VALUE)) {
            txn.rollbackPrimary(marker, lock.getLockVersion());
            txn.resolveRange(table.keyPrefix(), table.keyEnd(), lock.getLockVersion(), 0);
        }
        writeInOwnTransaction(changes, marker);
    }

    private void writeInOwnTransaction(List<RowWrite> changes, byte[] marker) {
        for (int attempt = 0; ; attempt++) {
            long startTs = txn.timestamp();
            ChangePlanner.Plan plan =
                    planner.plan(changes, startTs, new KeyHashSet(), new DeferredChanges());
            List<Kvrpcpb.Mutation> mutations = plan.mutationList();
            if (marker != null) {
                mutations.add(
                        0, TxnClient.put(marker, table.name().getBytes(StandardCharsets.UTF_8)));
            }
            if (mutations.isEmpty()) {
                return;
            }
            byte[] primary = mutations.get(0).getKey().toByteArray();
            try {
                txn.prewrite(primary, mutations, startTs, lockTtl);
            } catch (WriteConflictException e) {
                listener.conflicted();
                txn.rollbackPrimary(primary, startTs);
                if (attempt >= maxRetries) {
                    throw new WriteConflictException(
                            "writing into TiDB table "
                                    + table.name()
                                    + ", a batch conflicted with other writers "
                                    + (attempt + 1)
                                    + " times: "
                                    + e.getMessage());
                }
                continue;
            }
            long commitTs = txn.commitPrimary(primary, startTs);
            listener.written(changes.size(), bytes(mutations));
            List<byte[]> secondaries = new ArrayList<>(mutations.size() - 1);
            for (int i = 1; i < mutations.size(); i++) {
                secondaries.add(mutations.get(i).getKey().toByteArray());
            }
            Kvrpcpb.KeyError e = txn.commit(secondaries, startTs, commitTs);
            if (e != null) {
                // The primary committed: readers resolve these locks from it.
                LOG.warn("committing secondaries of transaction {} failed: {}", startTs, e);
            }
            return;
        }
    }
}
