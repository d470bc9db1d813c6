package io.tiflink.cdc.client;

/**
 * What a {@link ChangeStream} delivers: a committed {@link KeyChange}, or a resolved timestamp R
 * which promises that every change with commit_ts ≤ R has been delivered before it.
 */
public final class ChangeEvent {
    private final KeyChange change;
    private final long resolvedTs;

    private ChangeEvent(KeyChange change, long resolvedTs) {
        this.change = change;
        this.resolvedTs = resolvedTs;
    }

    public static ChangeEvent change(KeyChange change) {
        return new ChangeEvent(change, 0);
    }

    public static ChangeEvent resolved(long ts) {
        return new ChangeEvent(null, ts);
    }

    public boolean isResolved() {
        return change == null;
    }

    /** The change; null for a resolved-ts event. */
    public KeyChange change() {
        return change;
    }

    /** The resolved ts; 0 for a change event. */
    public long resolvedTs() {
        return resolvedTs;
    }

    @Override
    public String toString() {
        return change == null ? "Resolved(" + resolvedTs + ")" : change.toString();
    }
}
