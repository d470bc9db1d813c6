package io.tiflink.connector;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.txn.Percolator;
import io.tiflink.tidb.codec.Codec;
import io.tiflink.tidb.meta.MetaReader;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.schema.SchemaFile;
import io.tiflink.tidb.table.Handle;
import io.tiflink.tidb.table.KeyValue;
import io.tiflink.tidb.table.TableCodec;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * TiDB tables in a minicluster for tests: created from TiDB DDL (a schema file), and written row by
 * row as TiDB would (the record and its index entries, in one Percolator transaction).
 */
public final class TiDBTables implements AutoCloseable {
    private final MiniTiKVCluster cluster;
    private final TiSession session;

    public TiDBTables(MiniTiKVCluster cluster) {
        this.cluster = cluster;
        this.session = TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()));
    }

    /** Runs {@code CREATE DATABASE} / {@code USE} / {@code CREATE TABLE} statements. */
    public void ddl(String sql) {
        SchemaFile.apply(SchemaFile.parse("test", sql), session);
    }

    public TableInfo table(String database, String table) {
        TableInfo t = MetaReader.latest(session).table(database, table);
        assertThat(t).as("table %s.%s", database, table).isNotNull();
        return t;
    }

    public TiSession session() {
        return session;
    }

    /** One transaction of row changes to one table; returns its commit ts. */
    public Txn txn(String database, String table) {
        return new Txn(table(database, table));
    }

    /** Row changes that commit together. */
    public final class Txn {
        private final TableCodec codec;
        private final List<Kvrpcpb.Mutation> mutations = new ArrayList<>();

        private Txn(TableInfo table) {
            this.codec = new TableCodec(table);
        }

        public Txn insert(Object... row) {
            for (KeyValue kv : codec.encodeRecord(codec.table().id, row, codec.handleOf(row))) {
                put(kv.key(), kv.value());
            }
            return this;
        }

        /** Replaces {@code before} by {@code after} (same primary key). */
        public Txn update(Object[] before, Object[] after) {
            delete(before);
            return insert(after);
        }

        public Txn delete(Object... row) {
            Handle h = codec.handleOf(row);
            for (byte[] key : codec.recordKeys(codec.table().id, row, h)) {
                mutations.removeIf(m -> m.getKey().equals(ByteString.copyFrom(key)));
                mutations.add(
                        Kvrpcpb.Mutation.newBuilder()
                                .setOp(Kvrpcpb.Op.Del)
                                .setKey(ByteString.copyFrom(key))
                                .build());
            }
            return this;
        }

        private void put(byte[] key, byte[] value) {
            ByteString k = ByteString.copyFrom(key);
            mutations.removeIf(m -> m.getKey().equals(k));
            mutations.add(
                    Kvrpcpb.Mutation.newBuilder()
                            .setOp(Kvrpcpb.Op.Put)
                            .setKey(k)
                            .setValue(ByteString.copyFrom(value))
                            .build());
        }

        /** Prewrites and commits; returns the commit ts. */
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
            assertThat(p.getErrorsList()).as("prewrite errors").isEmpty();
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
            assertThat(c.hasError()).as("commit error %s", c.getError()).isFalse();
            return commitTs;
        }
    }

    /** The table's rows at {@code ts}, decoded, read from the engine. */
    public List<Object[]> rows(String database, String table, long ts) {
        TableCodec codec = new TableCodec(table(database, table));
        List<Object[]> rows = new ArrayList<>();
        for (long physicalId : codec.table().physicalIds()) {
            byte[] prefix = TableCodec.recordPrefix(physicalId);
            byte[] end = prefix.clone();
            end[end.length - 1]++;
            for (Kvrpcpb.KvPair p : scan(prefix, end, ts)) {
                rows.add(codec.decode(p.getKey().toByteArray(), p.getValue().toByteArray()));
            }
        }
        return rows;
    }

    /** Every index entry of the table at {@code ts}: hex key → hex value. */
    public Map<String, String> indexEntries(String database, String table, long ts) {
        TableInfo t = table(database, table);
        Map<String, String> out = new TreeMap<>();
        byte[] prefix = TableCodec.indexPrefix(t.id, 0);
        byte[] start = Arrays.copyOf(prefix, 11); // t{id}_i
        byte[] end = start.clone();
        end[end.length - 1]++;
        for (Kvrpcpb.KvPair p : scan(start, end, ts)) {
            out.put(Codec.hex(p.getKey().toByteArray()), Codec.hex(p.getValue().toByteArray()));
        }
        return out;
    }

    /** The index entries the table's rows at {@code ts} call for, as TiDB writes them. */
    public Map<String, String> expectedIndexEntries(String database, String table, long ts) {
        TableCodec codec = new TableCodec(table(database, table));
        Map<String, String> out = new TreeMap<>();
        byte[] prefix = TableCodec.recordPrefix(codec.table().id);
        byte[] end = prefix.clone();
        end[end.length - 1]++;
        for (Kvrpcpb.KvPair p : scan(prefix, end, ts)) {
            byte[] key = p.getKey().toByteArray();
            Object[] row = codec.decode(key, p.getValue().toByteArray());
            List<KeyValue> kvs = codec.encodeRecord(codec.table().id, row, codec.handle(key));
            for (KeyValue kv : kvs.subList(1, kvs.size())) {
                out.put(Codec.hex(kv.key()), Codec.hex(kv.value()));
            }
        }
        return out;
    }

    private List<Kvrpcpb.KvPair> scan(byte[] start, byte[] end, long ts) {
        return cluster.percolator()
                .scan(
                        start,
                        end,
                        Integer.MAX_VALUE,
                        false,
                        false,
                        new Percolator.ReadContext(ts, Set.of(), false));
    }

    @Override
    public void close() throws Exception {
        session.close();
    }
}
