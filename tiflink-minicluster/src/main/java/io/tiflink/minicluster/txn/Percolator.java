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

    public Percolator(MvccStore store) {
        this.store = store;
    }

    public MvccStore store() {
        return store;
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

    /** The value at the read's timestamp, or null; throws a locked KeyError if a lock blocks it. */
    public byte[] get(byte[] key, ReadContext read) {
        Lock lock = store.lock(key);
        if (lock != null && blocksRead(lock, key, read)) {
            throw KeyErrorException.locked(lock.toLockInfo(key));
        }
        return store.get(key, read.ts);
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
        if (req.getUseAsyncCommit() || req.getTryOnePc()) {
            return Kvrpcpb.PrewriteResponse.newBuilder()
                    .addErrors(
                            KeyErrorException.abort(
                                            "async commit and 1PC are not supported by"
                                                    + " tiflink-minicluster")
                                    .keyError())
                    .build();
        }
        long startTs = req.getStartVersion();
        byte[] primary = req.getPrimaryLock().toByteArray();
        return store.write(
                (s, batch) -> {
                    Kvrpcpb.PrewriteResponse.Builder resp = Kvrpcpb.PrewriteResponse.newBuilder();
                    for (Kvrpcpb.Mutation m : req.getMutationsList()) {
                        byte[] key = m.getKey().toByteArray();
                        try {
                            prewriteKey(s, batch, m, key, primary, startTs, req);
                        } catch (KeyErrorException e) {
                            if (isCommitted(s, key, startTs)) {
                                // A retried prewrite of a committed txn succeeds and writes
                                // nothing.
                                batch.clear();
                                return Kvrpcpb.PrewriteResponse.getDefaultInstance();
                            }
                            if (!e.keyError().hasLocked()) {
                                batch.clear();
                                return resp.clearErrors().addErrors(e.keyError()).build();
                            }
                            resp.addErrors(e.keyError());
                        }
                    }
                    if (resp.getErrorsCount() > 0) {
                        batch.clear();
                    }
                    return resp.build();
                });
    }

    private static boolean isCommitted(MvccStore s, byte[] key, long startTs) {
        Write record = s.txnRecord(key, startTs);
        return record != null && record.type != Write.Type.ROLLBACK;
    }

    private static void prewriteKey(
            MvccStore s,
            List<Modify> batch,
            Kvrpcpb.Mutation m,
            byte[] key,
            byte[] primary,
            long startTs,
            Kvrpcpb.PrewriteRequest req) {
        Lock existing = s.lock(key);
        if (existing != null) {
            if (existing.startTs != startTs) {
                throw KeyErrorException.locked(existing.toLockInfo(key));
            }
            return; // duplicated prewrite
        }
        Write[] versions = s.versions(key);
        if (!req.getSkipConstraintCheck() && versions.length > 0) {
            Write newest = versions[0];
            if (newest.commitTs > startTs) {
                throw writeConflict(key, primary, startTs, newest, "Optimistic");
            }
            if (newest.commitTs == startTs
                    && (newest.type == Write.Type.ROLLBACK || newest.overlappedRollback)) {
                throw writeConflict(key, primary, startTs, newest, "SelfRolledBack");
            }
        }
        Kvrpcpb.Op op = m.getOp();
        if (op == Kvrpcpb.Op.Insert || op == Kvrpcpb.Op.CheckNotExists) {
            Write latest = MvccStore.latestDataChange(versions, TimeStamps.MAX);
            if (latest != null && latest.type == Write.Type.PUT) {
                throw new KeyErrorException(
                        Kvrpcpb.KeyError.newBuilder()
                                .setAlreadyExist(
                                        Kvrpcpb.AlreadyExist.newBuilder().setKey(m.getKey()))
                                .build());
            }
            if (op == Kvrpcpb.Op.CheckNotExists) {
                return;
            }
        }
        Kvrpcpb.Op lockType;
        switch (op) {
            case Put:
            case Insert:
                lockType = Kvrpcpb.Op.Put;
                break;
            case Del:
                lockType = Kvrpcpb.Op.Del;
                break;
            case Lock:
                lockType = Kvrpcpb.Op.Lock;
                break;
            default:
                throw KeyErrorException.abort("unsupported mutation op " + op);
        }
        byte[] shortValue = null;
        if (lockType == Kvrpcpb.Op.Put) {
            byte[] value = m.getValue().toByteArray();
            if (value.length <= MvccStore.SHORT_VALUE_MAX_LEN) {
                shortValue = value;
            } else {
                batch.add(Modify.putDefault(key, startTs, value));
            }
        }
        Lock lock =
                new Lock(
                        lockType,
                        primary,
                        startTs,
                        req.getLockTtl(),
                        shortValue,
                        0,
                        req.getTxnSize(),
                        req.getMinCommitTs(),
                        false,
                        List.of());
        batch.add(Modify.putLock(key, lock));
    }

    private static KeyErrorException writeConflict(
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
            if (lock.isPessimistic()) {
                throw KeyErrorException.abort(
                        "PessimisticLockNotFound: cannot commit an unprewritten pessimistic lock");
            }
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
            Write.Type type =
                    lock.type == Kvrpcpb.Op.Put
                            ? Write.Type.PUT
                            : lock.type == Kvrpcpb.Op.Del ? Write.Type.DELETE : Write.Type.LOCK;
            Write atCommitTs = s.seekWrite(key, commitTs);
            boolean overlapsRollback =
                    atCommitTs != null
                            && atCommitTs.commitTs == commitTs
                            && atCommitTs.type == Write.Type.ROLLBACK;
            batch.add(
                    Modify.putWrite(
                            key,
                            new Write(type, startTs, commitTs, lock.shortValue, overlapsRollback)));
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
    private static void rollbackKey(
            MvccStore s, List<Modify> batch, byte[] key, long startTs, Lock lock) {
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

    public Kvrpcpb.CheckTxnStatusResponse checkTxnStatus(Kvrpcpb.CheckTxnStatusRequest req) {
        byte[] primary = req.getPrimaryKey().toByteArray();
        long lockTs = req.getLockTs();
        long callerStartTs = TimeStamps.fromWire(req.getCallerStartTs());
        long currentTs = TimeStamps.fromWire(req.getCurrentTs());
        try {
            return store.write(
                    (s, batch) -> {
                        Kvrpcpb.CheckTxnStatusResponse.Builder resp =
                                Kvrpcpb.CheckTxnStatusResponse.newBuilder();
                        Lock lock = s.lock(primary);
                        if (lock != null && lock.startTs == lockTs) {
                            if (lock.isExpired(currentTs)) {
                                rollbackKey(s, batch, primary, lockTs, lock);
                                return resp.setAction(
                                                lock.isPessimistic()
                                                        ? Kvrpcpb.Action
                                                                .TTLExpirePessimisticRollback
                                                        : Kvrpcpb.Action.TTLExpireRollback)
                                        .build();
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
                                    .setAction(
                                            pushed
                                                    ? Kvrpcpb.Action.MinCommitTSPushed
                                                    : Kvrpcpb.Action.NoAction)
                                    .setLockInfo(lock.toLockInfo(primary))
                                    .build();
                        }
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
                        rollbackKey(s, batch, primary, lockTs, null);
                        return resp.setAction(Kvrpcpb.Action.LockNotExistRollback).build();
                    });
        } catch (KeyErrorException e) {
            return Kvrpcpb.CheckTxnStatusResponse.newBuilder().setError(e.keyError()).build();
        }
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
