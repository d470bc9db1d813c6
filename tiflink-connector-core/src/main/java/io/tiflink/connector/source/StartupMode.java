package io.tiflink.connector.source;

import org.apache.flink.annotation.PublicEvolving;

/**
 * Where a TiKV source starts: the values of option {@code scan.startup.mode}, which Flink parses by
 * their {@link #toString()} (case-insensitively).
 */
@PublicEvolving
public enum StartupMode {
    /** A consistent snapshot of the tables, then their changes from the snapshot's ts. */
    INITIAL("initial"),
    /** Changes from now on, no snapshot. */
    LATEST_OFFSET("latest-offset"),
    /** Changes committed at or after a given time, no snapshot. */
    TIMESTAMP("timestamp"),
    /** Only a consistent snapshot: a bounded source. */
    SNAPSHOT("snapshot");

    private final String value;

    StartupMode(String value) {
        this.value = value;
    }

    /** The option value, e.g. {@code latest-offset}. */
    @Override
    public String toString() {
        return value;
    }
}
