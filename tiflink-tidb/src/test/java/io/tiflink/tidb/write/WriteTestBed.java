package io.tiflink.tidb.write;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.tidb.meta.MetaKeys;
import io.tiflink.tidb.meta.MetaReader;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.schema.SchemaFile;
import io.tiflink.tidb.table.Handle;
import io.tiflink.tidb.table.KeyValue;
import io.tiflink.tidb.table.TableCodec;
import io.tiflink.tikv.ByteKey;
import io.tiflink.tikv.Keys;
import io.tiflink.tikv.txn.TxnClient;

import org.tikv.common.Snapshot;
import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;
import org.tikv.common.meta.TiTimestamp;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The write package's TiKV test bed: TiDB tables created from DDL in a minicluster, written through
 * {@link TableWriter}s, and read back as stored (rows, index entries, the id allocator's key) with
 * tikv-client-java's snapshot scans and {@link TxnClient#get}, as a TiDB reader would read them.
 */
public final class WriteTestBed implements AutoCloseable {
    static final Duration LOCK_TTL = Duration.ofSeconds(20);

    private static final long LOGICAL = (1 << 18) - 1;

    private final TiSession session;
    private final TxnClient txn;

    public WriteTestBed(MiniTiKVCluster cluster) {
        this.session = TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()));
        this.txn = new TxnClient(session);
    }

    public TxnClient txn() {
        return txn;
    }

    public TiSession session() {
        return session;
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

    /** A writer of the table that retries conflicts three times. */
    public TableWriter writer(String database, String table) {
        return TableWriter.open(txn, database, table, LOCK_TTL, 3);
    }

    /** The value of {@code key} at {@code ts}, or null, read as TiDB reads. */
    byte[] get(byte[] key, long ts) {
        return txn.get(ts, List.of(key)).get(new ByteKey(key));
    }

    /**
     * The table's rows now, in handle order, each as {@link Arrays#deepToString}; after checking
     * that its index entries are exactly those its rows call for.
     */
    public List<String> rows(TableInfo table) {
        assertNoLocks(table);
        long ts = txn.timestamp();
        assertThat(indexEntries(table, ts))
                .as("index entries of %s", table.name())
                .isEqualTo(expectedIndexEntries(table, ts));
        List<String> out = new ArrayList<>();
        for (Object[] row : decodedRows(table, ts)) {
            out.add(Arrays.deepToString(row));
        }
        return out;
    }

    /** The rows now of the table {@code writer} writes: see {@link #rows(TableInfo)}. */
    List<String> rows(TableWriter writer) {
        return rows(writer.table().info());
    }

    /** The table's rows at {@code ts}, decoded, in handle order. */
    List<Object[]> decodedRows(TableInfo table, long ts) {
        TableCodec codec = new TableCodec(table);
        List<Object[]> rows = new ArrayList<>();
        for (Kvrpcpb.KvPair p : records(table, ts)) {
            rows.add(codec.decode(p.getKey().toByteArray(), p.getValue().toByteArray()));
        }
        return rows;
    }

    /**
     * Every index entry of the table (of each partition) stored at {@code ts}: hex key → hex value.
     */
    public Map<String, String> indexEntries(TableInfo table, long ts) {
        Map<String, String> out = new TreeMap<>();
        for (long physicalId : table.physicalIds()) {
            byte[] start = Arrays.copyOf(TableCodec.indexPrefix(physicalId, 0), 11); // t{id}_i
            for (Kvrpcpb.KvPair p : scanPrefix(start, ts)) {
                out.put(Keys.hex(p.getKey().toByteArray()), Keys.hex(p.getValue().toByteArray()));
            }
        }
        return out;
    }

    /**
     * The index entries that the table's rows stored at {@code ts} call for, as TiDB writes them.
     */
    Map<String, String> expectedIndexEntries(TableInfo table, long ts) {
        TableCodec codec = new TableCodec(table);
        List<Object[]> rows = new ArrayList<>();
        List<byte[]> keys = new ArrayList<>();
        for (Kvrpcpb.KvPair p : records(table, ts)) {
            keys.add(p.getKey().toByteArray());
            rows.add(codec.decode(p.getKey().toByteArray(), p.getValue().toByteArray()));
        }
        Map<String, String> out = new TreeMap<>();
        for (int i = 0; i < rows.size(); i++) {
            out.putAll(
                    indexEntriesOf(
                            codec,
                            TableCodec.physicalId(keys.get(i)),
                            rows.get(i),
                            codec.handle(keys.get(i))));
        }
        return out;
    }

    /** The index entries TableCodec computes for one row: hex key → hex value. */
    static Map<String, String> indexEntriesOf(TableCodec codec, Object[] row, Handle handle) {
        return indexEntriesOf(codec, codec.table().id, row, handle);
    }

    /** The index entries TableCodec computes for one row of a partition: hex key → hex value. */
    static Map<String, String> indexEntriesOf(
            TableCodec codec, long physicalId, Object[] row, Handle handle) {
        List<KeyValue> kvs = codec.encodeRecord(physicalId, row, handle);
        Map<String, String> out = new TreeMap<>();
        for (KeyValue kv : kvs.subList(1, kvs.size())) {
            out.put(Keys.hex(kv.key()), Keys.hex(kv.value()));
        }
        return out;
    }

    /**
     * The table's records at {@code ts}, partition by partition in handle order (locks resolved as
     * a reader would).
     */
    List<Kvrpcpb.KvPair> records(TableInfo table, long ts) {
        List<Kvrpcpb.KvPair> out = new ArrayList<>();
        for (long physicalId : table.physicalIds()) {
            out.addAll(scanPrefix(TableCodec.recordPrefix(physicalId), ts));
        }
        return out;
    }

    /** The pairs whose keys start with {@code prefix}, at {@code ts}. */
    private List<Kvrpcpb.KvPair> scanPrefix(byte[] prefix, long ts) {
        Snapshot snapshot =
                new Snapshot(
                        new TiTimestamp(TiTimestamp.extractPhysical(ts), ts & LOGICAL), session);
        List<Kvrpcpb.KvPair> pairs = new ArrayList<>();
        snapshot.scanPrefix(ByteString.copyFrom(prefix)).forEachRemaining(pairs::add);
        return pairs;
    }

    /** Fails if a lock of any transaction is left on the table's keys. */
    private void assertNoLocks(TableInfo table) {
        for (long physicalId : table.physicalIds()) {
            byte[] start = Arrays.copyOf(TableCodec.recordPrefix(physicalId), 9); // t{id}
            byte[] end = Arrays.copyOf(TableCodec.recordPrefix(physicalId + 1), 9);
            assertThat(txn.scanLocks(start, end, Long.MAX_VALUE))
                    .as("locks left on the keys of %s", table.name())
                    .isEmpty();
        }
    }

    /** The locks of transaction {@code startTs} on the table's keys. */
    List<Kvrpcpb.LockInfo> locks(TargetTable table, long startTs) {
        List<Kvrpcpb.LockInfo> out = new ArrayList<>();
        for (Kvrpcpb.LockInfo l : txn.scanLocks(table.keyPrefix(), table.keyEnd(), startTs)) {
            if (l.getLockVersion() == startTs) {
                out.add(l);
            }
        }
        return out;
    }

    static Kvrpcpb.Mutation put(byte[] key, byte[] value) {
        return Kvrpcpb.Mutation.newBuilder()
                .setOp(Kvrpcpb.Op.Put)
                .setKey(ByteString.copyFrom(key))
                .setValue(ByteString.copyFrom(value))
                .build();
    }

    /** The last id TiDB's allocator of the table handed out (its meta key), 0 if none. */
    long allocatorBase(TargetTable table) {
        byte[] key = MetaKeys.hashField(MetaKeys.dbKey(table.dbId()), "TID:" + table.physicalId());
        byte[] value = get(key, txn.timestamp());
        return value == null ? 0 : Long.parseLong(new String(value, StandardCharsets.US_ASCII));
    }

    @Override
    public void close() throws Exception {
        session.close();
    }
}
