package io.tiflink.connector.source.split;

import io.tiflink.cdc.client.KeyRange;

import org.apache.flink.annotation.Internal;

import java.util.List;

/**
 * The change stream of some tables from a resolved ts on: their record key ranges and their
 * schemas' meta keys. Within the window after {@link #resolvedTs}, changes come in (commit ts, key)
 * order, so the position of the last change emitted ({@link #lastCommitTs}, {@link #lastKey}) says
 * exactly which to skip when the stream is read again from the resolved ts.
 */
@Internal
public final class StreamSplit extends TiKVSplit {
    private final List<CapturedTable> tables;
    private final List<KeyRange> ranges;
    private final long resolvedTs;
    private final long lastCommitTs;
    private final byte[] lastKey;

    public StreamSplit(
            String splitId,
            List<CapturedTable> tables,
            List<KeyRange> ranges,
            long resolvedTs,
            long lastCommitTs,
            byte[] lastKey) {
        super(splitId);
        this.tables = List.copyOf(tables);
        this.ranges = List.copyOf(ranges);
        this.resolvedTs = resolvedTs;
        this.lastCommitTs = lastCommitTs;
        this.lastKey = lastKey;
    }

    @Override
    public boolean isSnapshot() {
        return false;
    }

    /** The tables, with the schemas current at the split's position. */
    public List<CapturedTable> tables() {
        return tables;
    }

    /** The record key ranges read; the tables' meta keys are read besides. */
    public List<KeyRange> ranges() {
        return ranges;
    }

    /** Every change at or below it has been emitted. */
    public long resolvedTs() {
        return resolvedTs;
    }

    /** Commit ts of the last change emitted after {@link #resolvedTs}, or 0. */
    public long lastCommitTs() {
        return lastCommitTs;
    }

    /** Key of that change, or null. */
    public byte[] lastKey() {
        return lastKey;
    }

    public StreamSplit at(
            List<CapturedTable> tables, long resolvedTs, long lastCommitTs, byte[] lastKey) {
        return new StreamSplit(splitId(), tables, ranges, resolvedTs, lastCommitTs, lastKey);
    }

    @Override
    public String toString() {
        return "StreamSplit{"
                + splitId()
                + " of "
                + tables.size()
                + " tables at "
                + resolvedTs
                + "}";
    }
}
