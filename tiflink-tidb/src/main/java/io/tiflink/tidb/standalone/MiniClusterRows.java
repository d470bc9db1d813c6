package io.tiflink.tidb.standalone;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.txn.Percolator;
import io.tiflink.tidb.meta.PartitionInfo;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.table.KeyValue;
import io.tiflink.tidb.table.TableCodec;

import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Writes and reads TiDB rows in a minicluster through its engine, as TiDB leaves them: a
 * transaction's records and index entries prewritten and committed together. For the playground and
 * tests, where no TiDB server runs. Handles tables partitioned by HASH on an integer column.
 */
public final class MiniClusterRows {
    private final MiniTiKVCluster cluster;

    public MiniClusterRows(MiniTiKVCluster cluster) {
        this.cluster = cluster;
    }

    public Txn txn(TableInfo table) {
        return new Txn(table);
    }

    /** Row changes of one table that commit together. */
    public final class Txn {
        private final TableCodec codec;
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

        public Txn insert(Object... row) {
            for (KeyValue kv : codec.encodeRecord(physicalId(row), row, codec.handleOf(row))) {
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

    /** Every key-value pair in {@code [start, end)} at {@code ts}. */
    public List<Kvrpcpb.KvPair> scan(byte[] start, byte[] end, long ts) {
        return cluster.percolator()
                .scan(
                        start,
                        end,
                        Integer.MAX_VALUE,
                        false,
                        false,
                        new Percolator.ReadContext(ts, Set.of(), false));
    }
}
