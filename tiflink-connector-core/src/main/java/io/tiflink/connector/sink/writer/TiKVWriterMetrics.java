package io.tiflink.connector.sink.writer;

import io.tiflink.tidb.write.WriteListener;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.groups.SinkWriterMetricGroup;

/**
 * The metrics of a sink writer, on its operator's group (docs/metrics.md): FLIP-33's {@code
 * numRecordsSend}, {@code numBytesSend} and {@code numRecordsSendErrors} (also under its older name
 * {@code numRecordsOutErrors}), and the write conflicts its transactions met. Updated in the task's
 * thread, once per batch.
 */
final class TiKVWriterMetrics implements WriteListener {
    static final String WRITE_CONFLICTS = "writeConflicts";

    private final Counter records;
    private final Counter bytes;
    private final Counter sendErrors;
    private final Counter conflicts;

    TiKVWriterMetrics(SinkWriterMetricGroup group) {
        this.records = group.getNumRecordsSendCounter();
        this.bytes = group.getNumBytesSendCounter();
        this.sendErrors = group.getNumRecordsSendErrorsCounter();
        this.conflicts = group.counter(WRITE_CONFLICTS);
    }

    @Override
    public void written(int rows, long bytes) {
        this.records.inc(rows);
        this.bytes.inc(bytes);
    }

    @Override
    public void conflicted() {
        conflicts.inc();
    }

    /** {@code rows} row writes could not be written: the writer fails. */
    void failed(int rows) {
        sendErrors.inc(rows);
    }
}
