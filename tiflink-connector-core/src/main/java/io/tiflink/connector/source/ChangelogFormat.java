package io.tiflink.connector.source;

import org.apache.flink.annotation.PublicEvolving;

/**
 * The row kinds a TiKV SQL source emits for the changes: the values of option {@code
 * changelog-mode}, which Flink parses by their {@link #toString()} (case-insensitively).
 */
@PublicEvolving
public enum ChangelogFormat {
    /** +I, -U, +U, -D: updates carry the row before, from TiKV's old values. */
    ALL("all"),
    /** +I, +U, -D: updates without the row before, keyed by the primary key (which is required). */
    UPSERT("upsert");

    private final String value;

    ChangelogFormat(String value) {
        this.value = value;
    }

    /** The option value, e.g. {@code upsert}. */
    @Override
    public String toString() {
        return value;
    }
}
