package io.tiflink.connector.sink.writer;

import org.apache.flink.annotation.Internal;

/**
 * One writer's part of an epoch: the epoch's transaction (epoch, primary key and start ts; the
 * primary names the run's sink, which a restored job's sink does not share), the range of keys the
 * writer prewrote in it, and the changes it prewrote, encoded by {@link ChangeCodec}. Kept until
 * the writer sees the epoch committed; if it finds the epoch rolled back instead, it rolls back the
 * range's locks and writes the changes again in its current epoch.
 */
@Internal
public final class EpochPart {
    private final long epoch;
    private final long startTs;
    private final byte[] primary;
    private final byte[] firstKey;
    private final byte[] lastKey;
    private final byte[] changes;

    public EpochPart(
            long epoch,
            long startTs,
            byte[] primary,
            byte[] firstKey,
            byte[] lastKey,
            byte[] changes) {
        this.epoch = epoch;
        this.startTs = startTs;
        this.primary = primary;
        this.firstKey = firstKey;
        this.lastKey = lastKey;
        this.changes = changes;
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

    public byte[] firstKey() {
        return firstKey;
    }

    public byte[] lastKey() {
        return lastKey;
    }

    /** The prewritten changes, in order, encoded by {@link ChangeCodec}. */
    public byte[] changes() {
        return changes;
    }

    @Override
    public String toString() {
        return "part of epoch " + epoch + " (start ts " + startTs + ")";
    }
}
