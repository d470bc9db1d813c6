package io.tiflink.connector.source.split;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.connector.source.SourceSplit;

/** A unit of a TiKV source's work: a snapshot key range, or the change stream of a table. */
@Internal
public abstract class TiKVSplit implements SourceSplit {
    private final String splitId;

    TiKVSplit(String splitId) {
        this.splitId = splitId;
    }

    @Override
    public String splitId() {
        return splitId;
    }

    public abstract boolean isSnapshot();

    public SnapshotSplit asSnapshot() {
        return (SnapshotSplit) this;
    }

    public StreamSplit asStream() {
        return (StreamSplit) this;
    }
}
