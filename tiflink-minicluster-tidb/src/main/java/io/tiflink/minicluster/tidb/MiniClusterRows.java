package io.tiflink.minicluster.tidb;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.txn.Percolator;
import io.tiflink.tidb.meta.PartitionInfo;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.table.Handle;
import io.tiflink.tidb.table.KeyValue;
import io.tiflink.tidb.table.TableCodec;

import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;

/**
 * Writes and reads TiDB rows in a minicluster through its engine, as TiDB leaves them: a
 * transaction's records and index entries prewritten and committed together. For the playground and
 * tests, where no TiDB server runs. Handles tables partitioned by HASH on an integer column.
 */
public final class MiniClusterRows {
    /** How long a read waits for a live transaction's lock before it gives up. */
    private static final Duration LOCK_WAIT = Duration.ofMinutes(2);

    private static final Duration LOCK_BACKOFF = Duration.ofMillis(10);

    private final MiniTiKVCluster cluster;

    public MiniClusterRows(MiniTiKVCluster cluster) {
        this.cluster = cluster;
    }

    public Txn txn(TableInfo table) {
        return new Txn(table);
    }

    /** Row changes that commit together: of one table, or of several ({@link #in}). */
    public final class Txn {
        private TableCodec codec;
        private final List<Kvrpcpb.Mutation> mutations = new ArrayList<>();

        private Txn(TableInfo table) {
            this.codec = new TableCodec(table);
        }

        /**
         * The physical table of a row: the table's own, or for a table partitioned by HASH on an
         * integer column, partition {@code abs(value) % n}, as in TiDB.
         */
        private long physicalId(Object[] row) {
            PartitionInfo p = codec.table().partition;
            if (p == null) {
                return codec.table().id;
            }
            if (p.type != PartitionInfo.HASH) {
                throw new IllegalArgumentException(
                        "table '" + codec.table().name() + "': only HASH partitions are written");
            }
            long v = (Long) row[codec.table().column(p.expr.replace("`", "")).offset];
            return p.definitions.get((int) (Math.abs(v) % p.definitions.size())).id;
        }

        /** The changes that follow are of {@code table}'s rows. */
        public Txn in(TableInfo table) {
            codec = new TableCodec(table);
            return this;
        }

        public Txn insert(Object... row) {
            for (KeyValue kv : codec.encodeRecord(physicalId(row), row, codec.handleOf(row))) {
                set(kv.key(), kv.value());
            }
            return this;
        }

        /** Inserts a row of a table keyed by {@code _tidb_rowid}, with that row id. */
        public Txn insertWithRowId(long rowId, Object... row) {
            Handle h = Handle.ofInt(rowId);
            for (KeyValue kv : codec.encodeRecord(physicalId(row), row, h)) {
                set(kv.key(), kv.value());
            }
            return this;
        }

        /** Replaces {@code before} by {@code after}; their index entries change with them. */
        public Txn update(Object[] before, Object[] after) {
            delete(before);
            return insert(after);
        }

        public Txn delete(Object... row) {
            for (byte[] key : codec.recordKeys(physicalId(row), row, codec.handleOf(row))) {
                set(key, null);
            }
            return this;
        }

        /** One mutation per key, the last one given. */
        private void set(byte[] key, byte[] value) {
            ByteString k = ByteString.copyFrom(key);
            mutations.removeIf(m -> m.getKey().equals(k));
            Kvrpcpb.Mutation.Builder m = Kvrpcpb.Mutation.newBuilder().setKey(k);
            mutations.add(
                    value == null
                            ? m.setOp(Kvrpcpb.Op.Del).build()
                            : m.setOp(Kvrpcpb.Op.Put).setValue(ByteString.copyFrom(value)).build());
        }

        /**
         * The transaction's writes, key to value ({@code null} deletes), in order: for a {@code
         * TiDBLikeWriter} to commit or crash in any of TiDB's shapes.
         */
        public Map<byte[], byte[]> writes() {
            Map<byte[], byte[]> out = new LinkedHashMap<>();
            for (Kvrpcpb.Mutation m : mutations) {
                out.put(
                        m.getKey().toByteArray(),
                        m.getOp() == Kvrpcpb.Op.Del ? null : m.getValue().toByteArray());
            }
            return out;
        }

        /**
         * Prewrites (the first key is the primary) and commits.
         *
         * @return the commit ts
         * @throws IllegalStateException if a key is locked or was written since the start ts
         */
        public long commit() {
            long startTs = cluster.currentTs();
            Kvrpcpb.PrewriteResponse p =
                    cluster.percolator()
                            .prewrite(
                                    Kvrpcpb.PrewriteRequest.newBuilder()
                                            .setStartVersion(startTs)
                                            .setPrimaryLock(mutations.get(0).getKey())
                                            .setLockTtl(3000)
                                            .setMinCommitTs(startTs + 1)
                                            .setTxnSize(mutations.size())
                                            .addAllMutations(mutations)
                                            .build());
            if (p.getErrorsCount() > 0) {
                throw new IllegalStateException("prewrite failed: " + p.getErrors(0));
            }
            long commitTs = cluster.currentTs();
            List<ByteString> keys = new ArrayList<>();
            mutations.forEach(m -> keys.add(m.getKey()));
            Kvrpcpb.CommitResponse c =
                    cluster.percolator()
                            .commit(
                                    Kvrpcpb.CommitRequest.newBuilder()
                                            .setStartVersion(startTs)
                                            .setCommitVersion(commitTs)
                                            .addAllKeys(keys)
                                            .build());
            if (c.hasError()) {
                throw new IllegalStateException("commit failed: " + c.getError());
            }
            return commitTs;
        }
    }

    /** The table's rows at {@code ts}, decoded. */
    public List<Object[]> rows(TableInfo table, long ts) {
        TableCodec codec = new TableCodec(table);
        List<Object[]> rows = new ArrayList<>();
        for (long physicalId : table.physicalIds()) {
            byte[] prefix = TableCodec.recordPrefix(physicalId);
            byte[] end = prefix.clone();
            end[end.length - 1]++;
            for (Kvrpcpb.KvPair p : scan(prefix, end, ts)) {
                rows.add(codec.decode(p.getKey().toByteArray(), p.getValue().toByteArray()));
            }
        }
        return rows;
    }

    /**
     * Every key-value pair in {@code [start, end)} at {@code ts}. Locks in the way are resolved as
     * a TiDB reader resolves them: committed with their primary, rolled back once it is rolled back
     * or expired, waited for while it lives; one status check and one resolve per transaction.
     */
    public List<Kvrpcpb.KvPair> scan(byte[] start, byte[] end, long ts) {
        long deadline = System.nanoTime() + LOCK_WAIT.toNanos();
        Set<Long> pushedPast = new HashSet<>();
        while (true) {
            List<Kvrpcpb.KvPair> pairs =
                    cluster.percolator()
                            .scan(
                                    start,
                                    end,
                                    Integer.MAX_VALUE,
                                    false,
                                    false,
                                    new Percolator.ReadContext(ts, pushedPast, false));
            Map<Long, List<Kvrpcpb.LockInfo>> locksByTxn = new LinkedHashMap<>();
            for (Kvrpcpb.KvPair p : pairs) {
                if (p.hasError()) {
                    if (!p.getError().hasLocked()) {
                        throw new IllegalStateException("read failed: " + p.getError());
                    }
                    Kvrpcpb.LockInfo lock = p.getError().getLocked();
                    locksByTxn
                            .computeIfAbsent(lock.getLockVersion(), v -> new ArrayList<>())
                            .add(lock);
                }
            }
            if (locksByTxn.isEmpty()) {
                return pairs;
            }
            boolean waiting = false;
            for (List<Kvrpcpb.LockInfo> locks : locksByTxn.values()) {
                waiting |= !resolve(locks, ts, pushedPast);
            }
            if (waiting) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "live locks block the read at " + ts + " for " + LOCK_WAIT);
                }
                LockSupport.parkNanos(LOCK_BACKOFF.toNanos());
            }
        }
    }

    /**
     * Resolves the locks of one transaction, or when it was pushed to commit after the read adds it
     * to the locks the read skips; false when the transaction still runs before the read.
     */
    private boolean resolve(List<Kvrpcpb.LockInfo> locks, long readTs, Set<Long> pushedPast) {
        Kvrpcpb.LockInfo first = locks.get(0);
        Percolator engine = cluster.percolator();
        Kvrpcpb.CheckTxnStatusResponse status =
                engine.checkTxnStatus(
                        Kvrpcpb.CheckTxnStatusRequest.newBuilder()
                                .setPrimaryKey(first.getPrimaryLock())
                                .setLockTs(first.getLockVersion())
                                .setCallerStartTs(readTs)
                                .setCurrentTs(cluster.currentTs())
                                .setRollbackIfNotExist(true)
                                .build());
        if (status.hasError()) {
            throw new IllegalStateException("checking the lock " + first + " failed: " + status);
        }
        if (status.getAction() == Kvrpcpb.Action.MinCommitTSPushed) {
            pushedPast.add(first.getLockVersion());
            return true;
        }
        if (status.getLockTtl() > 0) {
            return false;
        }
        Kvrpcpb.ResolveLockRequest.Builder request =
                Kvrpcpb.ResolveLockRequest.newBuilder()
                        .setStartVersion(first.getLockVersion())
                        .setCommitVersion(status.getCommitVersion());
        locks.forEach(l -> request.addKeys(l.getKey()));
        Kvrpcpb.ResolveLockResponse resolved =
                engine.resolveLock(request.build(), new byte[0], new byte[0]);
        if (resolved.hasError()) {
            throw new IllegalStateException(
                    "resolving the locks of " + first + " failed: " + resolved);
        }
        return true;
    }
}
