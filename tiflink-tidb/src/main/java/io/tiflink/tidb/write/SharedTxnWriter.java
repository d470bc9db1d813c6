package io.tiflink.tidb.write;

import io.tiflink.tikv.txn.TxnClient;
import io.tiflink.tikv.txn.WriteConflictException;

import org.tikv.kvproto.Kvrpcpb;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * One writer's part in Percolator transactions that several writers share: someone else owns (and
 * commits) a transaction's primary, and each writer prewrites its changes' mutations as secondaries
 * under it. It remembers the range of keys it prewrote, whose locks are committed after the
 * primary, and the writes it prewrote, to be written again should the transaction be rolled back
 * (its locks outlived their TTL while nobody kept them alive).
 *
 * <p>A transaction holds one mutation per key, and keys prewritten in it cannot change. A change
 * touching such a key (or a key of a change so deferred) is deferred, in its order, until {@link
 * #releaseDeferred} says that every transaction those keys went into has committed.
 */
public final class SharedTxnWriter {
    private final TableWriter table;
    private final TxnClient txn;
    private final long lockTtlMillis;

    /** Keys prewritten and not yet known committed. */
    private final KeyHashSet written = new KeyHashSet();

    private final DeferredChanges deferred = new DeferredChanges();

    /** The writes prewritten since {@link #clearKeyRange}, in order. */
    private final List<RowWrite> prewritten = new ArrayList<>();

    /** The smallest and largest key prewritten since {@link #clearKeyRange}; null for none. */
    private byte[] firstKey;

    private byte[] lastKey;

    public SharedTxnWriter(TableWriter table, TxnClient txn, long lockTtlMillis) {
        this.table = table;
        this.txn = txn;
        this.lockTtlMillis = lockTtlMillis;
    }

    /**
     * Plans {@code changes} as of {@code startTs} and prewrites their mutations into transaction
     * {@code startTs} under {@code primary}; changes that must wait are deferred.
     *
     * @throws WriteConflictException if another transaction wrote one of the keys after {@code
     *     startTs}
     */
    public void prewrite(List<RowWrite> changes, byte[] primary, long startTs) {
        ChangePlanner.Plan plan = table.plan(changes, startTs, written, deferred);
        List<Kvrpcpb.Mutation> mutations = plan.mutationList();
        if (!mutations.isEmpty()) {
            try {
                txn.prewrite(primary, mutations, startTs, lockTtlMillis);
            } catch (WriteConflictException e) {
                table.listener().conflicted();
                throw e;
            }
        }
        Set<RowWrite> deferredNow = Collections.newSetFromMap(new IdentityHashMap<>());
        deferredNow.addAll(plan.deferred);
        int rows = 0;
        for (RowWrite c : changes) {
            if (!deferredNow.contains(c)) {
                prewritten.add(c);
                rows++;
            }
        }
        table.listener().written(rows, TableWriter.bytes(mutations));
        for (Kvrpcpb.Mutation m : mutations) {
            byte[] k = m.getKey().toByteArray();
            written.add(k);
            if (firstKey == null || Arrays.compareUnsigned(k, firstKey) < 0) {
                firstKey = k;
            }
            if (lastKey == null || Arrays.compareUnsigned(k, lastKey) > 0) {
                lastKey = k;
            }
        }
    }

    /**
     * The changes deferred so far, each row's in order (collapsed where rows are independent: see
     * {@link DeferredChanges}).
     */
    public List<RowWrite> deferred() {
        return deferred.list();
    }

    /** Whether any change is deferred. */
    public boolean hasDeferred() {
        return !deferred.isEmpty();
    }

    /**
     * Every transaction this writer prewrote into has committed: its keys are no longer in the way.
     * Returns the deferred changes (and forgets them), to be written again.
     */
    public List<RowWrite> releaseDeferred() {
        written.clear();
        return takeDeferred();
    }

    /** Returns the deferred changes and forgets them, to be written elsewhere. */
    public List<RowWrite> takeDeferred() {
        return deferred.take();
    }

    /** Whether anything was prewritten since {@link #clearKeyRange}. */
    public boolean wroteKeys() {
        return firstKey != null;
    }

    /** The smallest key prewritten since {@link #clearKeyRange}; null for none. */
    public byte[] firstKey() {
        return firstKey;
    }

    /** The largest key prewritten since {@link #clearKeyRange}; null for none. */
    public byte[] lastKey() {
        return lastKey;
    }

    /** The writes prewritten since {@link #clearKeyRange}, in order. */
    public List<RowWrite> prewritten() {
        return prewritten;
    }

    /** Starts a new key range and write log: the keys so far are another transaction's. */
    public void clearKeyRange() {
        firstKey = null;
        lastKey = null;
        prewritten.clear();
    }
}
