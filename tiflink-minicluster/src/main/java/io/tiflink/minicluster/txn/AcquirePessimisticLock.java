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
import java.util.List;

/**
 * TiKV v6.5's KvPessimisticLock ({@code actions/acquire_pessimistic_lock.rs}, legacy wake-up mode):
 * a pessimistic txn locks the keys it will write, at its for_update_ts, before it prewrites them. A
 * pessimistic lock carries no value: readers and CDC ignore it, and it holds no resolved ts.
 *
 * <p>The request fails as a whole on the first error and locks nothing. A key locked by another txn
 * is {@code KeyIsLocked} at once: the minicluster has no lock waiting, as if every {@code
 * wait_timeout} had expired.
 */
final class AcquirePessimisticLock {
    private final Kvrpcpb.PessimisticLockRequest req;
    private final MvccStore s;
    private final List<Modify> batch;
    private final ConcurrencyManager cm;
    private final long startTs;
    private final long forUpdateTs;

    AcquirePessimisticLock(
            Kvrpcpb.PessimisticLockRequest req,
            MvccStore s,
            List<Modify> batch,
            ConcurrencyManager cm) {
        this.req = req;
        this.s = s;
        this.batch = batch;
        this.cm = cm;
        this.startTs = req.getStartVersion();
        this.forUpdateTs = req.getForUpdateTs();
    }

    Kvrpcpb.PessimisticLockResponse run() {
        List<byte[]> values = new ArrayList<>();
        try {
            for (Kvrpcpb.Mutation m : req.getMutationsList()) {
                if (m.getOp() != Kvrpcpb.Op.PessimisticLock) {
                    throw KeyErrorException.abort("mismatch Op in pessimistic lock mutations");
                }
                values.add(
                        lockKey(
                                m.getKey().toByteArray(),
                                m.getAssertion() == Kvrpcpb.Assertion.NotExist));
            }
        } catch (KeyErrorException e) {
            batch.clear();
            return Kvrpcpb.PessimisticLockResponse.newBuilder().addErrors(e.keyError()).build();
        }
        // The legacy response: values and not_founds with return_values, not_founds alone with
        // check_existence, else nothing.
        Kvrpcpb.PessimisticLockResponse.Builder resp = Kvrpcpb.PessimisticLockResponse.newBuilder();
        if (req.getReturnValues() || req.getCheckExistence()) {
            for (byte[] v : values) {
                if (req.getReturnValues()) {
                    resp.addValues(v == null ? ByteString.EMPTY : ByteString.copyFrom(v));
                }
                resp.addNotFounds(v == null);
            }
        }
        return resp.build();
    }

    /** Locks one key; returns its value at for_update_ts when one is asked for, else null. */
    private byte[] lockKey(byte[] key, boolean shouldNotExist) {
        boolean needValue = req.getReturnValues() || req.getCheckExistence();
        if (shouldNotExist || needValue) {
            cm.updateMaxTs(forUpdateTs); // a read of the key
        }
        Lock lock = s.lock(key);
        if (lock != null) {
            if (lock.startTs != startTs) {
                throw KeyErrorException.locked(lock.toLockInfo(key));
            }
            if (!lock.isPessimistic()) {
                throw KeyErrorException.abort(
                        String.format(
                                "LockTypeNotMatch { start_ts: %d, key: %s, pessimistic: false }",
                                startTs, KeyCodec.toHex(key)));
            }
            byte[] value = checkedValue(key, s.versions(key), shouldNotExist, forUpdateTs);
            if (forUpdateTs > lock.forUpdateTs) {
                batch.add(Modify.putLock(key, pessimisticLock()));
            }
            return value;
        }
        Write[] versions = s.versions(key);
        if (versions.length > 0) {
            Write newest = versions[0];
            // Pessimistic txns read committed at for_update_ts: a newer commit means a retry.
            if (newest.commitTs > forUpdateTs) {
                throw Percolator.writeConflict(
                        key,
                        req.getPrimaryLock().toByteArray(),
                        startTs,
                        newest,
                        "PessimisticRetry");
            }
            Write atStartTs = s.seekWrite(key, startTs);
            if (atStartTs != null
                    && atStartTs.commitTs == startTs
                    && (atStartTs.type == Write.Type.ROLLBACK || atStartTs.overlappedRollback)) {
                throw KeyErrorException.abort(
                        String.format(
                                "PessimisticLockRolledBack { start_ts: %d, key: %s }",
                                startTs, KeyCodec.toHex(key)));
            }
        }
        byte[] value = checkedValue(key, versions, shouldNotExist, TimeStamps.MAX);
        batch.add(Modify.putLock(key, pessimisticLock()));
        return value;
    }

    /** The key's value at {@code ts}; AlreadyExist if it has one and should not. */
    private byte[] checkedValue(byte[] key, Write[] versions, boolean shouldNotExist, long ts) {
        Write latest = MvccStore.latestDataChange(versions, ts);
        if (latest == null || latest.type != Write.Type.PUT) {
            return null;
        }
        if (shouldNotExist) {
            throw KeyErrorException.alreadyExist(key);
        }
        return s.value(key, latest);
    }

    private Lock pessimisticLock() {
        return new Lock(
                Kvrpcpb.Op.PessimisticLock,
                req.getPrimaryLock().toByteArray(),
                startTs,
                req.getLockTtl(),
                null,
                forUpdateTs,
                0,
                req.getMinCommitTs(),
                false,
                List.of(),
                0);
    }
}
