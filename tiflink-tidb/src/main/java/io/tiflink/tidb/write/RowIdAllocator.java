package io.tiflink.tidb.write;

import io.tiflink.tidb.meta.MetaKeys;
import io.tiflink.tikv.ByteKey;
import io.tiflink.tikv.txn.TxnClient;
import io.tiflink.tikv.txn.WriteConflictException;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * TiDB's id allocator of a table ({@code pkg/meta/autoid}): the last id handed out is the meta hash
 * field {@code TID:<table id>} of {@code DB:<db id>}, a decimal integer, shared by {@code
 * _tidb_rowid} and AUTO_INCREMENT (unless {@code AUTO_ID_CACHE 1}). Ids are taken in batches, each
 * by a small transaction of its own that raises the field, as a TiDB server does; ids of a batch
 * that a failure leaves unused are skipped, as TiDB skips them. Values written explicitly into an
 * AUTO_INCREMENT column raise ("rebase") the field, so that TiDB never hands them out again.
 */
final class RowIdAllocator {
    private static final int BATCH = 1000;
    private static final int MAX_ATTEMPTS = 20;

    private final TxnClient txn;
    private final byte[] key;
    private final long lockTtl;

    /** The next id to hand out, and the end of the batch taken ({@code next == end}: none). */
    private long next;

    private long end;

    /** The highest id known to be taken in TiKV. */
    private long known;

    RowIdAllocator(TxnClient txn, long dbId, long tableId, long lockTtl) {
        this.txn = txn;
        this.key = MetaKeys.hashField(MetaKeys.dbKey(dbId), "TID:" + tableId);
        this.lockTtl = lockTtl;
    }

    /** A fresh id, above every id TiDB or this allocator handed out. */
    long next() {
        if (next >= end) {
            long base = raise(0, BATCH);
            next = base + 1;
            end = base + BATCH + 1;
        }
        return next++;
    }

    /** Makes sure ids up to {@code id} are never handed out (an explicit AUTO_INCREMENT value). */
    void rebase(long id) {
        if (id >= next && id < end) {
            next = id + 1; // within our batch: skip past it, as TiDB's allocator does
        } else if (id > known) {
            raise(id, 0);
        }
    }

    /**
     * Sets the field to {@code max(field, atLeast) + add} in a transaction of its own, retried on
     * write conflicts with TiDB servers doing the same; returns the value before the addition.
     */
    private long raise(long atLeast, long add) {
        for (int attempt = 1; ; attempt++) {
            long startTs = txn.timestamp();
            byte[] stored = txn.get(startTs, List.of(key)).get(new ByteKey(key));
            long current =
                    stored == null
                            ? 0
                            : Long.parseLong(new String(stored, StandardCharsets.US_ASCII));
            long base = Math.max(current, atLeast);
            if (base + add == current) {
                known = Math.max(known, current);
                return base;
            }
            byte[] value = Long.toString(base + add).getBytes(StandardCharsets.US_ASCII);
            try {
                txn.prewrite(key, List.of(TxnClient.put(key, value)), startTs, lockTtl);
                txn.commitPrimary(key, startTs);
                known = Math.max(known, base + add);
                return base;
            } catch (WriteConflictException e) {
                if (attempt >= MAX_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }
}
