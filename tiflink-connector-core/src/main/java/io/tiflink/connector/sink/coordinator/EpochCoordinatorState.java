package io.tiflink.connector.sink.coordinator;

import org.apache.flink.annotation.Internal;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The sink coordinator's checkpointed state: the ids of the sink in this and earlier runs, in
 * order. A job restored from a savepoint of another run finds that run's epochs by its id.
 */
@Internal
public final class EpochCoordinatorState {
    /** The version of {@link #toBytes}'s format. */
    public static final int VERSION = 1;

    private final List<String> sinkIds;

    public EpochCoordinatorState(List<String> sinkIds) {
        this.sinkIds = List.copyOf(sinkIds);
    }

    public List<String> sinkIds() {
        return sinkIds;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EpochCoordinatorState
                && sinkIds.equals(((EpochCoordinatorState) o).sinkIds);
    }

    @Override
    public int hashCode() {
        return sinkIds.hashCode();
    }

    @Override
    public String toString() {
        return "EpochCoordinatorState" + sinkIds;
    }

    /** The state as the coordinator checkpoints it: a version, then the ids. */
    public byte[] toBytes() throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        out.writeInt(VERSION);
        out.writeInt(sinkIds.size());
        for (String id : sinkIds) {
            out.writeUTF(id);
        }
        return out.getCopyOfBuffer();
    }

    /** Reads the bytes of {@link #toBytes} of this or an earlier version. */
    public static EpochCoordinatorState fromBytes(byte[] bytes) throws IOException {
        DataInputDeserializer in = new DataInputDeserializer(bytes);
        int version = in.readInt();
        if (version != VERSION) {
            throw new IOException("unknown TiKV sink coordinator state version " + version);
        }
        int n = in.readInt();
        List<String> ids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ids.add(in.readUTF());
        }
        return new EpochCoordinatorState(ids);
    }
}
