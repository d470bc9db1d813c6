package io.tiflink.connector.source.reader;

import io.tiflink.connector.source.split.CapturedTable;
import io.tiflink.connector.source.split.SnapshotSplit;
import io.tiflink.connector.source.split.StreamSplit;
import io.tiflink.connector.source.split.TiKVSplit;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A split's progress, moved forward by the record emitter and taken into checkpoints. */
final class TiKVSplitState {
    private final TiKVSplit split;

    // Snapshot splits: the last key emitted.
    byte[] lastKey;

    // Stream splits: the tables' current schemas, the resolved ts and the last change after it.
    List<CapturedTable> tables;
    Map<Long, CapturedTable> byPhysicalId;
    long resolvedTs;
    long lastCommitTs;

    TiKVSplitState(TiKVSplit split) {
        this.split = split;
        if (split.isSnapshot()) {
            lastKey = split.asSnapshot().lastKey();
        } else {
            StreamSplit s = split.asStream();
            setTables(s.tables());
            resolvedTs = s.resolvedTs();
            lastCommitTs = s.lastCommitTs();
            lastKey = s.lastKey();
        }
    }

    TiKVSplit split() {
        return split;
    }

    void setTables(List<CapturedTable> tables) {
        this.tables = new ArrayList<>(tables);
        this.byPhysicalId = new HashMap<>();
        for (CapturedTable t : tables) {
            for (long id : t.info().physicalIds()) {
                byPhysicalId.put(id, t);
            }
        }
    }

    TiKVSplit toSplit() {
        if (split.isSnapshot()) {
            SnapshotSplit s = split.asSnapshot();
            return s.withLastKey(lastKey);
        }
        return split.asStream().at(tables, resolvedTs, lastCommitTs, lastKey);
    }
}
