package io.tiflink.connector.sink;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;

/**
 * Flink 1.20's {@link Sink} still declares the deprecated {@code createWriter(InitContext)}, a type
 * Flink 2 removed; the runtime calls {@code createWriter(WriterInitContext)} only.
 */
@Internal
public abstract class SinkCompat<IN> implements Sink<IN> {
    private static final long serialVersionUID = 1L;

    @Override
    @SuppressWarnings("deprecation")
    public final SinkWriter<IN> createWriter(Sink.InitContext context) {
        throw new UnsupportedOperationException(
                "Flink calls createWriter(WriterInitContext) on Sink V2 sinks");
    }
}
