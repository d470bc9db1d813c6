package io.tiflink.cdc.client;

import org.tikv.kvproto.Cdcpb;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Pairs one region's COMMIT rows with the PREWRITE rows that carried their values, as TiCDC's
 * matcher does. A COMMIT that arrives before the region is initialized and finds no PREWRITE is
 * held until INITIALIZED: its PREWRITE may still come from the incremental scan, and if it does
 * not, the scan reported the change as COMMITTED already.
 */
final class Matcher {
    private static final class TxnKey {
        final long startTs;
        final ByteBuffer key;

        TxnKey(Cdcpb.Event.Row row) {
            this.startTs = row.getStartTs();
            this.key = row.getKey().asReadOnlyByteBuffer();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TxnKey
                    && ((TxnKey) o).startTs == startTs
                    && ((TxnKey) o).key.equals(key);
        }

        @Override
        public int hashCode() {
            return Objects.hash(startTs, key);
        }
    }

    private final Map<TxnKey, Cdcpb.Event.Row> prewrites = new HashMap<>();
    private List<Cdcpb.Event.Row> heldCommits = new ArrayList<>();
    private long bytes;

    /**
     * Remembers a PREWRITE. A PREWRITE without a value does not replace one with a value: TiKV
     * sends such "fake" PREWRITEs when a heartbeat or a pushed min_commit_ts rewrites a lock whose
     * value is stored apart.
     */
    void putPrewrite(Cdcpb.Event.Row row) {
        TxnKey k = new TxnKey(row);
        Cdcpb.Event.Row old = prewrites.get(k);
        if (old != null) {
            if (row.getValue().isEmpty()) {
                return;
            }
            bytes -= size(old);
        }
        prewrites.put(k, row);
        bytes += size(row);
    }

    /**
     * Takes the PREWRITE of a COMMIT, or null if there is none. Before the region is initialized a
     * PREWRITE without a value may be a fake one still waiting for the real one from the scan, so
     * it does not match then.
     */
    Cdcpb.Event.Row matchCommit(Cdcpb.Event.Row commit, boolean initialized) {
        TxnKey k = new TxnKey(commit);
        Cdcpb.Event.Row prewrite = prewrites.get(k);
        if (prewrite == null || (!initialized && prewrite.getValue().isEmpty())) {
            return null;
        }
        prewrites.remove(k);
        bytes -= size(prewrite);
        return prewrite;
    }

    /** Holds a COMMIT that arrived before INITIALIZED without its PREWRITE. */
    void holdCommit(Cdcpb.Event.Row commit) {
        heldCommits.add(commit);
        bytes += size(commit);
    }

    /**
     * Once initialized: the held COMMITs paired with their PREWRITEs, as {commit, prewrite} pairs.
     * Those still without a PREWRITE were reported by the scan as COMMITTED and are dropped.
     */
    List<Cdcpb.Event.Row[]> matchHeldCommits() {
        List<Cdcpb.Event.Row[]> matched = new ArrayList<>();
        for (Cdcpb.Event.Row commit : heldCommits) {
            bytes -= size(commit);
            Cdcpb.Event.Row prewrite = matchCommit(commit, true);
            if (prewrite != null) {
                matched.add(new Cdcpb.Event.Row[] {commit, prewrite});
            }
        }
        heldCommits = new ArrayList<>();
        return matched;
    }

    /** Forgets the PREWRITE of a transaction rolled back on this key. */
    void rollback(Cdcpb.Event.Row row) {
        Cdcpb.Event.Row prewrite = prewrites.remove(new TxnKey(row));
        if (prewrite != null) {
            bytes -= size(prewrite);
        }
    }

    /** Bytes of the rows held. */
    long bytes() {
        return bytes;
    }

    int pendingPrewrites() {
        return prewrites.size();
    }

    private static long size(Cdcpb.Event.Row row) {
        return KeyChange.OVERHEAD_BYTES
                + row.getKey().size()
                + row.getValue().size()
                + row.getOldValue().size();
    }
}
