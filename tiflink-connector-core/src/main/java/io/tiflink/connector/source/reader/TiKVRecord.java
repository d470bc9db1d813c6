package io.tiflink.connector.source.reader;

import io.tiflink.cdc.client.KeyChange;

/** What the split reader fetches: a snapshot row, a committed change, or a resolved ts. */
final class TiKVRecord {
    final byte[] key;
    final byte[] value;
    final KeyChange change;
    final long resolvedTs;

    private TiKVRecord(byte[] key, byte[] value, KeyChange change, long resolvedTs) {
        this.key = key;
        this.value = value;
        this.change = change;
        this.resolvedTs = resolvedTs;
    }

    static TiKVRecord snapshot(byte[] key, byte[] value) {
        return new TiKVRecord(key, value, null, 0);
    }

    static TiKVRecord change(KeyChange change) {
        return new TiKVRecord(null, null, change, 0);
    }

    static TiKVRecord resolved(long ts) {
        return new TiKVRecord(null, null, null, ts);
    }

    boolean isSnapshot() {
        return key != null;
    }

    boolean isChange() {
        return change != null;
    }
}
