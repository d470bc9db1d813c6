package io.tiflink.connector.source.enumerator;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.connector.source.SourceEvent;

import java.util.List;

/** A reader tells the enumerator that it emitted every row of these snapshot splits. */
@Internal
public final class SnapshotSplitsFinished implements SourceEvent {
    private static final long serialVersionUID = 1L;

    private final List<String> splitIds;

    public SnapshotSplitsFinished(List<String> splitIds) {
        this.splitIds = splitIds;
    }

    public List<String> splitIds() {
        return splitIds;
    }
}
