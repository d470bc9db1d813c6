package io.tiflink.connector.source.enumerator;

import io.tiflink.connector.source.split.SnapshotSplit;
import io.tiflink.connector.source.split.StreamSplit;
import io.tiflink.connector.source.split.TiKVSplitSerializer;

import org.apache.flink.annotation.Internal;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Serializes {@link TiKVEnumeratorState} into checkpoints. */
@Internal
public final class TiKVEnumeratorStateSerializer
        implements SimpleVersionedSerializer<TiKVEnumeratorState> {
    private static final int VERSION = 1;

    @Override
    public int getVersion() {
        return VERSION;
    }

    @Override
    public byte[] serialize(TiKVEnumeratorState state) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(1024);
        out.writeLong(state.snapshotTs);
        out.writeUTF(state.gcServiceId);
        out.writeInt(state.pendingSnapshots.size());
        for (SnapshotSplit s : state.pendingSnapshots) {
            TiKVSplitSerializer.write(s, out);
        }
        out.writeInt(state.unfinishedSnapshots.size());
        for (String id : state.unfinishedSnapshots) {
            out.writeUTF(id);
        }
        out.writeInt(state.pendingStreams.size());
        for (StreamSplit s : state.pendingStreams) {
            TiKVSplitSerializer.write(s, out);
        }
        out.writeBoolean(state.streamsReleased);
        out.writeInt(state.streamPositions.size());
        for (Map.Entry<String, Long> e : state.streamPositions.entrySet()) {
            out.writeUTF(e.getKey());
            out.writeLong(e.getValue());
        }
        return out.getCopyOfBuffer();
    }

    @Override
    public TiKVEnumeratorState deserialize(int version, byte[] serialized) throws IOException {
        if (version != VERSION) {
            throw new IOException("unknown TiKV enumerator state version " + version);
        }
        DataInputDeserializer in = new DataInputDeserializer(serialized);
        long snapshotTs = in.readLong();
        String gcServiceId = in.readUTF();
        int n = in.readInt();
        List<SnapshotSplit> snapshots = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            snapshots.add(TiKVSplitSerializer.read(in).asSnapshot());
        }
        n = in.readInt();
        Set<String> unfinished = new HashSet<>();
        for (int i = 0; i < n; i++) {
            unfinished.add(in.readUTF());
        }
        n = in.readInt();
        List<StreamSplit> streams = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            streams.add(TiKVSplitSerializer.read(in).asStream());
        }
        boolean released = in.readBoolean();
        n = in.readInt();
        Map<String, Long> positions = new HashMap<>();
        for (int i = 0; i < n; i++) {
            positions.put(in.readUTF(), in.readLong());
        }
        return new TiKVEnumeratorState(
                snapshotTs, gcServiceId, snapshots, unfinished, streams, released, positions);
    }
}
