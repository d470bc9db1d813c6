package io.tiflink.connector.testutils;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.tidb.MiniClusterRows;
import io.tiflink.tidb.meta.MetaReader;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.schema.SchemaFile;
import io.tiflink.tidb.table.KeyValue;
import io.tiflink.tidb.table.TableCodec;
import io.tiflink.tikv.Keys;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;
import org.tikv.kvproto.Kvrpcpb;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/** TiDB tables in a minicluster for tests: created from TiDB DDL, written and read by row. */
public final class TiDBTables implements AutoCloseable {
    private final TiSession session;
    private final MiniClusterRows rows;

    public TiDBTables(MiniTiKVCluster cluster) {
        this(cluster, TiConfiguration.createDefault(cluster.pdAddress()));
    }

    /** Over a session configured by {@code conf} (a cluster serving TLS needs the client's). */
    public TiDBTables(MiniTiKVCluster cluster, TiConfiguration conf) {
        this.session = TiSession.create(conf);
        this.rows = new MiniClusterRows(cluster);
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

    /** Row changes of one table that commit together. */
    public MiniClusterRows.Txn txn(String database, String table) {
        return txn(table(database, table));
    }

    /**
     * Row changes of a table already looked up: written through the engine alone, so that they do
     * not depend on the client surviving injected region chaos.
     */
    public MiniClusterRows.Txn txn(TableInfo table) {
        return rows.txn(table);
    }

    /** The table's rows at {@code ts}. */
    public List<Object[]> rows(String database, String table, long ts) {
        return rows(table(database, table), ts);
    }

    /** The rows at {@code ts} of a table already looked up, read through the engine alone. */
    public List<Object[]> rows(TableInfo table, long ts) {
        return rows.rows(table, ts);
    }

    /** Every index entry of the table at {@code ts}: hex key → hex value. */
    public Map<String, String> indexEntries(String database, String table, long ts) {
        TableInfo t = table(database, table);
        Map<String, String> out = new TreeMap<>();
        byte[] start = Arrays.copyOf(TableCodec.indexPrefix(t.id, 0), 11); // t{id}_i
        byte[] end = start.clone();
        end[end.length - 1]++;
        for (Kvrpcpb.KvPair p : rows.scan(start, end, ts)) {
            out.put(Keys.hex(p.getKey().toByteArray()), Keys.hex(p.getValue().toByteArray()));
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
        for (Kvrpcpb.KvPair p : rows.scan(prefix, end, ts)) {
            byte[] key = p.getKey().toByteArray();
            Object[] row = codec.decode(key, p.getValue().toByteArray());
            List<KeyValue> kvs = codec.encodeRecord(codec.table().id, row, codec.handle(key));
            for (KeyValue kv : kvs.subList(1, kvs.size())) {
                out.put(Keys.hex(kv.key()), Keys.hex(kv.value()));
            }
        }
        return out;
    }

    @Override
    public void close() throws Exception {
        session.close();
    }
}
