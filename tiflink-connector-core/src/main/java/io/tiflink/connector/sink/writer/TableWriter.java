package io.tiflink.connector.sink.writer;

import io.tiflink.connector.sink.RowChange;
import io.tiflink.connector.sink.TiKVSinkConfig;
import io.tiflink.connector.sink.TiKVSinkOptions;
import io.tiflink.connector.sink.txn.ByteKey;
import io.tiflink.connector.sink.txn.EpochKeys;
import io.tiflink.connector.sink.txn.TxnClient;
import io.tiflink.connector.sink.txn.WriteConflictException;

import org.apache.flink.util.FlinkRuntimeException;

import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

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

    private TableWriter(TxnClient txn, TargetTable table, TiKVSinkConfig config) {
        this.txn = txn;
        this.table = table;
        this.checker = new RowChecker(table.name(), table.info().columns);
        this.lockTtl = config.lockTtl().toMillis();
        this.maxRetries = config.maxRetries();
        RowIdAllocator ids = new RowIdAllocator(txn, table.dbId(), table.physicalId(), lockTtl);
        this.planner = new ChangePlanner(table, txn, ids, checker);
    }

    /**
     * @throws IllegalArgumentException if the table does not exist or cannot be written
     */
    public static TableWriter open(TxnClient txn, TiKVSinkConfig config) {
        TargetTable table =
                TargetTable.load(txn.session(), txn.timestamp(), config.database(), config.table());
        return new TableWriter(txn, table, config);
    }

    public TargetTable table() {
        return table;
    }

    /** The change with its given values checked and in their column kinds' classes. */
    RowChange checked(RowChange c) {
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
        for (int i = 0; i < row.length; i++) {
            if (c.gives(i)) {
                values[i] = checker.check(i, row[i]);
                boolean allocated =
                        table.autoIncrement() != null && table.autoIncrement().offset == i;
                if (c.kind() != RowChange.Kind.DELETE && !allocated) {
                    checker.checkNotNull(i, values[i]);
                }
            }
        }
        return RowChange.of(c.kind(), values, c.givenMask());
    }

    ChangePlanner.Plan plan(
            List<RowChange> changes, long readTs, KeyHashSet written, Set<ByteKey> deferred) {
        return planner.plan(changes, readTs, written, deferred);
    }

    /** Changes as bytes that survive a schema change ({@link ChangeCodec}). */
    public byte[] encode(List<RowChange> changes) throws IOException {
        return ChangeCodec.write(changes, table.info());
    }

    public List<RowChange> decode(byte[] changes) throws IOException {
        return ChangeCodec.read(changes, table.info());
    }

    /**
     * Writes and commits the changes in a transaction of their own, retrying write conflicts with
     * other writers ({@code sink.max-retries}).
     */
    void writeAlone(List<RowChange> changes) {
        writeInOwnTransaction(changes, null);
    }

    /**
     * Writes the changes once, in a transaction whose primary is {@code marker}: when the marker is
     * committed already, they were written; an attempt a failure left open is rolled back.
     */
    public void writeOnce(List<RowChange> changes, byte[] marker) {
        if (!txn.get(txn.timestamp(), List.of(marker)).isEmpty()) {
            return;
        }
        for (Kvrpcpb.LockInfo lock :
                txn.scanLocks(marker, EpochKeys.next(marker), Long.MAX_VALUE)) {
            txn.rollbackPrimary(marker, lock.getLockVersion());
            txn.resolveRange(table.keyPrefix(), table.keyEnd(), lock.getLockVersion(), 0);
        }
        writeInOwnTransaction(changes, marker);
    }

    private void writeInOwnTransaction(List<RowChange> changes, byte[] marker) {
        for (int attempt = 0; ; attempt++) {
            long startTs = txn.timestamp();
            ChangePlanner.Plan plan =
                    planner.plan(changes, startTs, new KeyHashSet(), new HashSet<>());
            List<Kvrpcpb.Mutation> mutations = plan.mutationList();
            if (marker != null) {
                mutations.add(
                        0,
                        Kvrpcpb.Mutation.newBuilder()
                                .setOp(Kvrpcpb.Op.Put)
                                .setKey(ByteString.copyFrom(marker))
                                .setValue(ByteString.copyFromUtf8(table.name()))
                                .build());
            }
            if (mutations.isEmpty()) {
                return;
            }
            byte[] primary = mutations.get(0).getKey().toByteArray();
            try {
                txn.prewrite(primary, mutations, startTs, lockTtl);
            } catch (WriteConflictException e) {
                txn.rollbackPrimary(primary, startTs);
                if (attempt >= maxRetries) {
                    throw new FlinkRuntimeException(
                            "TiKV sink into "
                                    + table.name()
                                    + ": a batch conflicted with other writers "
                                    + (attempt + 1)
                                    + " times ('"
                                    + TiKVSinkOptions.MAX_RETRIES.key()
                                    + "' = "
                                    + maxRetries
                                    + "): "
                                    + e.getMessage(),
                            e);
                }
                continue;
            }
            long commitTs = txn.commitPrimary(primary, startTs);
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
