package io.tiflink.connector.source.enumerator;

import io.tiflink.connector.source.split.SnapshotSplit;
import io.tiflink.connector.source.split.StreamSplit;

import org.apache.flink.annotation.Internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the enumerator checkpoints: the snapshot ts it chose, its GC service id, the splits not yet
 * assigned, the snapshot splits assigned but not reported finished, whether the streams may start,
 * and the streams' resolved ts from the last completed checkpoint (where GC is held).
 */
@Internal
public final class TiKVEnumeratorState {
    final long snapshotTs;
    final String gcServiceId;
    final List<SnapshotSplit> pendingSnapshots;
    final Set<String> unfinishedSnapshots;
    final List<StreamSplit> pendingStreams;
    final boolean streamsReleased;
    final Map<String, Long> streamPositions;

    public TiKVEnumeratorState(
            long snapshotTs,
            String gcServiceId,
            List<SnapshotSplit> pendingSnapshots,
            Set<String> unfinishedSnapshots,
            List<StreamSplit> pendingStreams,
            boolean streamsReleased,
            Map<String, Long> streamPositions) {
        this.snapshotTs = snapshotTs;
        this.gcServiceId = gcServiceId;
        this.pendingSnapshots = new ArrayList<>(pendingSnapshots);
        this.unfinishedSnapshots = new HashSet<>(unfinishedSnapshots);
        this.pendingStreams = new ArrayList<>(pendingStreams);
        this.streamsReleased = streamsReleased;
        this.streamPositions = new HashMap<>(streamPositions);
    }
}
