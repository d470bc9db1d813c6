package io.tiflink.connector.source.reader;

import io.tiflink.cdc.client.ChangeStream;
import io.tiflink.connector.source.TiDBChange;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.groups.SourceReaderMetricGroup;
import org.apache.flink.runtime.metrics.MetricNames;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.ToLongFunction;

/**
 * The metrics of a source reader, on its operator's group (docs/metrics.md): Flink CDC's counts of
 * changes by kind, FLIP-33's {@code numBytesIn}, {@code currentFetchEventTimeLag} and {@code
 * pendingRecords}, and gauges of its CDC subscriptions. Flink registers {@code numRecordsIn},
 * {@code currentEmitEventTimeLag}, {@code watermarkLag} and {@code sourceIdleTime} itself, from the
 * records and watermarks the emitter hands it.
 *
 * <p>The counters are updated by the emitter in the task's thread; the fetch lag and the streams by
 * the split reader's thread; gauges are read by the metric reporters' threads.
 */
final class TiKVSourceReaderMetrics {
    static final String NUM_SNAPSHOT_RECORDS = "numSnapshotRecords";
    static final String NUM_INSERT_DML_RECORDS = "numInsertDMLRecords";
    static final String NUM_UPDATE_DML_RECORDS = "numUpdateDMLRecords";
    static final String NUM_DELETE_DML_RECORDS = "numDeleteDMLRecords";
    static final String NUM_DDL_RECORDS = "numDDLRecords";
    static final String RESOLVED_TS_LAG = "resolvedTsLag";
    static final String CDC_BUFFERED_BYTES = "cdcBufferedBytes";
    static final String CDC_SPILLED_BYTES = "cdcSpilledBytes";
    static final String REGIONS_SUBSCRIBED = "regionsSubscribed";
    static final String STREAM_RECONNECTS = "streamReconnects";
    static final String STALE_LOCKS_RESOLVED = "staleLocksResolved";

    /** A lag not known yet (Flink's convention). */
    static final long UNDEFINED = -1;

    private final Counter numRecordsIn;
    private final Counter numBytesIn;
    private final Counter snapshotRecords;
    private final Counter insertRecords;
    private final Counter updateRecords;
    private final Counter deleteRecords;
    private final Counter ddlRecords;

    /** Milliseconds from the commit of the last change fetched to its fetch. */
    private volatile long fetchLag = UNDEFINED;

    /** The reader's open CDC subscriptions. */
    private final List<ChangeStream> streams = new CopyOnWriteArrayList<>();

    TiKVSourceReaderMetrics(SourceReaderMetricGroup group) {
        this.numRecordsIn = group.getIOMetricGroup().getNumRecordsInCounter();
        this.numBytesIn = group.getIOMetricGroup().getNumBytesInCounter();
        this.snapshotRecords = group.counter(NUM_SNAPSHOT_RECORDS);
        this.insertRecords = group.counter(NUM_INSERT_DML_RECORDS);
        this.updateRecords = group.counter(NUM_UPDATE_DML_RECORDS);
        this.deleteRecords = group.counter(NUM_DELETE_DML_RECORDS);
        this.ddlRecords = group.counter(NUM_DDL_RECORDS);
        group.gauge(MetricNames.CURRENT_FETCH_EVENT_TIME_LAG, () -> fetchLag);
        group.setPendingRecordsGauge(() -> sum(ChangeStream::readyChanges));
        group.gauge(RESOLVED_TS_LAG, this::resolvedTsLag);
        group.gauge(CDC_BUFFERED_BYTES, () -> sum(ChangeStream::bufferedBytes));
        group.gauge(CDC_SPILLED_BYTES, () -> sum(ChangeStream::spilledBytes));
        group.gauge(REGIONS_SUBSCRIBED, () -> sum(ChangeStream::subscribedRegions));
        group.gauge(STREAM_RECONNECTS, () -> sum(ChangeStream::streamReconnects));
        group.gauge(STALE_LOCKS_RESOLVED, () -> sum(ChangeStream::staleLocksResolved));
    }

    /** A snapshot row of {@code bytes} (key and value) was read. */
    void snapshotRow(int bytes) {
        snapshotRecords.inc();
        numBytesIn.inc(bytes);
    }

    /** A key change of {@code bytes} (key, value, old value) was read: of a row or a schema. */
    void keyChange(int bytes) {
        numBytesIn.inc(bytes);
    }

    /**
     * A resolved ts was read: not a record of the tables, though Flink's reader counted it in
     * {@code numRecordsIn} as it counts every record the split reader fetches.
     */
    void resolvedTs() {
        numRecordsIn.dec();
    }

    /** A row change of {@code kind} was emitted. */
    void rowChange(TiDBChange.Kind kind) {
        switch (kind) {
            case INSERT:
                insertRecords.inc();
                break;
            case UPDATE:
                updateRecords.inc();
                break;
            case DELETE:
                deleteRecords.inc();
                break;
            default:
                throw new IllegalArgumentException("not a row change: " + kind);
        }
    }

    /** A captured table's schema changed. */
    void schemaChange() {
        ddlRecords.inc();
    }

    /** A change committed at {@code commitTs} was fetched now. */
    void fetched(long commitTs) {
        fetchLag = System.currentTimeMillis() - TiKVRecordEmitter.physicalMillis(commitTs);
    }

    void subscribed(ChangeStream stream) {
        streams.add(stream);
    }

    void closed(ChangeStream stream) {
        streams.remove(stream);
    }

    /** Milliseconds from the oldest resolved ts of the reader's subscriptions to now. */
    private long resolvedTsLag() {
        long oldest = Long.MAX_VALUE;
        for (ChangeStream s : streams) {
            oldest = Math.min(oldest, s.resolvedTs());
        }
        return oldest == Long.MAX_VALUE
                ? UNDEFINED
                : System.currentTimeMillis() - TiKVRecordEmitter.physicalMillis(oldest);
    }

    private long sum(ToLongFunction<ChangeStream> value) {
        long sum = 0;
        for (ChangeStream s : streams) {
            sum += value.applyAsLong(s);
        }
        return sum;
    }
}
