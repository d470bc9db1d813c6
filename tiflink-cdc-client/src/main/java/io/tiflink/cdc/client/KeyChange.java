package io.tiflink.cdc.client;

import io.tiflink.tikv.Keys;
import io.tiflink.tikv.TxnSource;

import org.tikv.kvproto.Cdcpb;

import java.util.Arrays;
import java.util.Comparator;

/** One committed change of one key, as TiKV's CDC service reports it. */
public final class KeyChange {
    /** What the change did to the key. */
    public enum Op {
        PUT,
        DELETE
    }

    /** Delivery order: by commit ts, then by key. */
    public static final Comparator<KeyChange> COMMIT_ORDER =
            Comparator.comparingLong(KeyChange::commitTs)
                    .thenComparing(KeyChange::key, Arrays::compareUnsigned);

    /** What a change costs in memory beyond its bytes, roughly. */
    static final int OVERHEAD_BYTES = 96;

    private final byte[] key;
    private final byte[] value;
    private final byte[] oldValue;
    private final Op op;
    private final long startTs;
    private final long commitTs;
    private final long txnSource;

    /** A change of a transaction without a {@code txn_source}. */
    public KeyChange(
            byte[] key, byte[] value, byte[] oldValue, Op op, long startTs, long commitTs) {
        this(key, value, oldValue, op, startTs, commitTs, 0);
    }

    public KeyChange(
            byte[] key,
            byte[] value,
            byte[] oldValue,
            Op op,
            long startTs,
            long commitTs,
            long txnSource) {
        this.key = key;
        this.value = value;
        this.oldValue = oldValue;
        this.op = op;
        this.startTs = startTs;
        this.commitTs = commitTs;
        this.txnSource = txnSource;
    }

    /** A COMMITTED row of an incremental scan (or a 1PC commit), which carries its values. */
    static KeyChange committed(Cdcpb.Event.Row row) {
        return of(row, row);
    }

    /** A COMMIT row, with the value and old value from its PREWRITE. */
    static KeyChange of(Cdcpb.Event.Row commit, Cdcpb.Event.Row values) {
        return new KeyChange(
                commit.getKey().toByteArray(),
                values.getValue().toByteArray(),
                values.getOldValue().toByteArray(),
                commit.getOpType() == Cdcpb.Event.Row.OpType.DELETE ? Op.DELETE : Op.PUT,
                commit.getStartTs(),
                commit.getCommitTs(),
                TxnSource.of(commit));
    }

    /** Bytes this change holds in memory, roughly. */
    long sizeBytes() {
        return OVERHEAD_BYTES + key.length + value.length + oldValue.length;
    }

    /** The raw key (in TiDB, a record or index key). */
    public byte[] key() {
        return key;
    }

    /** The new value of a PUT; empty for a DELETE. */
    public byte[] value() {
        return value;
    }

    /** The value before this change; empty if the key did not exist (or was deleted). */
    public byte[] oldValue() {
        return oldValue;
    }

    public Op op() {
        return op;
    }

    public long startTs() {
        return startTs;
    }

    public long commitTs() {
        return commitTs;
    }

    /**
     * The {@code txn_source} of the transaction that made the change (TiCDC, BR and TiDB's lossy
     * DDL mark their writes with it), or 0 if it has none.
     */
    public long txnSource() {
        return txnSource;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof KeyChange)) {
            return false;
        }
        KeyChange c = (KeyChange) o;
        return startTs == c.startTs
                && commitTs == c.commitTs
                && txnSource == c.txnSource
                && op == c.op
                && Arrays.equals(key, c.key)
                && Arrays.equals(value, c.value)
                && Arrays.equals(oldValue, c.oldValue);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(key) * 31 + Long.hashCode(commitTs);
    }

    @Override
    public String toString() {
        return op
                + " key="
                + Keys.hex(key)
                + " start="
                + startTs
                + " commit="
                + commitTs
                + (txnSource == 0 ? "" : " source=" + txnSource)
                + " value="
                + value.length
                + "B old="
                + oldValue.length
                + "B";
    }
}
