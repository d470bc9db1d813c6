package io.tiflink.connector.sink.writer;

import org.apache.flink.annotation.Internal;
import org.apache.flink.core.io.SimpleVersionedSerializer;

import java.io.IOException;

/**
 * What a writer had not written when a checkpoint was taken: the changes waiting for the next
 * transaction, in order, encoded with the table's column ids ({@link ChangeCodec}) so that they
 * survive a schema change before the restore.
 */
@Internal
public final class TiKVWriterState {
    private final byte[] changes;

    public TiKVWriterState(byte[] changes) {
        this.changes = changes;
    }

    public byte[] changes() {
        return changes;
    }

    /** Writer states in Flink's checkpoints. */
    public static final class Serializer implements SimpleVersionedSerializer<TiKVWriterState> {
        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(TiKVWriterState state) {
            return state.changes;
        }

        @Override
        public TiKVWriterState deserialize(int version, byte[] serialized) throws IOException {
            if (version != 1) {
                throw new IOException("unknown TiKV writer state version " + version);
            }
            return new TiKVWriterState(serialized);
        }
    }
}
