package io.tiflink.connector.sink.writer;

import io.tiflink.connector.sink.TiKVSerializationSchema;
import io.tiflink.connector.sink.TiKVSinkConfig;
import io.tiflink.connector.sink.TiKVSinkOptions;
import io.tiflink.connector.sink.committer.TiKVCommittable;
import io.tiflink.tidb.write.RowRejectedException;
import io.tiflink.tikv.txn.WriteConflictException;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.operators.ProcessingTimeService;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.util.FlinkRuntimeException;

import java.io.IOException;
import java.util.Collection;
import java.util.Collections;

/**
 * The at-least-once writer: each batch (a full buffer, an old one, or what is buffered at a
 * checkpoint) is a transaction of its own, committed at once and retried on write conflicts. A
 * restore replays the records since the last checkpoint, and their writes again.
 */
@Internal
public final class AtLeastOnceWriter<IN> extends TiKVWriter<IN> {
    private final ProcessingTimeService timers;

    AtLeastOnceWriter(
            TiKVSinkConfig config,
            TiKVSerializationSchema<IN> serializer,
            WriterInitContext context,
            Collection<TiKVWriterState> restored)
            throws IOException {
        super(config, serializer, context);
        // At least once: a state's epoch parts (restored after a switch of delivery guarantee) are
        // written again, though they may have committed, then its unwritten changes.
        for (TiKVWriterState s : restored) {
            for (EpochPart p : s.parts()) {
                buffer.addAll(decode(p.changes()));
            }
            buffer.addAll(decode(s.changes()));
        }
        this.timers = context.getProcessingTimeService();
        if (!config.flushInterval().isZero()) {
            scheduleFlushCheck();
        }
    }

    @Override
    public void flush(boolean endOfInput) throws InterruptedException {
        writeBuffer(true);
    }

    @Override
    protected void writeBuffer(boolean mustWrite) {
        if (buffer.isEmpty()) {
            return;
        }
        try {
            writer.writeAlone(buffer.writes());
        } catch (RowRejectedException e) {
            throw rejected(e);
        } catch (WriteConflictException e) {
            metrics.failed(buffer.writes().size());
            throw new FlinkRuntimeException(
                    "TiKV sink into "
                            + table.name()
                            + ": "
                            + e.getMessage()
                            + " ('"
                            + TiKVSinkOptions.MAX_RETRIES.key()
                            + "' = "
                            + config.maxRetries()
                            + ")",
                    e);
        }
        buffer.clear();
    }

    @Override
    public Collection<TiKVCommittable> prepareCommit() {
        return Collections.emptyList(); // committed as written
    }

    /** Writes a buffer older than {@code sink.buffer-flush.interval}. */
    private void scheduleFlushCheck() {
        long interval = config.flushInterval().toMillis();
        timers.registerTimer(
                timers.getCurrentProcessingTime() + interval,
                time -> {
                    if (!buffer.isEmpty()
                            && System.currentTimeMillis() - buffer.oldestMillis() >= interval) {
                        writeBuffer(true);
                    }
                    scheduleFlushCheck();
                });
    }
}
