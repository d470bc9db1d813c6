package io.tiflink.connector.source.split;

import io.tiflink.cdc.client.KeyRange;

import org.apache.flink.annotation.Internal;

/**
 * Rows of one key range of one physical table (a table or a partition) as of the snapshot ts,
 * resumed after the last key emitted.
 */
@Internal
public final class SnapshotSplit extends TiKVSplit {
    private final CapturedTable table;
    private final long physicalId;
    private final KeyRange range;
    private final long snapshotTs;
    private final byte[] lastKey;

    public SnapshotSplit(
            String splitId,
            CapturedTable table,
            long physicalId,
            KeyRange range,
            long snapshotTs,
            byte[] lastKey) {
        super(splitId);
        this.table = table;
        this.physicalId = physicalId;
        this.range = range;
        this.snapshotTs = snapshotTs;
        this.lastKey = lastKey;
    }

    @Override
    public boolean isSnapshot() {
        return true;
    }

    public CapturedTable table() {
        return table;
    }

    public long physicalId() {
        return physicalId;
    }

    public KeyRange range() {
        return range;
    }

    public long snapshotTs() {
        return snapshotTs;
    }

    /** The last key emitted, or null if none yet. */
    public byte[] lastKey() {
        return lastKey;
    }

    /** Where reading goes on: just after the last key emitted. */
    public byte[] resumeKey() {
        if (lastKey == null) {
            return range.start();
        }
        byte[] next = new byte[lastKey.length + 1];
        System.arraycopy(lastKey, 0, next, 0, lastKey.length);
        return next;
    }

    public SnapshotSplit withLastKey(byte[] key) {
        return new SnapshotSplit(splitId(), table, physicalId, range, snapshotTs, key);
    }

    @Override
    public String toString() {
        return "SnapshotSplit{" + splitId() + " of " + table.qualifiedName() + " " + range + "}";
    }
}
