package io.tiflink.minicluster.txn;

import io.tiflink.minicluster.codec.KeyCodec;
import io.tiflink.minicluster.storage.Lock;
import io.tiflink.minicluster.storage.Modify;
import io.tiflink.minicluster.storage.MvccStore;
import io.tiflink.minicluster.storage.TimeStamps;
import io.tiflink.minicluster.storage.Write;

import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * TiKV's transactional commands over an {@link MvccStore}: Percolator prewrite and commit, lock
 * resolution (CheckTxnStatus, ResolveLock, Cleanup, rollbacks, heartbeats) and snapshot-isolation
 * reads. Requests and responses are kvrpcpb messages minus the region checks, which the gRPC layer
 * does first; errors come back the way TiKV reports them ({@code src/storage/errors.rs}).
 */
public final class Percolator {
    private final MvccStore store;
    private final ConcurrencyManager cm = new ConcurrencyManager();

    public Percolator(MvccStore store) {
        this.store = store;
    }

    public MvccStore store() {
        return store;
    }

    /** The store's max_ts and in-memory locks (CDC raises max_ts with each resolved-ts TSO). */
    public ConcurrencyManager concurrencyManager() {
        return cm;
    }

    // ------------------------------------------------------------------------------------------
    // Reads

    /** A read's view: its timestamp, the locks it may bypass, and its isolation level. */
    public static final class ReadContext {
        final long ts;
        final Set<Long> bypassLocks;
        final boolean readCommitted;

        public ReadContext(long ts, Set<Long> bypassLocks, boolean readCommitted) {
            this.ts = TimeStamps.fromWire(ts);
            this.bypassLocks = bypassLocks;
            this.readCommitted = readCommitted;
        }

        public static ReadContext of(long ts, Kvrpcpb.Context ctx) {
            Set<Long> bypass = new HashSet<>(ctx.getResolvedLocksList());
            return new ReadContext(
                    ts, bypass, ctx.getIsolationLevel() == Kvrpcpb.IsolationLevel.RC);
        }
    }

    /** TiKV's {@code Lock::check_ts_conflict_si}: whether {@code lock} hides the key at ts. */
    static boolean blocksRead(Lock lock, byte[] key, ReadContext read) {
        if (read.readCommitted) {
            return false;
        }
        if (lock.startTs > read.ts
                || lock.type == Kvrpcpb.Op.Lock
                || lock.type == Kvrpcpb.Op.PessimisticLock) {
            return false;
        }
        if (lock.minCommitTs > read.ts || read.bypassLocks.contains(lock.startTs)) {
            return false;
        }
        // A point read of the latest version of a primary key ignores its own txn's lock.
        return !(TimeStamps.isMax(read.ts)
                && Arrays.equals(key, lock.primary)
                && !lock.useAsyncCommit);
    }

    /**
     * The value at the read's timestamp, or null; throws a locked KeyError if a lock blocks it. As
     * TiKV's reads, it raises max_ts and checks the locks of prewrites in flight first.
     */
    public byte[] get(byte[] key, ReadContext read) {
        cm.updateMaxTs(read.ts);
        checkLock(cm.memoryLock(key), key, read);
        checkLock(store.lock(key), key, read);
        return store.get(key, read.ts);
    }

    private static void checkLock(Lock lock, byte[] key, ReadContext read) {
        if (lock != null && blocksRead(lock, key, read)) {
            throw KeyErrorException.locked(lock.toLockInfo(key));
        }
    }

    public Kvrpcpb.GetResponse kvGet(Kvrpcpb.GetRequest req) {
        Kvrpcpb.GetResponse.Builder resp = Kvrpcpb.GetResponse.newBuilder();
        try {
            byte[] value =
                    get(
                            req.getKey().toByteArray(),
                            ReadContext.of(req.getVersion(), req.getContext()));
            if (value == null) {
                resp.setNotFound(true);
            } else {
                resp.setValue(ByteString.copyFrom(value));
            }
        } catch (KeyErrorException e) {
            resp.setError(e.keyError());
        }
        return resp.build();
    }

    public Kvrpcpb.BatchGetResponse kvBatchGet(Kvrpcpb.BatchGetRequest req) {
        ReadContext read = ReadContext.of(req.getVersion(), req.getContext());
        Kvrpcpb.BatchGetResponse.Builder resp = Kvrpcpb.BatchGetResponse.newBuilder();
        for (ByteString k : req.getKeysList()) {
            try {
                byte[] value = get(k.toByteArray(), read);
                if (value != null) {
                    resp.addPairs(
                            Kvrpcpb.KvPair.newBuilder()
                                    .setKey(k)
                                    .setValue(ByteString.copyFrom(value)));
                }
            } catch (KeyErrorException e) {
                resp.addPairs(Kvrpcpb.KvPair.newBuilder().setError(e.keyError()));
            }
        }
        return resp.build();
    }

    /**
     * Scans {@code [start, end)} (forward) or {@code [end, start)} backwards when {@code reverse},
     * returning at most {@code limit} entries; a locked key is an entry with an error and the scan
     * goes on past it, as TiKV's does.
     *
     * <p>The scan runs under the engine's write latch: TiKV scans a snapshot, and walking the live
     * lock and write maps side by side while a commit moves a key from one to the other (write put,
     * then lock deleted) could miss the key in both, although the commit is older than the read.
     */
    public List<Kvrpcpb.KvPair> scan(
            byte[] start,
            byte[] end,
            int limit,
            boolean keyOnly,
            boolean reverse,
            ReadContext read) {
        return store.underLatch(s -> scanSnapshot(start, end, limit, keyOnly, reverse, read));
    }

    private List<Kvrpcpb.KvPair> scanSnapshot(
            byte[] start,
            byte[] end,
            int limit,
            boolean keyOnly,
            boolean reverse,
            ReadContext read) {
        List<Kvrpcpb.KvPair> pairs = new ArrayList<>();
        Iterator<byte[]> keys = reverse ? store.keysDescending(end, start) : store.keys(start, end);
        while (pairs.size() < limit && keys.hasNext()) {
            byte[] key = keys.next();
            try {
                byte[] value = get(key, read);
                if (value != null) {
                    pairs.add(
                            Kvrpcpb.KvPair.newBuilder()
                                    .setKey(ByteString.copyFrom(key))
                                    .setValue(
                                            keyOnly ? ByteString.EMPTY : ByteString.copyFrom(value))
                                    .build());
                }
            } catch (KeyErrorException e) {
                pairs.add(Kvrpcpb.KvPair.newBuilder().setError(e.keyError()).build());
            }
        }
        return pairs;
    }

    /** Locks with start_ts at or below {@code maxVersion} in {@code [start, end)}. */
    public List<Kvrpcpb.LockInfo> scanLocks(byte[] start, byte[] end, long maxVersion, int limit) {
        List<Kvrpcpb.LockInfo> result = new ArrayList<>();
        for (Map.Entry<byte[], Lock> e : store.locks(start, end).entrySet()) {
            if (limit > 0 && result.size() >= limit) {
                break;
            }
            if (e.getValue().startTs <= maxVersion) {
                result.add(e.getValue().toLockInfo(e.getKey()));
            }
        }
        return result;
    }

    // ------------------------------------------------------------------------------------------
    // Prewrite and commit

    public Kvrpcpb.PrewriteResponse prewrite(Kvrpcpb.PrewriteRequest req) {
        List<byte[]> memoryLocked = new ArrayList<>();
        try {
            return store.write((s, batch) -> new Prewrite(req, s, batch, cm, memoryLocked).run());
        } finally {
            // The batch is applied: its locks (or 1PC records) are in the engine now.
            memoryLocked.forEach(cm::removeMemoryLock);
        }
    }

    private static boolean isCommitted(MvccStore s, byte[] key, long startTs) {
        Write record = s.txnRecord(key, startTs);
        return record != null && record.type != Write.Type.ROLLBACK;
    }

    static KeyErrorException writeConflict(
            byte[] key, byte[] primary, long startTs, Write conflict, String reason) {
        Kvrpcpb.WriteConflict wc =
                Kvrpcpb.WriteConflict.newBuilder()
                        .setStartTs(startTs)
                        .setConflictTs(conflict.startTs)
                        .setConflictCommitTs(conflict.commitTs)
                        .setKey(ByteString.copyFrom(key))
                        .setPrimary(ByteString.copyFrom(primary))
                        .build();
        String debug =
                String.format(
                        "WriteConflict { start_ts: %d, conflict_start_ts: %d, conflict_commit_ts: %d,"
                                + " key: %s, primary: %s, reason: %s }",
                        startTs,
                        conflict.startTs,
                        conflict.commitTs,
                        KeyCodec.toHex(key),
                        KeyCodec.toHex(primary),
                        reason);
        return new KeyErrorException(
                Kvrpcpb.KeyError.newBuilder().setConflict(wc).setRetryable(debug).build());
    }

    public Kvrpcpb.CommitResponse commit(Kvrpcpb.CommitRequest req) {
        long startTs = req.getStartVersion();
        long commitTs = req.getCommitVersion();
        if (commitTs <= startTs) {
            return Kvrpcpb.CommitResponse.newBuilder()
                    .setError(
                            KeyErrorException.abort(
                                            String.format(
                                                    "invalid transaction tso with start_ts:%d,"
                                                            + " commit_ts:%d",
                                                    startTs, commitTs))
                                    .keyError())
                    .build();
        }
        try {
            store.write(
                    (s, batch) -> {
                        for (ByteString k : req.getKeysList()) {
                            commitKey(s, batch, k.toByteArray(), startTs, commitTs);
                        }
                        return null;
                    });
        } catch (KeyErrorException e) {
            return Kvrpcpb.CommitResponse.newBuilder().setError(e.keyError()).build();
        }
        return Kvrpcpb.CommitResponse.newBuilder().setCommitVersion(commitTs).build();
    }

    /** TiKV's {@code actions::commit}. */
    private static void commitKey(
            MvccStore s, List<Modify> batch, byte[] key, long startTs, long commitTs) {
        Lock lock = s.lock(key);
        if (lock != null && lock.startTs == startTs) {
            // A pessimistic lock left behind (its rollback lost) commits as a Lock record.
            if (commitTs < lock.minCommitTs) {
                throw new KeyErrorException(
                        Kvrpcpb.KeyError.newBuilder()
                                .setCommitTsExpired(
                                        Kvrpcpb.CommitTsExpired.newBuilder()
                                                .setStartTs(startTs)
                                                .setAttemptedCommitTs(commitTs)
                                                .setKey(ByteString.copyFrom(key))
                                                .setMinCommitTs(lock.minCommitTs))
                                .build());
            }
            Write atCommitTs = s.seekWrite(key, commitTs);
            boolean overlapsRollback =
                    atCommitTs != null
                            && atCommitTs.commitTs == commitTs
                            && atCommitTs.type == Write.Type.ROLLBACK;
            batch.add(Modify.putWrite(key, Write.committing(lock, commitTs, overlapsRollback)));
            batch.add(Modify.deleteLock(key, lock));
            return;
        }
        if (isCommitted(s, key, startTs)) {
            return; // idempotent
        }
        throw KeyErrorException.retryable(
                String.format(
                        "TxnLockNotFound { start_ts: %d, commit_ts: %d, key: %s }",
                        startTs, commitTs, KeyCodec.toHex(key)));
    }

    // ------------------------------------------------------------------------------------------
    // Rollback and lock resolution

    /** Removes the txn's lock (if any) and leaves a rollback record at start_ts. */
    static void rollbackKey(MvccStore s, List<Modify> batch, byte[] key, long startTs, Lock lock) {
        if (lock != null) {
            if (lock.type == Kvrpcpb.Op.Put && lock.shortValue == null) {
                batch.add(Modify.deleteDefault(key, startTs));
            }
            batch.add(Modify.deleteLock(key, lock));
        }
        Write atStartTs = s.seekWrite(key, startTs);
        if (atStartTs != null && atStartTs.commitTs == startTs) {
            if (atStartTs.type != Write.Type.ROLLBACK && !atStartTs.overlappedRollback) {
                // Another txn committed at exactly our start_ts: keep its record, mark it.
                batch.add(Modify.markOverlappedRollback(key, atStartTs));
            }
            return;
        }
        batch.add(Modify.putWrite(key, Write.rollback(startTs)));
    }

    /**
     * TiKV's {@code actions::cleanup}: rolls the key back unless its lock is still alive at {@code
     * currentTs} (0 means roll back regardless). Returns the commit ts if the txn had already
     * committed on this key, else 0.
     */
    private static long cleanup(
            MvccStore s, List<Modify> batch, byte[] key, long startTs, long currentTs) {
        Lock lock = s.lock(key);
        if (lock != null && lock.startTs == startTs) {
            if (currentTs != 0 && !lock.isExpired(currentTs)) {
                throw KeyErrorException.locked(lock.toLockInfo(key));
            }
            rollbackKey(s, batch, key, startTs, lock);
            return 0;
        }
        Write record = s.txnRecord(key, startTs);
        if (record != null) {
            return record.type == Write.Type.ROLLBACK ? 0 : record.commitTs;
        }
        rollbackKey(s, batch, key, startTs, null);
        return 0;
    }

    private static KeyErrorException committed(byte[] key, long startTs, long commitTs) {
        return KeyErrorException.abort(
                String.format(
                        "Committed { start_ts: %d, commit_ts: %d, key: %s }",
                        startTs, commitTs, KeyCodec.toHex(key)));
    }

    public Kvrpcpb.CleanupResponse cleanup(Kvrpcpb.CleanupRequest req) {
        cm.updateMaxTs(req.getStartVersion());
        try {
            long commitTs =
                    store.write(
                            (s, batch) ->
                                    cleanup(
                                            s,
                                            batch,
                                            req.getKey().toByteArray(),
                                            req.getStartVersion(),
                                            TimeStamps.fromWire(req.getCurrentTs())));
            return Kvrpcpb.CleanupResponse.newBuilder().setCommitVersion(commitTs).build();
        } catch (KeyErrorException e) {
            return Kvrpcpb.CleanupResponse.newBuilder().setError(e.keyError()).build();
        }
    }

    public Kvrpcpb.BatchRollbackResponse batchRollback(Kvrpcpb.BatchRollbackRequest req) {
        long startTs = req.getStartVersion();
        try {
            store.write(
                    (s, batch) -> {
                        for (ByteString k : req.getKeysList()) {
                            byte[] key = k.toByteArray();
                            long commitTs = cleanup(s, batch, key, startTs, 0);
                            if (commitTs != 0) {
                                throw committed(key, startTs, commitTs);
                            }
                        }
                        return null;
                    });
            return Kvrpcpb.BatchRollbackResponse.getDefaultInstance();
        } catch (KeyErrorException e) {
            return Kvrpcpb.BatchRollbackResponse.newBuilder().setError(e.keyError()).build();
        }
    }

    public Kvrpcpb.PessimisticLockResponse pessimisticLock(Kvrpcpb.PessimisticLockRequest req) {
        return store.write((s, batch) -> new AcquirePessimisticLock(req, s, batch, cm).run());
    }

    public Kvrpcpb.CheckSecondaryLocksResponse checkSecondaryLocks(
            Kvrpcpb.CheckSecondaryLocksRequest req) {
        // A commit must not overwrite the rollbacks this may write.
        cm.updateMaxTs(req.getStartVersion());
        return store.write((s, batch) -> CheckSecondaryLocks.run(s, batch, req));
    }

    public Kvrpcpb.PessimisticRollbackResponse pessimisticRollback(
            Kvrpcpb.PessimisticRollbackRequest req) {
        long startTs = req.getStartVersion();
        long forUpdateTs = req.getForUpdateTs();
        store.write(
                (s, batch) -> {
                    for (ByteString k : req.getKeysList()) {
                        byte[] key = k.toByteArray();
                        Lock lock = s.lock(key);
                        if (lock != null
                                && lock.isPessimistic()
                                && lock.startTs == startTs
                                && lock.forUpdateTs <= forUpdateTs) {
                            batch.add(Modify.deleteLock(key, lock));
                        }
                    }
                    return null;
                });
        return Kvrpcpb.PessimisticRollbackResponse.getDefaultInstance();
    }

    /** TiKV's {@code commands/check_txn_status.rs} on the txn's primary key. */
    public Kvrpcpb.CheckTxnStatusResponse checkTxnStatus(Kvrpcpb.CheckTxnStatusRequest req) {
        byte[] primary = req.getPrimaryKey().toByteArray();
        long lockTs = req.getLockTs();
        long callerStartTs = TimeStamps.fromWire(req.getCallerStartTs());
        long currentTs = TimeStamps.fromWire(req.getCurrentTs());
        cm.updateMaxTs(lockTs);
        cm.updateMaxTs(currentTs);
        cm.updateMaxTs(callerStartTs);
        try {
            return store.write(
                    (s, batch) -> {
                        Lock lock = s.lock(primary);
                        if (lock != null && lock.startTs == lockTs) {
                            return lockedStatus(req, s, batch, primary, lock);
                        }
                        Kvrpcpb.CheckTxnStatusResponse.Builder resp =
                                Kvrpcpb.CheckTxnStatusResponse.newBuilder();
                        Write record = s.txnRecord(primary, lockTs);
                        if (record != null) {
                            if (record.type != Write.Type.ROLLBACK) {
                                resp.setCommitVersion(record.commitTs);
                            }
                            return resp.setAction(Kvrpcpb.Action.NoAction).build();
                        }
                        if (!req.getRollbackIfNotExist()) {
                            throw new KeyErrorException(
                                    Kvrpcpb.KeyError.newBuilder()
                                            .setTxnNotFound(
                                                    Kvrpcpb.TxnNotFound.newBuilder()
                                                            .setStartTs(lockTs)
                                                            .setPrimaryKey(req.getPrimaryKey()))
                                            .build());
                        }
                        if (req.getResolvingPessimisticLock()) {
                            return resp.setAction(Kvrpcpb.Action.LockNotExistDoNothing).build();
                        }
                        rollbackKey(s, batch, primary, lockTs, null);
                        return resp.setAction(Kvrpcpb.Action.LockNotExistRollback).build();
                    });
        } catch (KeyErrorException e) {
            return Kvrpcpb.CheckTxnStatusResponse.newBuilder().setError(e.keyError()).build();
        }
    }

    /** TiKV's {@code check_txn_status_lock_exists}. */
    private static Kvrpcpb.CheckTxnStatusResponse lockedStatus(
            Kvrpcpb.CheckTxnStatusRequest req,
            MvccStore s,
            List<Modify> batch,
            byte[] primary,
            Lock lock) {
        long callerStartTs = TimeStamps.fromWire(req.getCallerStartTs());
        long currentTs = TimeStamps.fromWire(req.getCurrentTs());
        Kvrpcpb.CheckTxnStatusResponse.Builder resp = Kvrpcpb.CheckTxnStatusResponse.newBuilder();
        // An async-commit txn may have committed although its primary is locked: its status is
        // decided from its secondaries (CheckSecondaryLocks), and ResolveLock settles it.
        if (lock.useAsyncCommit && !req.getForceSyncCommit()) {
            return resp.setLockTtl(lock.ttl)
                    .setAction(Kvrpcpb.Action.NoAction)
                    .setLockInfo(lock.toLockInfo(primary))
                    .build();
        }
        if (lock.isExpired(currentTs)) {
            if (req.getResolvingPessimisticLock() && lock.isPessimistic()) {
                // Only the pessimistic lock goes; no rollback record.
                batch.add(Modify.deleteLock(primary, lock));
                return resp.setAction(Kvrpcpb.Action.TTLExpirePessimisticRollback).build();
            }
            rollbackKey(s, batch, primary, lock.startTs, lock);
            return resp.setAction(Kvrpcpb.Action.TTLExpireRollback).build();
        }
        if (lock.minCommitTs != 0
                && !TimeStamps.isMax(callerStartTs)
                && callerStartTs >= lock.minCommitTs) {
            // Push min_commit_ts so the caller's read can skip this lock.
            lock = lock.withMinCommitTs(Math.max(callerStartTs + 1, currentTs));
            batch.add(Modify.putLock(primary, lock));
        }
        boolean pushed =
                (callerStartTs != 0 && lock.minCommitTs > callerStartTs)
                        || TimeStamps.isMax(callerStartTs);
        return resp.setLockTtl(lock.ttl)
                .setAction(pushed ? Kvrpcpb.Action.MinCommitTSPushed : Kvrpcpb.Action.NoAction)
                .setLockInfo(lock.toLockInfo(primary))
                .build();
    }

    /**
     * ResolveLock within {@code [regionStart, regionEnd)}: with keys, resolves exactly those keys;
     * without, every lock of the txn (or of each txn in {@code txn_infos}) in the region.
     */
    public Kvrpcpb.ResolveLockResponse resolveLock(
            Kvrpcpb.ResolveLockRequest req, byte[] regionStart, byte[] regionEnd) {
        // As TiKV's kv.rs: txn_infos only count when start_version is 0.
        Map<Long, Long> txnStatus = new HashMap<>();
        if (req.getStartVersion() > 0) {
            txnStatus.put(req.getStartVersion(), req.getCommitVersion());
        } else {
            for (Kvrpcpb.TxnInfo info : req.getTxnInfosList()) {
                txnStatus.put(info.getTxn(), info.getStatus());
            }
        }
        try {
            store.write(
                    (s, batch) -> {
                        if (req.getKeysCount() > 0) {
                            long startTs = req.getStartVersion();
                            for (ByteString k : req.getKeysList()) {
                                resolveKey(
                                        s, batch, k.toByteArray(), startTs, req.getCommitVersion());
                            }
                        } else {
                            for (Map.Entry<byte[], Lock> e :
                                    s.locks(regionStart, regionEnd).entrySet()) {
                                Long commitTs = txnStatus.get(e.getValue().startTs);
                                if (commitTs != null
                                        && commitTs != 0
                                        && commitTs <= e.getValue().startTs) {
                                    // TiKV commands/resolve_lock.rs: InvalidTxnTso.
                                    throw KeyErrorException.abort(
                                            String.format(
                                                    "invalid transaction tso with start_ts:%d,"
                                                            + " commit_ts:%d",
                                                    e.getValue().startTs, commitTs));
                                }
                                if (commitTs != null) {
                                    resolveKey(
                                            s, batch, e.getKey(), e.getValue().startTs, commitTs);
                                }
                            }
                        }
                        return null;
                    });
        } catch (KeyErrorException e) {
            return Kvrpcpb.ResolveLockResponse.newBuilder().setError(e.keyError()).build();
        }
        return Kvrpcpb.ResolveLockResponse.getDefaultInstance();
    }

    private static void resolveKey(
            MvccStore s, List<Modify> batch, byte[] key, long startTs, long commitTs) {
        if (commitTs > 0) {
            commitKey(s, batch, key, startTs, commitTs);
        } else {
            long committedAt = cleanup(s, batch, key, startTs, 0);
            if (committedAt != 0) {
                throw committed(key, startTs, committedAt);
            }
        }
    }

    public Kvrpcpb.TxnHeartBeatResponse txnHeartBeat(Kvrpcpb.TxnHeartBeatRequest req) {
        byte[] primary = req.getPrimaryLock().toByteArray();
        try {
            long ttl =
                    store.write(
                            (s, batch) -> {
                                Lock lock = s.lock(primary);
                                if (lock == null || lock.startTs != req.getStartVersion()) {
                                    throw new KeyErrorException(
                                            Kvrpcpb.KeyError.newBuilder()
                                                    .setTxnNotFound(
                                                            Kvrpcpb.TxnNotFound.newBuilder()
                                                                    .setStartTs(
                                                                            req.getStartVersion())
                                                                    .setPrimaryKey(
                                                                            req.getPrimaryLock()))
                                                    .build());
                                }
                                if (req.getAdviseLockTtl() > lock.ttl) {
                                    lock = lock.withTtl(req.getAdviseLockTtl());
                                    batch.add(Modify.putLock(primary, lock));
                                }
                                return lock.ttl;
                            });
            return Kvrpcpb.TxnHeartBeatResponse.newBuilder().setLockTtl(ttl).build();
        } catch (KeyErrorException e) {
            return Kvrpcpb.TxnHeartBeatResponse.newBuilder().setError(e.keyError()).build();
        }
    }
}
