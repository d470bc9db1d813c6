package io.tiflink.connector.source.enumerator;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.connector.source.SourceEvent;

import java.util.Map;

/**
 * A reader tells the enumerator the resolved ts its stream splits had in a completed checkpoint: a
 * restore starts there or later, so GC may collect below it.
 */
@Internal
public final class StreamProgress implements SourceEvent {
    private static final long serialVersionUID = 1L;

    private final Map<String, Long> resolvedTsBySplit;

    public StreamProgress(Map<String, Long> resolvedTsBySplit) {
        this.resolvedTsBySplit = resolvedTsBySplit;
    }

    public Map<String, Long> resolvedTsBySplit() {
        return resolvedTsBySplit;
    }
}
