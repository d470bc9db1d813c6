package io.tiflink.minicluster.txn;

import io.tiflink.minicluster.storage.Lock;
import io.tiflink.minicluster.storage.Modify;
import io.tiflink.minicluster.storage.MvccStore;
import io.tiflink.minicluster.storage.Write;

import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import java.util.List;

/**
 * TiKV's {@code commands/check_secondary_locks.rs}: how far an async-commit txn got on its
 * secondaries. Per key: its lock (the txn may still commit), its commit ts (it did: stop), or a
 * rollback, written when nothing of the txn is on the key so that a late prewrite cannot land. The
 * client commits the txn at the largest min_commit_ts if every key is still locked, and rolls it
 * back otherwise.
 */
final class CheckSecondaryLocks {
    private CheckSecondaryLocks() {}

    static Kvrpcpb.CheckSecondaryLocksResponse run(
            MvccStore s, List<Modify> batch, Kvrpcpb.CheckSecondaryLocksRequest req) {
        long startTs = req.getStartVersion();
        Kvrpcpb.CheckSecondaryLocksResponse.Builder resp =
                Kvrpcpb.CheckSecondaryLocksResponse.newBuilder();
        for (ByteString k : req.getKeysList()) {
            byte[] key = k.toByteArray();
            Lock lock = s.lock(key);
            if (lock != null && lock.startTs == startTs) {
                if (!lock.isPessimistic()) {
                    resp.addLocks(lock.toLockInfo(key));
                    continue;
                }
                // Only locked, never prewritten: the txn cannot have committed.
                Percolator.rollbackKey(s, batch, key, startTs, lock);
                return resp.clearLocks().build();
            }
            Write record = s.txnRecord(key, startTs);
            if (record != null && record.type != Write.Type.ROLLBACK) {
                return resp.clearLocks().setCommitTs(record.commitTs).build();
            }
            if (record == null) {
                Percolator.rollbackKey(s, batch, key, startTs, null);
            }
            return resp.clearLocks().build();
        }
        return resp.build();
    }
}
