package io.tiflink.connector.source.reader;

import io.tiflink.connector.source.TiKVDeserializationSchema;
import io.tiflink.connector.source.TiKVSourceConfig;
import io.tiflink.connector.source.enumerator.SnapshotSplitsFinished;
import io.tiflink.connector.source.enumerator.StreamProgress;
import io.tiflink.connector.source.enumerator.StreamsStarted;
import io.tiflink.connector.source.split.TiKVSplit;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.connector.base.source.reader.SingleThreadMultiplexSourceReaderBase;
import org.apache.flink.core.io.InputStatus;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A TiKV source reader: asks the enumerator for snapshot splits one at a time (stream splits come
 * unasked), tells it which snapshot splits are done, and after each completed checkpoint how far
 * its streams got (so the enumerator can let GC move on).
 */
@Internal
public final class TiKVSourceReader<T>
        extends SingleThreadMultiplexSourceReaderBase<TiKVRecord, T, TiKVSplit, TiKVSplitState> {
    /** Stream positions in checkpoints not yet known to be complete. */
    private final TreeMap<Long, Map<String, Long>> streamPositions = new TreeMap<>();

    /** Set when the streams started and this reader holds none, until it said it is idle. */
    private boolean toSayIdle;

    public TiKVSourceReader(
            TiKVSourceConfig config,
            TiKVDeserializationSchema<T> deserializer,
            SourceReaderContext context) {
        this(config, deserializer, context, new TiKVSourceReaderMetrics(context.metricGroup()));
    }

    private TiKVSourceReader(
            TiKVSourceConfig config,
            TiKVDeserializationSchema<T> deserializer,
            SourceReaderContext context,
            TiKVSourceReaderMetrics metrics) {
        super(
                () -> new TiKVSplitReader(config, metrics),
                new TiKVRecordEmitter<>(
                        deserializer, config.consistent(), config.skippedTxnSources(), metrics),
                context.getConfiguration(),
                context);
    }

    @Override
    public void start() {
        if (getNumberOfCurrentlyAssignedSplits() == 0) {
            context.sendSplitRequest();
        }
    }

    @Override
    public void handleSourceEvents(SourceEvent event) {
        if (event instanceof StreamsStarted) {
            toSayIdle = getNumberOfCurrentlyAssignedSplits() == 0;
            if (toSayIdle) {
                splitFetcherManager.getQueue().notifyAvailable(); // so that pollNext runs
            }
        } else {
            super.handleSourceEvents(event);
        }
    }

    /**
     * A reader without a stream emits the idle watermark once: for the job's cuts ({@link
     * io.tiflink.connector.consistency.SnapshotCuts}) it holds nothing back.
     */
    @Override
    public InputStatus pollNext(ReaderOutput<T> output) throws Exception {
        if (toSayIdle) {
            toSayIdle = false;
            output.emitWatermark(Watermark.MAX_WATERMARK);
        }
        return super.pollNext(output);
    }

    @Override
    protected void onSplitFinished(Map<String, TiKVSplitState> finished) {
        context.sendSourceEventToCoordinator(
                new SnapshotSplitsFinished(new ArrayList<>(finished.keySet())));
        context.sendSplitRequest();
    }

    @Override
    protected TiKVSplitState initializedState(TiKVSplit split) {
        return new TiKVSplitState(split);
    }

    @Override
    protected TiKVSplit toSplitType(String splitId, TiKVSplitState state) {
        return state.toSplit();
    }

    @Override
    public List<TiKVSplit> snapshotState(long checkpointId) {
        List<TiKVSplit> splits = super.snapshotState(checkpointId);
        Map<String, Long> positions = new HashMap<>();
        for (TiKVSplit s : splits) {
            if (!s.isSnapshot()) {
                positions.put(s.splitId(), s.asStream().resolvedTs());
            }
        }
        if (!positions.isEmpty()) {
            streamPositions.put(checkpointId, positions);
        }
        return splits;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        Map.Entry<Long, Map<String, Long>> done = streamPositions.floorEntry(checkpointId);
        if (done != null) {
            context.sendSourceEventToCoordinator(new StreamProgress(done.getValue()));
            streamPositions.headMap(checkpointId, true).clear();
        }
    }
}
