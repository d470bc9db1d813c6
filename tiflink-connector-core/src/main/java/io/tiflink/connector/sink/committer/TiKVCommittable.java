package io.tiflink.connector.sink.committer;

import io.tiflink.connector.sink.writer.ChangeCodec;
import io.tiflink.tikv.Keys;

import org.apache.flink.annotation.Internal;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import java.io.IOException;

/**
 * What one subtask wrote in one transaction: the transaction (its primary and start ts) and the key
 * range of the subtask's prewritten keys, whose locks are committed after the primary.
 */
@Internal
public final class TiKVCommittable {
    private final long epoch;
    private final long startTs;
    private final byte[] primary;
    private final byte[] firstKey;
    private final byte[] lastKey;
    private final int subtask;
    private final byte[] carried;

    /**
     * @param carried changes (encoded by the writer) to write after this transaction commits, in a
     *     transaction of their own: those the subtask deferred to a next epoch when its input ended
     */
    public TiKVCommittable(
            long epoch,
            long startTs,
            byte[] primary,
            byte[] firstKey,
            byte[] lastKey,
            int subtask,
            byte[] carried) {
        this.epoch = epoch;
        this.startTs = startTs;
        this.primary = primary;
        this.firstKey = firstKey;
        this.lastKey = lastKey;
        this.subtask = subtask;
        this.carried = carried;
    }

    public long epoch() {
        return epoch;
    }

    public long startTs() {
        return startTs;
    }

    public byte[] primary() {
        return primary;
    }

    /**
     * Whether the transaction exists: else (start ts 0) the epoch never opened, its checkpoint was
     * aborted, and the subtask only carries changes.
     */
    public boolean hasEpoch() {
        return startTs != 0;
    }

    /** Whether the subtask prewrote keys in the transaction (else it only carries changes). */
    public boolean hasKeys() {
        return firstKey.length > 0;
    }

    /** The smallest key the subtask prewrote; empty for none. */
    public byte[] firstKey() {
        return firstKey;
    }

    /** The largest key the subtask prewrote; empty for none. */
    public byte[] lastKey() {
        return lastKey;
    }

    public int subtask() {
        return subtask;
    }

    /** Encoded changes to write once this transaction committed; empty for none. */
    public byte[] carried() {
        return carried;
    }

    @Override
    public String toString() {
        return "epoch "
                + epoch
                + " (start ts "
                + startTs
                + ", primary "
                + Keys.printable(primary)
                + ")";
    }

    /** Committables in Flink's checkpoints. */
    public static final class Serializer implements SimpleVersionedSerializer<TiKVCommittable> {
        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(TiKVCommittable c) throws IOException {
            DataOutputSerializer out = new DataOutputSerializer(64);
            out.writeLong(c.epoch);
            out.writeLong(c.startTs);
            ChangeCodec.writeBytes(out, c.primary);
            ChangeCodec.writeBytes(out, c.firstKey);
            ChangeCodec.writeBytes(out, c.lastKey);
            out.writeInt(c.subtask);
            ChangeCodec.writeBytes(out, c.carried);
            return out.getCopyOfBuffer();
        }

        @Override
        public TiKVCommittable deserialize(int version, byte[] serialized) throws IOException {
            if (version != 1) {
                throw new IOException("unknown TiKV committable version " + version);
            }
            DataInputDeserializer in = new DataInputDeserializer(serialized);
            return new TiKVCommittable(
                    in.readLong(),
                    in.readLong(),
                    ChangeCodec.readBytes(in),
                    ChangeCodec.readBytes(in),
                    ChangeCodec.readBytes(in),
                    in.readInt(),
                    ChangeCodec.readBytes(in));
        }
    }
}
