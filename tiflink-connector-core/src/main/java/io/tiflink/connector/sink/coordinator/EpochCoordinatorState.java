package io.tiflink.connector.sink.coordinator;

import org.apache.flink.annotation.Internal;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The sink coordinator's checkpointed state: the ids of the sink in this and earlier runs, in
 * order. A job restored from a savepoint of another run finds that run's epochs by its id.
 */
@Internal
public final class EpochCoordinatorState {
    private static final Serializer SERIALIZER = new Serializer();

    private final List<String> sinkIds;

    public EpochCoordinatorState(List<String> sinkIds) {
        this.sinkIds = List.copyOf(sinkIds);
    }

    public List<String> sinkIds() {
        return sinkIds;
    }

    /** The state as the coordinator checkpoints it: the serializer's version, then its bytes. */
    public byte[] toBytes() throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        out.writeInt(SERIALIZER.getVersion());
        out.write(SERIALIZER.serialize(this));
        return out.getCopyOfBuffer();
    }

    /** Reads the bytes of {@link #toBytes}. */
    public static EpochCoordinatorState fromBytes(byte[] bytes) throws IOException {
        int version = new DataInputDeserializer(bytes).readInt();
        return SERIALIZER.deserialize(version, Arrays.copyOfRange(bytes, 4, bytes.length));
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

    /** The state's format, versioned. */
    public static final class Serializer
            implements SimpleVersionedSerializer<EpochCoordinatorState> {
        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(EpochCoordinatorState state) throws IOException {
            DataOutputSerializer out = new DataOutputSerializer(64);
            out.writeInt(state.sinkIds.size());
            for (String id : state.sinkIds) {
                out.writeUTF(id);
            }
            return out.getCopyOfBuffer();
        }

        @Override
        public EpochCoordinatorState deserialize(int version, byte[] serialized)
                throws IOException {
            if (version != 1) {
                throw new IOException("unknown TiKV sink coordinator state version " + version);
            }
            DataInputDeserializer in = new DataInputDeserializer(serialized);
            int n = in.readInt();
            List<String> ids = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                ids.add(in.readUTF());
            }
            return new EpochCoordinatorState(ids);
        }
    }
}
