package io.tiflink.connector.sink;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.connector.sink2.Sink;

/** Flink 2's {@link Sink} needs nothing besides {@code createWriter(WriterInitContext)}. */
@Internal
public abstract class SinkCompat<IN> implements Sink<IN> {
    private static final long serialVersionUID = 1L;
}
