package io.tiflink.tidb.table;

import io.tiflink.tidb.meta.CIStr;
import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.meta.FieldType;
import io.tiflink.tidb.meta.IndexInfo;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.types.MysqlType;

import java.util.List;

/** Builds TableInfos for codec tests without going through DDL. */
public final class TestTables {
    private final TableInfo t = new TableInfo();

    private TestTables(long id, String name) {
        t.id = id;
        t.name = CIStr.of(name);
    }

    public static TestTables table(long id, String name) {
        return new TestTables(id, name);
    }

    public TestTables column(long id, String name, int tp) {
        return column(
                id, name, tp, 0, MysqlType.UNSPECIFIED_LENGTH, MysqlType.UNSPECIFIED_LENGTH, null);
    }

    public TestTables column(
            long id, String name, int tp, int flag, int flen, int decimal, String collate) {
        ColumnInfo c = new ColumnInfo();
        c.id = id;
        c.name = CIStr.of(name);
        c.offset = t.columns.size();
        FieldType ft = new FieldType(tp);
        ft.flag = flag;
        ft.flen = flen;
        ft.decimal = decimal;
        if (collate != null) {
            ft.collate = collate;
            ft.charset = collate.equals("binary") ? "binary" : "utf8mb4";
        }
        c.type = ft;
        t.columns.add(c);
        t.maxColumnId = Math.max(t.maxColumnId, id);
        return this;
    }

    public TestTables elems(String... elems) {
        t.columns.get(t.columns.size() - 1).type.elems = List.of(elems);
        return this;
    }

    public TestTables originDefault(Object v) {
        t.columns.get(t.columns.size() - 1).originDefault = v;
        return this;
    }

    /** The last column is the integer primary key stored as the handle. */
    public TestTables pkIsHandle() {
        t.pkIsHandle = true;
        t.columns.get(t.columns.size() - 1).type.flag |=
                MysqlType.PRI_KEY_FLAG | MysqlType.NOT_NULL_FLAG;
        return this;
    }

    public TestTables index(long id, String name, boolean unique, String... cols) {
        return index(id, name, unique, false, cols);
    }

    public TestTables index(long id, String name, boolean unique, boolean primary, String... cols) {
        IndexInfo idx = new IndexInfo();
        idx.id = id;
        idx.name = CIStr.of(name);
        idx.unique = unique || primary;
        idx.primary = primary;
        for (String c : cols) {
            String[] parts = c.split("\\(");
            ColumnInfo col = t.column(parts[0]);
            int length = parts.length > 1 ? Integer.parseInt(parts[1].replace(")", "")) : -1;
            idx.columns.add(new IndexInfo.IndexColumn(col.name, col.offset, length));
            if (primary) {
                col.type.flag |= MysqlType.PRI_KEY_FLAG | MysqlType.NOT_NULL_FLAG;
            }
        }
        t.indices.add(idx);
        t.maxIndexId = Math.max(t.maxIndexId, id);
        return this;
    }

    /** Makes the primary index clustered (a common handle, version 1). */
    public TestTables clustered() {
        t.isCommonHandle = true;
        t.commonHandleVersion = 1;
        return this;
    }

    public TableInfo build() {
        return t;
    }
}
