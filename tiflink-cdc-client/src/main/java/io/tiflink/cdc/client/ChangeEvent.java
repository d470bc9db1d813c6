package io.tiflink.cdc.client;

/**
 * What a {@link ChangeStream} delivers: a committed {@link RowChange}, or a resolved timestamp R
 * which promises that every change with commit_ts ≤ R has been delivered before it.
 */
public final class ChangeEvent {
    private final RowChange row;
    private final long resolvedTs;

    private ChangeEvent(RowChange row, long resolvedTs) {
        this.row = row;
        this.resolvedTs = resolvedTs;
    }

    public static ChangeEvent row(RowChange row) {
        return new ChangeEvent(row, 0);
    }

    public static ChangeEvent resolved(long ts) {
        return new ChangeEvent(null, ts);
    }

    public boolean isResolved() {
        return row == null;
    }

    /** The change; null for a resolved-ts event. */
    public RowChange row() {
        return row;
    }

    /** The resolved ts; 0 for a row event. */
    public long resolvedTs() {
        return resolvedTs;
    }

    @Override
    public String toString() {
        return row == null ? "Resolved(" + resolvedTs + ")" : row.toString();
    }
}
