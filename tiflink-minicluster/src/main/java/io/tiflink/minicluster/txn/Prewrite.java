package io.tiflink.minicluster.txn;

import io.tiflink.minicluster.codec.KeyCodec;
import io.tiflink.minicluster.codec.TxnSource;
import io.tiflink.minicluster.storage.Lock;
import io.tiflink.minicluster.storage.Modify;
import io.tiflink.minicluster.storage.MvccStore;
import io.tiflink.minicluster.storage.Write;

import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One prewrite request as TiKV v6.5 runs it ({@code commands/prewrite.rs}, {@code
 * actions/prewrite.rs}), under the engine latch: optimistic or pessimistic ({@code for_update_ts} ≠
 * 0), committed later by 2PC, by async commit ({@code use_async_commit}) or right away by 1PC
 * ({@code try_one_pc}).
 *
 * <p>Async commit and 1PC take their commit ts here: above the store's max_ts, the txn's start and
 * for_update ts, and the request's min_commit_ts. Past {@code max_commit_ts} the request falls back
 * to 2PC from that key on, and answers {@code min_commit_ts = 0} and {@code one_pc_commit_ts = 0}
 * so that the client commits with a TSO.
 */
final class Prewrite {
    /** {@code max_commit_ts} would be exceeded (TiKV's CommitTsTooLarge, never sent to clients). */
    private static final class CommitTsTooLarge extends RuntimeException {
        CommitTsTooLarge() {
            super(null, null, false, false);
        }
    }

    /** A lock a 1PC txn would leave, and the txn's pessimistic lock it replaces (or null). */
    private static final class OnePcLock {
        final byte[] key;
        final Lock lock;
        final Lock pessimisticLock;

        OnePcLock(byte[] key, Lock lock, Lock pessimisticLock) {
            this.key = key;
            this.lock = lock;
            this.pessimisticLock = pessimisticLock;
        }
    }

    private final Kvrpcpb.PrewriteRequest req;
    private final MvccStore s;
    private final List<Modify> batch;
    private final ConcurrencyManager cm;
    private final List<byte[]> memoryLocked;
    private final byte[] primary;
    private final long startTs;
    private final long forUpdateTs;
    private final long txnSource;

    private boolean asyncCommit;
    private boolean onePc;
    private long finalMinCommitTs;
    private final List<OnePcLock> onePcLocks = new ArrayList<>();

    /**
     * {@code memoryLocked} collects the keys this request holds in memory; the caller releases them
     * once the batch is applied.
     */
    Prewrite(
            Kvrpcpb.PrewriteRequest req,
            MvccStore s,
            List<Modify> batch,
            ConcurrencyManager cm,
            List<byte[]> memoryLocked) {
        this.req = req;
        this.s = s;
        this.batch = batch;
        this.cm = cm;
        this.memoryLocked = memoryLocked;
        this.primary = req.getPrimaryLock().toByteArray();
        this.startTs = req.getStartVersion();
        this.forUpdateTs = req.getForUpdateTs();
        this.txnSource = TxnSource.of(req.getContext());
        this.asyncCommit = req.getUseAsyncCommit();
        this.onePc = req.getTryOnePc();
    }

    Kvrpcpb.PrewriteResponse run() {
        List<Kvrpcpb.KeyError> locked = new ArrayList<>();
        for (int i = 0; i < req.getMutationsCount(); i++) {
            Kvrpcpb.Mutation m = req.getMutations(i);
            byte[] key = m.getKey().toByteArray();
            try {
                long minCommitTs = prewriteKey(m, key, isPessimisticLock(i));
                if (asyncCommit || onePc) {
                    if (minCommitTs == 0) {
                        fallBackTo2pc(); // the key was prewritten before, as 2PC
                    } else {
                        finalMinCommitTs = Math.max(finalMinCommitTs, minCommitTs);
                    }
                }
            } catch (CommitTsTooLarge e) {
                long commitTs = committedAt(key);
                if (commitTs != 0) {
                    return alreadyCommitted(commitTs);
                }
                fallBackTo2pc();
            } catch (KeyErrorException e) {
                long commitTs = committedAt(key);
                if (commitTs != 0) {
                    return alreadyCommitted(commitTs);
                }
                if (!e.keyError().hasLocked()) {
                    batch.clear();
                    return Kvrpcpb.PrewriteResponse.newBuilder().addErrors(e.keyError()).build();
                }
                locked.add(e.keyError());
            }
        }
        Kvrpcpb.PrewriteResponse.Builder resp =
                Kvrpcpb.PrewriteResponse.newBuilder()
                        .setMinCommitTs(asyncCommit ? finalMinCommitTs : 0);
        if (!locked.isEmpty()) {
            batch.clear();
            return resp.addAllErrors(locked).build();
        }
        if (onePc) {
            for (OnePcLock l : onePcLocks) {
                batch.add(
                        Modify.putOnePcWrite(
                                l.key, Write.committing(l.lock, finalMinCommitTs, false)));
                if (l.pessimisticLock != null) {
                    batch.add(Modify.deleteLock(l.key, l.pessimisticLock));
                }
            }
            resp.setOnePcCommitTs(finalMinCommitTs);
        }
        return resp.build();
    }

    /**
     * A retried prewrite of a txn that has committed succeeds, writes nothing and answers with the
     * commit ts where the request expects one.
     */
    private Kvrpcpb.PrewriteResponse alreadyCommitted(long commitTs) {
        batch.clear();
        return Kvrpcpb.PrewriteResponse.newBuilder()
                .setMinCommitTs(asyncCommit ? commitTs : 0)
                .setOnePcCommitTs(onePc ? commitTs : 0)
                .build();
    }

    private long committedAt(byte[] key) {
        Write record = s.txnRecord(key, startTs);
        return record == null || record.type == Write.Type.ROLLBACK ? 0 : record.commitTs;
    }

    /** The rest of the request is prewritten as 2PC; a 1PC txn's locks are written as locks. */
    private void fallBackTo2pc() {
        asyncCommit = false;
        onePc = false;
        finalMinCommitTs = 0;
        for (OnePcLock l : onePcLocks) {
            batch.add(Modify.putLock(l.key, l.lock));
        }
        onePcLocks.clear();
    }

    private boolean pessimistic() {
        return forUpdateTs != 0;
    }

    /** The bundled kvproto's {@code is_pessimistic_lock} (later kvproto: pessimistic_actions). */
    private boolean isPessimisticLock(int i) {
        return pessimistic() && i < req.getIsPessimisticLockCount() && req.getIsPessimisticLock(i);
    }

    /**
     * Prewrites one key; returns its min_commit_ts under async commit or 1PC (0 when the key was
     * already prewritten as 2PC), else 0.
     */
    private long prewriteKey(Kvrpcpb.Mutation m, byte[] key, boolean isPessimisticLock) {
        Kvrpcpb.Op op = m.getOp();
        boolean shouldNotExist = op == Kvrpcpb.Op.Insert || op == Kvrpcpb.Op.CheckNotExists;
        if (pessimistic() && op == Kvrpcpb.Op.CheckNotExists) {
            throw KeyErrorException.abort("cannot handle checkNotExists in pessimistic prewrite");
        }
        if (shouldNotExist) {
            cm.updateMaxTs(startTs); // a read of the key
        }
        long ttl = req.getLockTtl();
        long minCommitTs = req.getMinCommitTs();
        Lock pessimisticLock = null;
        Lock existing = s.lock(key);
        Write[] versions = s.versions(key);
        if (existing != null) {
            if (existing.startTs != startTs) {
                if (isPessimisticLock) {
                    throw pessimisticLockNotFound(key);
                }
                Kvrpcpb.LockInfo info = existing.toLockInfo(key);
                // A pessimistic txn's other locks are resolved at once: its rows are locked.
                throw KeyErrorException.locked(
                        pessimistic() ? info.toBuilder().setLockTtl(0).build() : info);
            }
            if (!existing.isPessimistic()) {
                return existing.useAsyncCommit ? existing.minCommitTs : 0; // duplicated
            }
            if (!pessimistic()) {
                throw KeyErrorException.abort(
                        String.format(
                                "LockTypeNotMatch { start_ts: %d, key: %s, pessimistic: true }",
                                startTs, KeyCodec.toHex(key)));
            }
            // The pessimistic lock's ttl and min_commit_ts may have been pushed meanwhile.
            ttl = Math.max(ttl, existing.ttl);
            minCommitTs = Math.max(minCommitTs, existing.minCommitTs);
            pessimisticLock = existing;
        } else if (isPessimisticLock && versions.length > 0 && versions[0].commitTs >= startTs) {
            // TiKV amends a lost pessimistic lock only if nothing was committed since start_ts.
            throw pessimisticLockNotFound(key);
        }
        if (!skipConstraintCheck(isPessimisticLock)) {
            checkForNewerVersion(key, versions, shouldNotExist);
        }
        if (op == Kvrpcpb.Op.CheckNotExists) {
            return asyncCommit || onePc ? Math.max(minCommitTs, startTs + 1) : 0;
        }
        Kvrpcpb.Op type = lockType(op);
        byte[] shortValue = null;
        if (type == Kvrpcpb.Op.Put) {
            byte[] value = m.getValue().toByteArray();
            if (value.length <= MvccStore.SHORT_VALUE_MAX_LEN) {
                shortValue = value;
            } else {
                batch.add(Modify.putDefault(key, startTs, value));
            }
        }
        Lock lock2pc = newLock(type, ttl, shortValue, minCommitTs, false, List.of());
        if (!asyncCommit && !onePc) {
            batch.add(Modify.putLock(key, lock2pc));
            return 0;
        }
        Lock lock;
        try {
            lock =
                    withCommitTs(
                            key,
                            asyncCommit
                                    ? newLock(
                                            type,
                                            ttl,
                                            shortValue,
                                            minCommitTs,
                                            true,
                                            secondariesOf(key))
                                    : lock2pc);
        } catch (CommitTsTooLarge e) {
            batch.add(Modify.putLock(key, lock2pc));
            throw e;
        }
        if (onePc) {
            onePcLocks.add(new OnePcLock(key, lock, pessimisticLock));
        } else {
            batch.add(Modify.putLock(key, lock));
        }
        return lock.minCommitTs;
    }

    /** Only the primary's lock lists the secondaries; the others are async-commit locks too. */
    private List<byte[]> secondariesOf(byte[] key) {
        if (!Arrays.equals(key, primary)) {
            return List.of();
        }
        List<byte[]> secondaries = new ArrayList<>(req.getSecondariesCount());
        for (ByteString k : req.getSecondariesList()) {
            secondaries.add(k.toByteArray());
        }
        return secondaries;
    }

    /**
     * TiKV's {@code async_commit_timestamps}: the memory lock is published before max_ts is read,
     * so a read either raised max_ts already or sees the lock (see {@link ConcurrencyManager}).
     */
    private Lock withCommitTs(byte[] key, Lock lock) {
        cm.putMemoryLock(key, lock);
        memoryLocked.add(key);
        long minCommitTs =
                Math.max(
                        Math.max(Math.max(cm.maxTs(), startTs), forUpdateTs) + 1, lock.minCommitTs);
        long maxCommitTs = req.getMaxCommitTs();
        if (maxCommitTs != 0 && minCommitTs > maxCommitTs) {
            throw new CommitTsTooLarge();
        }
        Lock result = lock.withMinCommitTs(minCommitTs);
        cm.putMemoryLock(key, result);
        return result;
    }

    /**
     * TiKV's {@code check_for_newer_version}: a write newer than the txn (optimistic) or than its
     * for_update_ts (pessimistic; rollbacks there do not count), its own rollback, and the key's
     * existence for Insert.
     */
    private void checkForNewerVersion(byte[] key, Write[] versions, boolean shouldNotExist) {
        for (Write w : versions) {
            if (w.commitTs == startTs && (w.type == Write.Type.ROLLBACK || w.overlappedRollback)) {
                throw Percolator.writeConflict(key, primary, startTs, w, "SelfRolledBack");
            }
            if (!pessimistic()) {
                if (w.commitTs > startTs) {
                    throw Percolator.writeConflict(key, primary, startTs, w, "Optimistic");
                }
            } else if (w.commitTs > forUpdateTs) {
                if (w.type == Write.Type.ROLLBACK) {
                    continue;
                }
                throw pessimisticLockNotFound(key);
            }
            break;
        }
        if (shouldNotExist) {
            Write latest = MvccStore.latestDataChange(versions, Long.MAX_VALUE);
            if (latest != null && latest.type == Write.Type.PUT) {
                throw KeyErrorException.alreadyExist(key);
            }
        }
    }

    /**
     * Optimistic: as the request asks. Pessimistic: a locked key was checked when it was locked;
     * the others are checked only when the request is a retry (TiKV issue 11187).
     */
    private boolean skipConstraintCheck(boolean isPessimisticLock) {
        if (!pessimistic()) {
            return req.getSkipConstraintCheck();
        }
        return isPessimisticLock || !req.getContext().getIsRetryRequest();
    }

    private static Kvrpcpb.Op lockType(Kvrpcpb.Op op) {
        switch (op) {
            case Put:
            case Insert:
                return Kvrpcpb.Op.Put;
            case Del:
                return Kvrpcpb.Op.Del;
            case Lock:
                return Kvrpcpb.Op.Lock;
            default:
                throw KeyErrorException.abort("unsupported mutation op " + op);
        }
    }

    private Lock newLock(
            Kvrpcpb.Op type,
            long ttl,
            byte[] shortValue,
            long minCommitTs,
            boolean useAsyncCommit,
            List<byte[]> secondaries) {
        return new Lock(
                type,
                primary,
                startTs,
                ttl,
                shortValue,
                forUpdateTs,
                req.getTxnSize(),
                minCommitTs,
                useAsyncCommit,
                secondaries,
                txnSource);
    }

    private KeyErrorException pessimisticLockNotFound(byte[] key) {
        return KeyErrorException.abort(
                String.format(
                        "PessimisticLockNotFound { start_ts: %d, key: %s }",
                        startTs, KeyCodec.toHex(key)));
    }
}
