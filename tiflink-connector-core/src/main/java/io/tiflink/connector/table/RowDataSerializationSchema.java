package io.tiflink.connector.table;

import io.tiflink.connector.sink.TiKVSerializationSchema;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.write.RowWrite;

import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.RowType;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Flink SQL's {@link RowData} changelog as TiDB row changes: +I and +U upsert (or insert, for a
 * table without a primary key), -D deletes by primary key, -U is dropped (an upsert sink gets +U
 * alone). TiDB columns the Flink table lacks, or the INSERT's column list leaves out, keep their
 * values in an update and get their defaults in a new row.
 */
final class RowDataSerializationSchema implements TiKVSerializationSchema<RowData> {
    private static final long serialVersionUID = 1L;

    private final RowType rowType;
    private final List<String> primaryKey;

    /** The fields an INSERT's column list names; null: all. */
    private final int[] targetFields;

    private transient RowConverter converter;
    private transient boolean[] covered;

    /**
     * @param primaryKey the Flink table's primary key columns; empty for an append-only table
     */
    public RowDataSerializationSchema(RowType rowType, List<String> primaryKey) {
        this(rowType, primaryKey, null);
    }

    /**
     * @param targetFields the row type's fields an INSERT's column list names (the others are not
     *     written: the planner fills them with NULL); null for all
     */
    public RowDataSerializationSchema(
            RowType rowType, List<String> primaryKey, int[] targetFields) {
        this.rowType = rowType;
        this.primaryKey = primaryKey;
        this.targetFields = targetFields;
    }

    @Override
    public void open(String qualifiedTable, TableInfo table) {
        converter = new RowConverter(qualifiedTable, table, rowType);
        boolean[] c =
                targetFields == null
                        ? converter.coveredColumns()
                        : converter.coveredColumns(targetFields);
        boolean all = true;
        for (boolean b : c) {
            all &= b;
        }
        covered = all ? null : c;
        if (!primaryKey.isEmpty() && !lower(primaryKey).equals(lower(table.primaryKeyColumns()))) {
            throw new IllegalArgumentException(
                    "the Flink table's PRIMARY KEY "
                            + primaryKey
                            + " differs from TiDB table "
                            + qualifiedTable
                            + "'s "
                            + (table.primaryKeyColumns().isEmpty()
                                    ? "(it has none)"
                                    : table.primaryKeyColumns().toString())
                            + "; rows are upserted by TiDB's primary key");
        }
    }

    private static Set<String> lower(List<String> names) {
        Set<String> out = new HashSet<>();
        names.forEach(n -> out.add(n.toLowerCase(Locale.ROOT)));
        return out;
    }

    @Override
    public RowWrite serialize(RowData row) {
        RowWrite.Kind kind;
        switch (row.getRowKind()) {
            case INSERT:
            case UPDATE_AFTER:
                kind = primaryKey.isEmpty() ? RowWrite.Kind.INSERT : RowWrite.Kind.UPSERT;
                break;
            case DELETE:
                kind = RowWrite.Kind.DELETE;
                break;
            default:
                // -U: the +U that follows replaces it, if a filter did not drop it (Flink's
                // planner sends -U to upsert sinks when a filter could turn an update into a
                // retraction).
                return primaryKey.isEmpty()
                        ? null
                        : RowWrite.retraction(converter.toTiDB(row), covered);
        }
        return RowWrite.of(kind, converter.toTiDB(row), covered);
    }
}
