package io.tiflink.connector.source;

import org.apache.flink.annotation.PublicEvolving;

/** Where a TiKV source starts. */
@PublicEvolving
public enum StartupMode {
    /** A consistent snapshot of the tables, then their changes from the snapshot's ts. */
    INITIAL("initial"),
    /** Changes from now on, no snapshot. */
    LATEST_OFFSET("latest-offset"),
    /** Changes committed after a given time, no snapshot. */
    TIMESTAMP("timestamp"),
    /** Only a consistent snapshot: a bounded source. */
    SNAPSHOT("snapshot");

    private final String value;

    StartupMode(String value) {
        this.value = value;
    }

    /** The option value, e.g. {@code latest-offset}. */
    public String value() {
        return value;
    }

    public static StartupMode of(String value) {
        for (StartupMode m : values()) {
            if (m.value.equalsIgnoreCase(value.trim())) {
                return m;
            }
        }
        throw new IllegalArgumentException(
                "option 'scan.startup.mode' has '"
                        + value
                        + "'; expected initial, latest-offset, timestamp or snapshot");
    }
}
