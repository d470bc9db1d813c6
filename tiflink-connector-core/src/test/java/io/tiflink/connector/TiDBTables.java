package io.tiflink.connector;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.tidb.meta.MetaReader;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.schema.SchemaFile;
import io.tiflink.tidb.standalone.MiniClusterRows;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** TiDB tables in a minicluster for tests: created from TiDB DDL, written and read by row. */
public final class TiDBTables implements AutoCloseable {
    private final TiSession session;
    private final MiniClusterRows rows;

    public TiDBTables(MiniTiKVCluster cluster) {
        this.session = TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()));
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
        return rows.txn(table(database, table));
    }

    /** The table's rows at {@code ts}. */
    public List<Object[]> rows(String database, String table, long ts) {
        return rows.rows(table(database, table), ts);
    }

    @Override
    public void close() throws Exception {
        session.close();
    }
}
