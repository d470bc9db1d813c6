package io.tiflink.connector.source;

import io.tiflink.tidb.meta.TableInfo;

import org.apache.flink.annotation.PublicEvolving;

/**
 * One decoded change of a TiDB row, as the source hands it to a {@link TiKVDeserializationSchema}.
 * Rows are {@code Object[]} indexed like {@link TableInfo#columns}, holding the classes of {@link
 * io.tiflink.tidb.table.ColumnKind} (null for SQL NULL).
 */
@PublicEvolving
public final class TiDBChange {
    /** What happened to the row. */
    public enum Kind {
        /** The row as the snapshot read it. */
        SNAPSHOT,
        INSERT,
        UPDATE,
        DELETE
    }

    private final Kind kind;
    private final String database;
    private final TableInfo table;
    private final Object[] before;
    private final Object[] after;
    private final long commitTs;

    public TiDBChange(
            Kind kind,
            String database,
            TableInfo table,
            Object[] before,
            Object[] after,
            long commitTs) {
        this.kind = kind;
        this.database = database;
        this.table = table;
        this.before = before;
        this.after = after;
        this.commitTs = commitTs;
    }

    public Kind kind() {
        return kind;
    }

    public String database() {
        return database;
    }

    /** The table's schema the row was decoded with. */
    public TableInfo table() {
        return table;
    }

    /** The row before an UPDATE or DELETE; null otherwise. */
    public Object[] before() {
        return before;
    }

    /** The row after a SNAPSHOT, INSERT or UPDATE; null for a DELETE. */
    public Object[] after() {
        return after;
    }

    /** The transaction's commit ts (a TSO); 0 for a snapshot row. */
    public long commitTs() {
        return commitTs;
    }

    /** The commit time in epoch milliseconds (the TSO's physical part); 0 for a snapshot row. */
    public long commitTimeMillis() {
        return commitTs >>> 18;
    }
}
