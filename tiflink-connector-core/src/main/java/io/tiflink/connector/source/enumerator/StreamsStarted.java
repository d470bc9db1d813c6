package io.tiflink.connector.source.enumerator;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.connector.source.SourceEvent;

/**
 * Enumerator to reader, with consistent snapshots: the streams were handed out; a reader holding
 * none says so downstream (an idle watermark), so that the job's cuts do not wait for it.
 */
@Internal
public final class StreamsStarted implements SourceEvent {
    private static final long serialVersionUID = 1L;
}
