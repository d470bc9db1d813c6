package io.tiflink.tidb.meta;

import io.tiflink.tidb.table.Handle;
import io.tiflink.tidb.table.KeyValue;
import io.tiflink.tidb.table.TableCodec;
import io.tiflink.tikv.ByteKey;
import io.tiflink.tikv.Keys;
import io.tiflink.tikv.txn.TxnClient;
import io.tiflink.tikv.txn.WriteConflictException;

import org.tikv.common.TiSession;
import org.tikv.common.operation.iterator.ConcreteScanIterator;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The data work of ADD INDEX and DROP INDEX, as TiDB's transactional backfill does it ({@code
 * addIndexTxnWorker} of pkg/ddl/index.go): key ranges walked in batches of at most {@code
 * batchRows} keys, each batch a transaction of its own that reads at its start ts.
 */
final class IndexReorg {
    private static final Logger LOG = LoggerFactory.getLogger(IndexReorg.class);
    private static final long LOCK_TTL_MS = 20_000;
    private static final int MAX_ATTEMPTS = 10;

    /** A unique index met two rows with the same key: the ADD INDEX fails. */
    static final class DuplicateEntryException extends IllegalStateException {
        DuplicateEntryException(String message) {
            super(message);
        }
    }

    private final TiSession session;
    private final TxnClient txn;
    private final int batchRows;

    IndexReorg(TiSession session, int batchRows) {
        this.session = session;
        this.txn = new TxnClient(session);
        this.batchRows = batchRows;
    }

    /** What a batch transaction writes, from the pairs it read at its start ts. */
    private interface BatchPlan {
        List<Kvrpcpb.Mutation> mutations(List<Kvrpcpb.KvPair> read, long startTs);
    }

    /**
     * Writes the entry in {@code idx} of every row of {@code table} (of each partition) that lacks
     * it. Each batch reads the rows at its start ts, which is later than the version that made the
     * index write-only: rows that writers unaware of the index committed are read, and rows written
     * since carry their entry already (skipped). A row indexed is locked in the batch's
     * transaction, so that a writer changing it meanwhile makes the batch conflict and read again.
     *
     * @return the number of entries written
     * @throws DuplicateEntryException if {@code idx} is unique and two rows share a key
     */
    long backfill(TableInfo table, IndexInfo idx) {
        TableCodec codec = new TableCodec(table);
        long written = 0;
        for (long physicalId : table.physicalIds()) {
            byte[] prefix = TableCodec.recordPrefix(physicalId);
            byte[] end = prefix.clone();
            end[end.length - 1]++;
            written +=
                    walk(
                            prefix,
                            end,
                            (rows, startTs) ->
                                    indexRows(codec, table, idx, physicalId, rows, startTs));
        }
        LOG.info(
                "backfilled {} entries of index {} of table {} (id {})",
                written,
                idx.name,
                table.name,
                table.id);
        return written;
    }

    private List<Kvrpcpb.Mutation> indexRows(
            TableCodec codec,
            TableInfo table,
            IndexInfo idx,
            long physicalId,
            List<Kvrpcpb.KvPair> rows,
            long startTs) {
        List<Object[]> decoded = new ArrayList<>(rows.size());
        List<KeyValue> entries = new ArrayList<>(rows.size());
        List<byte[]> keys = new ArrayList<>(rows.size());
        for (Kvrpcpb.KvPair p : rows) {
            byte[] recordKey = p.getKey().toByteArray();
            Object[] row = codec.decode(recordKey, p.getValue().toByteArray());
            KeyValue entry = codec.indexEntry(physicalId, idx, row, codec.handle(recordKey));
            decoded.add(row);
            entries.add(entry);
            keys.add(entry.key());
        }
        Map<ByteKey, byte[]> stored = txn.get(startTs, keys);
        Map<ByteKey, Handle> owners = new HashMap<>();
        List<Kvrpcpb.Mutation> out = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            byte[] recordKey = rows.get(i).getKey().toByteArray();
            Handle handle = codec.handle(recordKey);
            KeyValue entry = entries.get(i);
            ByteKey key = new ByteKey(entry.key());
            byte[] value = stored.get(key);
            Handle owner =
                    value != null ? codec.indexHandle(idx, entry.key(), value) : owners.get(key);
            if (owner == null) {
                owners.put(key, handle);
                out.add(TxnClient.put(entry.key(), entry.value()));
                out.add(TxnClient.lock(recordKey));
            } else if (!owner.equals(handle)) {
                throw new DuplicateEntryException(
                        "Duplicate entry '"
                                + TableCodec.keyValues(decoded.get(i), idx)
                                + "' for key '"
                                + table.name.o
                                + "."
                                + idx.name.o
                                + "' (rows "
                                + owner
                                + " and "
                                + handle
                                + ")");
            }
        }
        return out;
    }

    /**
     * Deletes every entry of index {@code indexId} of {@code table} (of each partition), as TiDB's
     * delete-range does once the index is gone.
     *
     * @return the number of entries deleted
     */
    long deleteEntries(TableInfo table, long indexId) {
        long deleted = 0;
        for (long physicalId : table.physicalIds()) {
            deleted +=
                    walk(
                            TableCodec.indexPrefix(physicalId, indexId),
                            TableCodec.indexPrefix(physicalId, indexId + 1),
                            (entries, startTs) -> {
                                List<Kvrpcpb.Mutation> out = new ArrayList<>(entries.size());
                                for (Kvrpcpb.KvPair p : entries) {
                                    out.add(TxnClient.delete(p.getKey().toByteArray()));
                                }
                                return out;
                            });
        }
        return deleted;
    }

    /**
     * Walks {@code [from, end)} a batch at a time: reads up to {@code batchRows} pairs at a fresh
     * start ts, and commits what {@code plan} makes of them in that transaction; a batch that
     * conflicts with a writer is read and planned again.
     *
     * @return how many puts and deletes were committed
     */
    private long walk(byte[] from, byte[] end, BatchPlan plan) {
        long count = 0;
        while (true) {
            for (int attempt = 1; ; attempt++) {
                long startTs = txn.timestamp();
                List<Kvrpcpb.KvPair> read = scan(from, end, startTs);
                if (read.isEmpty()) {
                    return count;
                }
                List<Kvrpcpb.Mutation> mutations = plan.mutations(read, startTs);
                if (mutations.isEmpty() || commit(mutations, startTs, attempt)) {
                    for (Kvrpcpb.Mutation m : mutations) {
                        count += m.getOp() == Kvrpcpb.Op.Lock ? 0 : 1;
                    }
                    from = Keys.next(read.get(read.size() - 1).getKey().toByteArray());
                    break;
                }
            }
        }
    }

    private List<Kvrpcpb.KvPair> scan(byte[] from, byte[] end, long ts) {
        // tikv-client-java's scan needs the end key: without one it drops the last region's pairs.
        ConcreteScanIterator it =
                new ConcreteScanIterator(
                        session.getConf(),
                        session.getRegionStoreClientBuilder(),
                        ByteString.copyFrom(from),
                        ByteString.copyFrom(end),
                        ts);
        List<Kvrpcpb.KvPair> out = new ArrayList<>();
        while (out.size() < batchRows && it.hasNext()) {
            out.add(it.next());
        }
        return out;
    }

    /** Prewrites and commits one batch; false if it conflicted with a writer (rolled back). */
    private boolean commit(List<Kvrpcpb.Mutation> mutations, long startTs, int attempt) {
        byte[] primary = mutations.get(0).getKey().toByteArray();
        try {
            txn.prewrite(primary, mutations, startTs, LOCK_TTL_MS);
        } catch (WriteConflictException e) {
            txn.rollbackPrimary(primary, startTs);
            if (attempt >= MAX_ATTEMPTS) {
                throw new IllegalStateException(
                        "a batch of the index reorganization conflicted with writers "
                                + attempt
                                + " times: "
                                + e.getMessage(),
                        e);
            }
            return false;
        }
        long commitTs = txn.commitPrimary(primary, startTs);
        List<byte[]> secondaries = new ArrayList<>(mutations.size() - 1);
        for (Kvrpcpb.Mutation m : mutations.subList(1, mutations.size())) {
            secondaries.add(m.getKey().toByteArray());
        }
        Kvrpcpb.KeyError e = txn.commit(secondaries, startTs, commitTs);
        if (e != null) {
            // The primary committed: readers resolve these locks from it.
            LOG.warn("committing secondaries of transaction {} failed: {}", startTs, e);
        }
        return true;
    }
}
