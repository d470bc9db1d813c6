package io.tiflink.connector.sink.writer;

import org.apache.flink.annotation.Internal;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * What a writer keeps in a checkpoint: the changes it has not written yet, in order, and its parts
 * of the epochs not yet known committed, whose changes it writes again if TiKV rolled the epoch
 * back (its locks outlived their TTL while the job was down). Changes are encoded with the table's
 * column ids ({@link ChangeCodec}) so that they survive a schema change before the restore. A
 * restore applies a state once: its id marks it applied, in the transaction that applies it.
 */
@Internal
public final class TiKVWriterState {
    private final String id;
    private final byte[] changes;
    private final List<EpochPart> parts;

    public TiKVWriterState(String id, byte[] changes, List<EpochPart> parts) {
        this.id = id;
        this.changes = changes;
        this.parts = List.copyOf(parts);
    }

    /** Unique per state taken; empty for a state of version 1, which had none. */
    public String id() {
        return id;
    }

    /** The unwritten changes, encoded by {@link ChangeCodec}. */
    public byte[] changes() {
        return changes;
    }

    /** The writer's parts of epochs not known committed, oldest first. */
    public List<EpochPart> parts() {
        return parts;
    }

    /**
     * Writer states in Flink's checkpoints. Version 1 held the unwritten changes only; version 2
     * adds the state's id and the epoch parts.
     */
    public static final class Serializer implements SimpleVersionedSerializer<TiKVWriterState> {
        @Override
        public int getVersion() {
            return 2;
        }

        @Override
        public byte[] serialize(TiKVWriterState state) throws IOException {
            DataOutputSerializer out = new DataOutputSerializer(state.changes.length + 64);
            out.writeUTF(state.id);
            ChangeCodec.writeBytes(out, state.changes);
            out.writeInt(state.parts.size());
            for (EpochPart p : state.parts) {
                out.writeLong(p.epoch());
                out.writeLong(p.startTs());
                ChangeCodec.writeBytes(out, p.primary());
                ChangeCodec.writeBytes(out, p.firstKey());
                ChangeCodec.writeBytes(out, p.lastKey());
                ChangeCodec.writeBytes(out, p.changes());
            }
            return out.getCopyOfBuffer();
        }

        @Override
        public TiKVWriterState deserialize(int version, byte[] serialized) throws IOException {
            if (version == 1) {
                return new TiKVWriterState("", serialized, List.of());
            }
            if (version != 2) {
                throw new IOException("unknown TiKV writer state version " + version);
            }
            DataInputDeserializer in = new DataInputDeserializer(serialized);
            String id = in.readUTF();
            byte[] changes = ChangeCodec.readBytes(in);
            int n = in.readInt();
            List<EpochPart> parts = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                parts.add(
                        new EpochPart(
                                in.readLong(),
                                in.readLong(),
                                ChangeCodec.readBytes(in),
                                ChangeCodec.readBytes(in),
                                ChangeCodec.readBytes(in),
                                ChangeCodec.readBytes(in)));
            }
            return new TiKVWriterState(id, changes, parts);
        }
    }
}
