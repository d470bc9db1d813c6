package io.tiflink.connector.source.split;

import io.tiflink.tidb.meta.MetaJson;
import io.tiflink.tidb.meta.MetaKeys;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.table.TableCodec;

import org.apache.flink.annotation.Internal;

import java.util.Arrays;
import java.util.Objects;

/**
 * A TiDB table a source reads, with its schema (TiDB's TableInfo JSON) as of a split's position.
 * The JSON travels in split state, so a restored reader decodes with the schema it had.
 */
@Internal
public final class CapturedTable {
    private final String database;
    private final long databaseId;
    private final byte[] tableJson;
    private volatile TableInfo info;
    private volatile TableCodec codec;

    public CapturedTable(String database, long databaseId, TableInfo info) {
        this(database, databaseId, MetaJson.bytes(info));
    }

    CapturedTable(String database, long databaseId, byte[] tableJson) {
        this.database = database;
        this.databaseId = databaseId;
        this.tableJson = tableJson;
    }

    public String database() {
        return database;
    }

    public long databaseId() {
        return databaseId;
    }

    public String name() {
        return info().name();
    }

    /** {@code database.table}, for messages. */
    public String qualifiedName() {
        return database + "." + name();
    }

    public TableInfo info() {
        TableInfo i = info;
        if (i == null) {
            i = MetaJson.read(tableJson, TableInfo.class);
            info = i;
        }
        return i;
    }

    public TableCodec codec() {
        TableCodec c = codec;
        if (c == null) {
            c = new TableCodec(info());
            codec = c;
        }
        return c;
    }

    /** The meta key TiDB keeps this table's TableInfo under. */
    public byte[] metaKey() {
        return MetaKeys.hashField(MetaKeys.dbKey(databaseId), MetaKeys.tableField(info().id));
    }

    /** The same table with a new schema. */
    public CapturedTable withInfo(TableInfo newInfo) {
        return new CapturedTable(database, databaseId, newInfo);
    }

    byte[] tableJson() {
        return tableJson;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CapturedTable
                && ((CapturedTable) o).databaseId == databaseId
                && Arrays.equals(((CapturedTable) o).tableJson, tableJson);
    }

    @Override
    public int hashCode() {
        return Objects.hash(databaseId, info().id);
    }

    @Override
    public String toString() {
        return qualifiedName() + " (id " + info().id + ")";
    }
}
