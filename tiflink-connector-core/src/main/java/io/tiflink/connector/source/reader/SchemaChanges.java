package io.tiflink.connector.source.reader;

import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.meta.FieldType;
import io.tiflink.tidb.meta.TableInfo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Decides whether the stream can follow a new schema of a table (TiDB rewrote its TableInfo): only
 * changes that cannot alter how existing rows decode are followed — added columns, index and
 * comment changes. Anything else is refused, naming the table and the change, so that no row is
 * ever decoded with a schema it was not written in.
 */
final class SchemaChanges {
    private SchemaChanges() {}

    /** The differences that cannot be followed; empty if the new schema is safe to decode with. */
    static List<String> unsafe(TableInfo before, TableInfo after) {
        List<String> problems = new ArrayList<>();
        if (after.id != before.id) {
            problems.add("the table id changed from " + before.id + " to " + after.id);
        }
        if (!before.name.l.equals(after.name.l)) {
            problems.add("the table was renamed to '" + after.name() + "'");
        }
        if (before.pkIsHandle != after.pkIsHandle
                || before.isCommonHandle != after.isCommonHandle
                || !before.primaryKeyColumns().equals(after.primaryKeyColumns())) {
            problems.add("the primary key changed");
        }
        if (!before.physicalIds().equals(after.physicalIds())) {
            problems.add(
                    "the partitions changed from "
                            + before.physicalIds()
                            + " to "
                            + after.physicalIds());
        }
        Map<Long, ColumnInfo> newColumns = new HashMap<>();
        for (ColumnInfo c : after.columns) {
            newColumns.put(c.id, c);
        }
        for (ColumnInfo c : before.columns) {
            ColumnInfo n = newColumns.get(c.id);
            if (n == null) {
                problems.add("column '" + c.name() + "' was dropped");
            } else if (!n.name.l.equals(c.name.l)) {
                problems.add("column '" + c.name() + "' was renamed to '" + n.name() + "'");
            } else if (!sameType(c.type, n.type)) {
                problems.add(
                        "column '"
                                + c.name()
                                + "' changed type from "
                                + c.type.sqlName()
                                + " to "
                                + n.type.sqlName());
            }
        }
        return problems;
    }

    private static boolean sameType(FieldType a, FieldType b) {
        return a.tp == b.tp
                && a.flag == b.flag
                && a.flen == b.flen
                && a.decimal == b.decimal
                && Objects.equals(a.charset, b.charset)
                && Objects.equals(a.collate, b.collate)
                && Objects.equals(a.elems, b.elems);
    }
}
