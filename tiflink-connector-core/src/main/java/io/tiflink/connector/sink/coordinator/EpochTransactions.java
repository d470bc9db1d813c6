package io.tiflink.connector.sink.coordinator;

import io.tiflink.connector.sink.EpochKeys;
import io.tiflink.connector.sink.TiKVSinkConfig;
import io.tiflink.tidb.write.TargetTable;
import io.tiflink.tikv.ByteKey;
import io.tiflink.tikv.gc.GcSafePoint;
import io.tiflink.tikv.txn.TxnClient;
import io.tiflink.tikv.txn.TxnException;

import org.apache.flink.util.FlinkRuntimeException;

import org.tikv.kvproto.Kvrpcpb;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The sink's epochs as transactions in TiKV: each open epoch is a Percolator transaction whose
 * primary ({@link EpochKeys#primary}) the coordinator prewrote, and commits or rolls back; so is
 * the restore transaction of a (re)start ({@link EpochKeys#restore}), which carries the writers'
 * restored state and commits before the first epoch opens. While epochs are open, their primaries'
 * locks are kept alive by heartbeats, and GC is held back (a PD service safe point) at the oldest
 * one's start ts. Used from the coordinator's thread only.
 */
final class EpochTransactions implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EpochTransactions.class);

    private final TiKVSinkConfig config;
    private final TxnClient txn;
    private TargetTable table;

    /** With consistency snapshot: where epochs record their cuts; else null. */
    private ProgressTable progress;

    /** Open epochs: epoch → start ts. */
    private final TreeMap<Long, Long> open = new TreeMap<>();

    /** Primaries of open epochs that are not {@link EpochKeys#primary}: restarted ones. */
    private final Map<Long, byte[]> restartedPrimaries = new HashMap<>();

    /** The open restore transaction's primary and start ts (0 for none). */
    private byte[] restorePrimary;

    private long restoreStartTs;

    private final EpochMetrics metrics;

    EpochTransactions(TiKVSinkConfig config, EpochMetrics metrics) {
        this.config = config;
        this.metrics = metrics;
        this.txn = config.openTxnClient();
    }

    /**
     * Settles what runs of the sinks {@code sinkIds} left open, as of checkpoint {@code
     * checkpointId}: epochs before it commit (restoring a checkpoint confirms it), epochs from it
     * on roll back, with their secondary locks (found by a lock scan of the sinks' primaries).
     */
    void settle(Collection<String> sinkIds, long checkpointId) {
        open.clear();
        restartedPrimaries.clear();
        restorePrimary = null; // an unfinished restore is rolled back below, as an earlier run's
        restoreStartTs = 0;
        for (String id : sinkIds) {
            byte[] prefix = EpochKeys.prefix(id);
            for (Kvrpcpb.LockInfo lock :
                    txn.scanLocks(prefix, EpochKeys.end(prefix), Long.MAX_VALUE)) {
                byte[] primary = lock.getKey().toByteArray();
                if (EpochKeys.isRestore(id, primary)) {
                    // An earlier restore that never finished: the writers apply it again.
                    resolveRestore(primary, lock.getLockVersion(), 0);
                    continue;
                }
                if (!EpochKeys.isEpoch(id, primary)) {
                    continue; // a committer's carried changes: its retry settles them
                }
                long epoch = EpochKeys.epoch(id, primary);
                long startTs = lock.getLockVersion();
                // With consistency snapshot the restore transaction applies the restored epochs
                // together with the restored cut: committed one by one, a reader could see one
                // without the others' rows or the cut.
                if (epoch < checkpointId && !config.consistent()) {
                    commitOrLeaveToWriters(epoch, primary, startTs);
                } else {
                    rollback(epoch, primary, startTs, false);
                }
            }
        }
        // What transactions of these sinks left in the table, e.g. an epoch a reader rolled back
        // while the job was down, goes before the writers start: tikv-client-java's scans (the
        // writers read the schema) read past their end and resolve each lock they meet, one by
        // one, and TiDB's readers would meet them too.
        Set<String> ids = Set.copyOf(sinkIds);
        long now = txn.timestamp();
        resolveLeftovers(
                table().keyPrefix(),
                table().keyEnd(),
                now,
                key -> ids.contains(EpochKeys.sinkIdOf(key)));
        if (progress != null) {
            resolveLeftovers(
                    progress.keyPrefix(),
                    progress.keyEnd(),
                    now,
                    key -> ids.contains(EpochKeys.sinkIdOf(key)));
        }
    }

    /** Opens {@code epoch}: a fresh start ts, its primary prewritten, GC held at the oldest. */
    void open(long epoch) {
        long startTs = prewriteSinkKey(primary(epoch));
        open.put(epoch, startTs);
        holdGc();
        LOG.info(
                "TiKV sink into {}: epoch {} open (start ts {})",
                config.qualifiedTable(),
                epoch,
                startTs);
    }

    /**
     * Opens the restore transaction of a (re)start from checkpoint {@code checkpointId}, into which
     * every writer writes what its restored state holds (see {@code ExactlyOnceWriter}).
     */
    void openRestore(long checkpointId) {
        restorePrimary = EpochKeys.restore(config.sinkId(), checkpointId);
        restoreStartTs = prewriteSinkKey(restorePrimary);
        holdGc();
        LOG.info(
                "TiKV sink into {}: restore from checkpoint {} open (start ts {})",
                config.qualifiedTable(),
                checkpointId,
                restoreStartTs);
    }

    /** Whether a restore transaction is open (no epoch opens meanwhile). */
    boolean restoring() {
        return restorePrimary != null;
    }

    /** Whether every writer has written its restored state into the restore transaction. */
    boolean restoreWritten() {
        byte[] prefix = EpochKeys.restoredPrefix(restorePrimary);
        Set<Integer> done = new HashSet<>();
        int writers = -1;
        for (Kvrpcpb.LockInfo lock : txn.scanLocks(prefix, EpochKeys.end(prefix), Long.MAX_VALUE)) {
            if (lock.getLockVersion() == restoreStartTs) {
                int[] writer = EpochKeys.restoredWriter(lock.getKey().toByteArray());
                done.add(writer[0]);
                writers = writer[1];
            }
        }
        return done.size() == writers;
    }

    /**
     * Commits the restore transaction, and its secondaries; then opens {@code epoch}, as the
     * restored epoch ({@link EpochKeys#restarted}) if it is the one restored from.
     */
    void commitRestoreAndOpen(long restoredFrom, long epoch) {
        long commitTs = txn.commitPrimary(restorePrimary, restoreStartTs);
        resolveRestore(restorePrimary, restoreStartTs, commitTs);
        LOG.info("TiKV sink into {}: restore committed at {}", config.qualifiedTable(), commitTs);
        if (epoch == restoredFrom) {
            restartedPrimaries.put(
                    epoch, EpochKeys.restarted(config.sinkId(), epoch, restoreStartTs));
        }
        restorePrimary = null;
        restoreStartTs = 0;
        open(epoch);
    }

    /**
     * Commits ({@code commitTs > 0}) or rolls back the secondaries of a restore transaction: rows
     * of the table, the applied states' keys and the writers' done marks.
     */
    private void resolveRestore(byte[] primary, long startTs, long commitTs) {
        if (commitTs == 0) {
            txn.rollbackPrimary(primary, startTs);
        }
        byte[] applied = EpochKeys.applied("");
        byte[] done = EpochKeys.restoredPrefix(primary);
        txn.resolveRange(table().keyPrefix(), table().keyEnd(), startTs, commitTs);
        if (progress != null) {
            progress.resolve(startTs, commitTs);
        }
        txn.resolveRange(applied, EpochKeys.end(applied), startTs, commitTs);
        txn.resolveRange(done, EpochKeys.end(done), startTs, commitTs);
    }

    boolean isOpen(long epoch) {
        return open.containsKey(epoch);
    }

    /** Commits the open epochs before {@code checkpointId}, whose rows that checkpoint holds. */
    void commitBefore(long checkpointId) {
        for (Map.Entry<Long, Long> e : new ArrayList<>(open.headMap(checkpointId).entrySet())) {
            commit(e.getKey(), primary(e.getKey()), e.getValue());
            forget(e.getKey());
        }
    }

    /**
     * At the job's end: commits the open epochs that checkpoint {@code completed} (the latest
     * completed one, or -1 if unknown) holds, and rolls back the others, unless a checkpoint after
     * {@code lastTriggered} may hold them unseen.
     */
    void rollbackUnheld(long completed, long lastTriggered) {
        for (Map.Entry<Long, Long> e : open.entrySet()) {
            if (e.getKey() < completed) {
                commit(e.getKey(), primary(e.getKey()), e.getValue());
            } else if (e.getKey() >= lastTriggered || completed >= 0) {
                rollback(e.getKey(), primary(e.getKey()), e.getValue(), true);
            }
            // Else a checkpoint holding it may have completed unseen: its restore decides.
        }
        open.clear();
        restartedPrimaries.clear();
        if (restorePrimary != null) {
            resolveRestore(restorePrimary, restoreStartTs, 0);
            restorePrimary = null;
        }
    }

    /**
     * Heartbeats the open epochs' primaries and renews the GC hold. An epoch found no longer open
     * is forgotten; unless it committed, {@code lost} is told (nothing of it can commit any more).
     */
    void keepAlive(Consumer<FlinkRuntimeException> lost) {
        holdGc();
        if (restorePrimary != null
                && !txn.heartBeat(restorePrimary, restoreStartTs, config.lockTtl().toMillis())) {
            lost.accept(
                    new FlinkRuntimeException(
                            "TiKV sink into "
                                    + config.qualifiedTable()
                                    + ": the restore transaction was rolled back while open"));
        }
        for (Map.Entry<Long, Long> e : new ArrayList<>(open.entrySet())) {
            byte[] primary = primary(e.getKey());
            if (txn.heartBeat(primary, e.getValue(), config.lockTtl().toMillis())) {
                continue;
            }
            TxnClient.Status status = txn.status(primary, e.getValue());
            forget(e.getKey());
            if (!status.committed()) {
                lost.accept(
                        new FlinkRuntimeException(
                                "TiKV sink into "
                                        + config.qualifiedTable()
                                        + ": the transaction of epoch "
                                        + e.getKey()
                                        + " is "
                                        + status
                                        + " while open; another transaction rolled it back"));
            }
        }
    }

    /**
     * The oldest epoch a checkpoint triggered now can refer to: writers keep in their state only
     * parts of epochs not committed at their snapshot, which follows this; and the epoch they
     * write, at most as old as the checkpoint triggered before ({@code previous}) or the restore.
     */
    long oldestReferable(long checkpointId, long previous) {
        long oldest = checkpointId;
        if (previous >= 0) {
            oldest = Math.min(oldest, previous);
        }
        if (!open.isEmpty()) {
            oldest = Math.min(oldest, open.firstKey());
        }
        if (restorePrimary != null) {
            oldest = Math.min(oldest, EpochKeys.epochOf(config.sinkId(), restorePrimary));
        }
        return oldest;
    }

    /**
     * Removes the keys of this sink's epochs before {@code horizon} (primaries, restore and carried
     * transactions' keys, the applied marks of the states they restored), and every key of the
     * earlier runs' sink ids {@code earlier}: no retained checkpoint refers to them. Only committed
     * keys have values to remove; the {@link EpochKeys#cleaned} mark, written in the same
     * transaction, tells a restore of an older savepoint that an epoch below the horizon TiKV no
     * longer knows (GC forgot it with its primary) committed. Locks those transactions left are
     * resolved first: once GC forgot a primary, a reader would roll them back.
     *
     * @return whether everything was removed (else the rest goes next time)
     */
    boolean clean(long horizon, Collection<String> earlier) {
        Predicate<byte[]> removed =
                key -> {
                    String id = EpochKeys.sinkIdOf(key);
                    if (id == null) {
                        return false;
                    }
                    if (earlier.contains(id)) {
                        return !Arrays.equals(key, EpochKeys.cleaned(id));
                    }
                    long epoch = EpochKeys.epochOf(config.sinkId(), key);
                    return id.equals(config.sinkId()) && epoch >= 0 && epoch < horizon;
                };
        // Not the locks of the open transactions, as many as the rows they wrote.
        long maxTs = Math.min(oldestOpenStartTs(), txn.timestamp()) - 1;
        byte[] root = EpochKeys.root();
        resolveLeftovers(table().keyPrefix(), table().keyEnd(), maxTs, removed);
        resolveLeftovers(root, EpochKeys.end(root), maxTs, removed);

        long now = txn.timestamp();
        List<Kvrpcpb.KvPair> found = new ArrayList<>();
        byte[] own = EpochKeys.prefix(config.sinkId());
        boolean complete = scanInto(found, now, own, EpochKeys.primary(config.sinkId(), horizon));
        for (String id : earlier) {
            byte[] prefix = EpochKeys.prefix(id);
            complete &= scanInto(found, now, prefix, EpochKeys.end(prefix));
        }
        List<byte[]> keys = new ArrayList<>();
        for (Kvrpcpb.KvPair kv : found) {
            if (removed.test(kv.getKey().toByteArray())) {
                keys.add(kv.getKey().toByteArray());
            }
        }
        List<Kvrpcpb.KvPair> marks = new ArrayList<>();
        byte[] applied = EpochKeys.applied("");
        complete &= scanInto(marks, now, applied, EpochKeys.end(applied));
        for (Kvrpcpb.KvPair kv : marks) {
            if (removed.test(kv.getValue().toByteArray())) {
                keys.add(kv.getKey().toByteArray());
            }
        }
        if (keys.isEmpty()) {
            return complete;
        }
        byte[] mark = EpochKeys.cleaned(config.sinkId());
        byte[] before = txn.get(now, List.of(mark)).get(new ByteKey(mark));
        long below = before == null ? horizon : Math.max(horizon, EpochKeys.cleanedEpoch(before));
        List<Kvrpcpb.Mutation> mutations = new ArrayList<>();
        mutations.add(TxnClient.put(mark, EpochKeys.cleanedValue(below)));
        keys.forEach(k -> mutations.add(TxnClient.delete(k)));
        List<byte[]> secondaries = new ArrayList<>(keys);
        for (String id : earlier) {
            // An earlier run's mark stays (one key a run), saying that all of it is gone.
            byte[] gone = EpochKeys.cleaned(id);
            mutations.add(TxnClient.put(gone, EpochKeys.cleanedValue(Long.MAX_VALUE)));
            secondaries.add(gone);
        }
        long startTs = txn.timestamp();
        txn.prewrite(mark, mutations, startTs, config.lockTtl().toMillis());
        long commitTs = txn.commitPrimary(mark, startTs);
        Kvrpcpb.KeyError error = txn.commit(secondaries, startTs, commitTs);
        if (error != null) {
            // Committed at the primary all the same: readers resolve what is left.
            LOG.debug("committing the removal of old keys: {}", error);
        }
        LOG.debug(
                "TiKV sink into {}: removed {} keys of epochs before {}",
                config.qualifiedTable(),
                keys.size(),
                horizon);
        return complete;
    }

    /** Keys a removal takes at most per call. */
    private static final int LIMIT = 10_000;

    /** Adds the committed keys in {@code [start, end)}; false if there may be more than that. */
    private boolean scanInto(List<Kvrpcpb.KvPair> into, long ts, byte[] start, byte[] end) {
        List<Kvrpcpb.KvPair> pairs = txn.scan(ts, start, end, LIMIT);
        into.addAll(pairs);
        return pairs.size() < LIMIT;
    }

    /**
     * Commits or rolls back, as their primaries say, the locks in {@code [start, end)} up to {@code
     * maxTs} whose primary {@code removed} takes.
     */
    private void resolveLeftovers(byte[] start, byte[] end, long maxTs, Predicate<byte[]> removed) {
        Map<Long, byte[]> primaries = new HashMap<>();
        for (Kvrpcpb.LockInfo lock : txn.scanLocks(start, end, maxTs)) {
            byte[] primary = lock.getPrimaryLock().toByteArray();
            if (removed.test(primary)) {
                primaries.putIfAbsent(lock.getLockVersion(), primary);
            }
        }
        for (Map.Entry<Long, byte[]> e : primaries.entrySet()) {
            TxnClient.Status status = txn.status(e.getValue(), e.getKey());
            if (!status.locked) {
                txn.resolveRange(start, end, e.getKey(), status.commitTs);
            }
        }
    }

    /** Stops holding GC back. */
    void releaseGc() {
        GcSafePoint.release(txn.session(), gcServiceId());
    }

    /**
     * Reads now what rollbacks need, while the cluster is calm: reading the schema later, in a
     * failover amid region splits and leader moves, can fail (tikv-client-java's scan stuck on a
     * stale region cache), and a rolled-back epoch's locks would stay.
     */
    void loadTable() {
        table();
    }

    /** With consistency snapshot: opens the progress table, or fails naming what is wrong. */
    void openProgress() {
        if (config.consistent() && progress == null) {
            progress = ProgressTable.open(config, txn);
        }
    }

    /**
     * Records in open {@code epoch}'s transaction that its rows are as of cut {@code cutTs},
     * reached at checkpoint {@code checkpointId}.
     */
    void writeProgress(long epoch, long cutTs, long checkpointId) {
        progress.prewrite(cutTs, checkpointId, primary(epoch), open.get(epoch));
    }

    /** Records in the open restore transaction that its rows are as of cut {@code cutTs}. */
    void writeRestoreProgress(long cutTs, long checkpointId) {
        progress.prewrite(cutTs, checkpointId, restorePrimary, restoreStartTs);
    }

    /** The open epochs before {@code checkpointId}, oldest first. */
    List<Long> openBefore(long checkpointId) {
        return new ArrayList<>(open.headMap(checkpointId).keySet());
    }

    /**
     * Marks the epoch of failed checkpoint {@code epoch} (with consistency snapshot): a writer that
     * passed its barrier finds it so, and fails, restarting the job from the last completed one.
     */
    void markAborted(long epoch) {
        commitMark(EpochKeys.aborted(config.sinkId(), epoch));
    }

    /**
     * Marks {@code epoch} as never opened (a savepoint's, with consistency snapshot): its writers
     * then carry its rows into the next epoch instead of waiting for it.
     */
    void skip(long epoch) {
        commitMark(EpochKeys.skipped(config.sinkId(), epoch));
    }

    private void commitMark(byte[] key) {
        long startTs = txn.timestamp();
        txn.prewrite(
                key,
                List.of(TxnClient.put(key, new byte[] {1})),
                startTs,
                config.lockTtl().toMillis());
        txn.commitPrimary(key, startTs);
    }

    private TargetTable table() {
        if (table == null) {
            table =
                    TargetTable.load(
                            txn.session(), txn.timestamp(), config.database(), config.table());
        }
        return table;
    }

    /**
     * Prewrites one of the sink's own keys (holding the table's name) as the primary of a new
     * transaction; returns its start ts.
     */
    private long prewriteSinkKey(byte[] key) {
        long startTs = txn.timestamp();
        txn.prewrite(
                key,
                List.of(
                        TxnClient.put(
                                key, config.qualifiedTable().getBytes(StandardCharsets.UTF_8))),
                startTs,
                config.lockTtl().toMillis());
        return startTs;
    }

    /**
     * Commits an epoch a completed checkpoint holds. If the table's schema changed while it was
     * open (TiDB would refuse such a transaction too), it is rolled back instead and the job fails:
     * the restored writers write its changes again with the new schema (its index entries too).
     */
    private void commit(long epoch, byte[] primary, long startTs) {
        if (!commitUnlessSchemaChanged(epoch, primary, startTs)) {
            throw new FlinkRuntimeException(
                    "TiKV sink into "
                            + config.qualifiedTable()
                            + ": the table's schema changed while epoch "
                            + epoch
                            + " was open; the epoch is rolled back and the job restarts, writing"
                            + " its changes again with the new schema");
        }
    }

    /**
     * Commits the epoch at a commit ts at which the table's schema is still the one it began with
     * (checked at the commit ts itself, as TiDB checks it: a DDL step between a check and the
     * commit could otherwise miss, or outlive, the epoch's rows and index entries), else rolls it
     * back; true if it committed.
     */
    private boolean commitUnlessSchemaChanged(long epoch, byte[] primary, long startTs) {
        long began = System.currentTimeMillis();
        long commitTs;
        try {
            commitTs =
                    txn.commitPrimary(
                            primary,
                            startTs,
                            ts -> table().unchangedBetween(txn.session(), startTs, ts));
        } catch (TxnException e) {
            throw new FlinkRuntimeException(
                    "TiKV sink into "
                            + config.qualifiedTable()
                            + ": epoch "
                            + epoch
                            + ", which a completed checkpoint holds, cannot commit: "
                            + e.getMessage()
                            + ". The job restarts from that checkpoint; if the epoch was rolled"
                            + " back, its writers write its changes again.",
                    e);
        }
        if (commitTs == 0) {
            rollback(epoch, primary, startTs, false);
            return false;
        }
        metrics.committed(System.currentTimeMillis() - began);
        if (progress != null) {
            progress.resolve(startTs, commitTs);
        }
        LOG.info(
                "TiKV sink into {}: epoch {} committed at {}",
                config.qualifiedTable(),
                epoch,
                commitTs);
        return true;
    }

    /**
     * At a restore: commits an epoch the restored checkpoint holds; if TiKV rolled it back
     * meanwhile (its locks outlived their TTL while the job was down), its writers write its
     * changes again from the checkpoint ({@code EpochPart}), so that is no failure.
     */
    private void commitOrLeaveToWriters(long epoch, byte[] primary, long startTs) {
        TxnClient.Status status = txn.status(primary, startTs);
        if (!status.locked && !status.committed()) {
            LOG.info(
                    "TiKV sink into {}: epoch {} was {} while the job was down; its writers write"
                            + " it again",
                    config.qualifiedTable(),
                    epoch,
                    status);
            return;
        }
        commitUnlessSchemaChanged(epoch, primary, startTs);
    }

    /**
     * @param atEnd at the job's end, where rolling back the epoch no checkpoint holds is routine
     *     (every bounded job ends with one, empty, after its final checkpoint): logged at DEBUG
     */
    private void rollback(long epoch, byte[] primary, long startTs, boolean atEnd) {
        long committedAt = txn.rollbackPrimary(primary, startTs);
        if (committedAt != 0) {
            LOG.info(
                    "TiKV sink into {}: epoch {} was committed already (at {})",
                    config.qualifiedTable(),
                    epoch,
                    committedAt);
            return;
        }
        metrics.rolledBack();
        if (atEnd) {
            LOG.debug(
                    "TiKV sink into {}: epoch {}, held by no checkpoint at the job's end, rolled"
                            + " back",
                    config.qualifiedTable(),
                    epoch);
        } else {
            LOG.info("TiKV sink into {}: epoch {} rolled back", config.qualifiedTable(), epoch);
        }
        // Its secondaries: readers roll them back when they meet them, but need not meet them.
        try {
            txn.resolveRange(table().keyPrefix(), table().keyEnd(), startTs, 0);
            if (progress != null) {
                progress.resolve(startTs, 0);
            }
        } catch (RuntimeException e) {
            LOG.warn(
                    "TiKV sink into {}: rolling back the locks of epoch {} failed",
                    config.qualifiedTable(),
                    epoch,
                    e);
        }
    }

    /** Holds GC at the oldest open epoch's start ts: what open epochs read must not go. */
    private void holdGc() {
        long oldest = oldestOpenStartTs();
        if (oldest != Long.MAX_VALUE) {
            GcSafePoint.hold(txn.session(), gcServiceId(), gcTtl(), oldest);
        }
    }

    /** The start ts of the oldest open transaction (epoch or restore), or Long.MAX_VALUE. */
    private long oldestOpenStartTs() {
        long oldest = restorePrimary != null ? restoreStartTs : Long.MAX_VALUE;
        for (long startTs : open.values()) {
            oldest = Math.min(oldest, startTs);
        }
        return oldest;
    }

    private String gcServiceId() {
        return "tiflink-sink-" + config.sinkId();
    }

    private Duration gcTtl() {
        return Duration.ofSeconds(Math.max(60, config.lockTtl().getSeconds()));
    }

    private void forget(long epoch) {
        open.remove(epoch);
        restartedPrimaries.remove(epoch);
    }

    private byte[] primary(long epoch) {
        byte[] restarted = restartedPrimaries.get(epoch);
        if (restarted != null) {
            return restarted;
        }
        return EpochKeys.primary(config.sinkId(), epoch);
    }

    @Override
    public void close() throws Exception {
        txn.close();
    }
}
