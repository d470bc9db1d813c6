package io.tiflink.connector.consistency;

import org.apache.flink.annotation.PublicEvolving;

/**
 * What a TiKV source promises about how its changes line up with the job's checkpoints: the values
 * of option {@code consistency}, which Flink parses by their {@link #toString()}
 * (case-insensitively).
 */
@PublicEvolving
public enum Consistency {
    /** Each source emits changes as soon as its own resolved ts allows. */
    NONE("none"),
    /**
     * Every such source of the job emits, before each checkpoint barrier, exactly the changes
     * committed up to one TSO they all agree on: the state at a checkpoint is the job's query over
     * the tables as of that TSO.
     */
    SNAPSHOT("snapshot");

    private final String value;

    Consistency(String value) {
        this.value = value;
    }

    @Override
    public String toString() {
        return value;
    }
}
