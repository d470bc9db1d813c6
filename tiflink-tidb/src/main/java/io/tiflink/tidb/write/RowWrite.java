package io.tiflink.tidb.write;

import io.tiflink.tidb.meta.TableInfo;

import java.io.Serializable;
import java.util.Arrays;

/**
 * One change the sink writes to a TiDB table. Rows are {@code Object[]} indexed like {@link
 * TableInfo#columns}, holding the classes of {@link io.tiflink.tidb.table.ColumnKind} (null for SQL
 * NULL), as the source delivers them.
 */
public final class RowWrite implements Serializable {
    private static final long serialVersionUID = 1L;

    /** What to do with the row. */
    public enum Kind {
        /** Add the row; a row with the same primary or unique key is an error, as in SQL INSERT. */
        INSERT,
        /**
         * Add or replace the row by its primary key; rows with the same value of another unique key
         * are deleted first, as TiDB's REPLACE does.
         */
        UPSERT,
        /** Delete the row with this primary key (the other columns are not needed). */
        DELETE
    }

    private final Kind kind;
    private final Object[] row;
    private final boolean[] given;
    private final boolean retraction;

    private RowWrite(Kind kind, Object[] row, boolean[] given) {
        this(kind, row, given, false);
    }

    private RowWrite(Kind kind, Object[] row, boolean[] given, boolean retraction) {
        this.kind = kind;
        this.row = row;
        this.given = given;
        this.retraction = retraction;
    }

    public static RowWrite insert(Object[] row) {
        return new RowWrite(Kind.INSERT, row, null);
    }

    public static RowWrite upsert(Object[] row) {
        return new RowWrite(Kind.UPSERT, row, null);
    }

    public static RowWrite delete(Object[] row) {
        return new RowWrite(Kind.DELETE, row, null);
    }

    /**
     * A change that sets only the columns marked in {@code given}: an update keeps the other
     * columns' values, a new row gets their defaults.
     */
    public static RowWrite of(Kind kind, Object[] row, boolean[] given) {
        return new RowWrite(kind, row, given);
    }

    /**
     * The row leaves, unless a write of the same key follows at once, which then replaces it: a
     * changelog's update-before ({@code -U}), whose update-after a filter may have dropped.
     */
    public static RowWrite retraction(Object[] row, boolean[] given) {
        return new RowWrite(Kind.DELETE, row, given, true);
    }

    /** Whether this is a {@link #retraction}. */
    public boolean isRetraction() {
        return retraction;
    }

    public Kind kind() {
        return kind;
    }

    public Object[] row() {
        return row;
    }

    /** Whether the change sets the column at {@code offset}. */
    public boolean gives(int offset) {
        return given == null || given[offset];
    }

    /** The given-columns mask, or null when all are given. */
    public boolean[] givenMask() {
        return given;
    }

    @Override
    public String toString() {
        return kind + " " + Arrays.toString(row);
    }
}
