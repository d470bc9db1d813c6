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
 * that a failure leaves unused are skipped, as TiDB skips them.
 *
 * <p>A value written explicitly into an AUTO_INCREMENT column rebases the allocator at its row, as
 * TiDB's {@code Rebase} does, so that no id handed out afterwards is at or below it: a value within
 * the cached batch moves the batch's cursor past it; a value above the batch drops the batch, and
 * the next batch is taken above the value ({@code max(field, value) + batch}, in the same small
 * transaction). A value no batch was taken above by the end of a plan is written by {@link
 * #settle()}, so that TiDB's other servers never hand it out either.
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

    /** The highest explicit value above the batch that the field may not hold yet (0: none). */
    private long rebased;

    RowIdAllocator(TxnClient txn, long dbId, long tableId, long lockTtl) {
        this.txn = txn;
        this.key = MetaKeys.hashField(MetaKeys.dbKey(dbId), "TID:" + tableId);
        this.lockTtl = lockTtl;
    }

    /** A fresh id, above every id TiDB or this allocator handed out or was rebased to. */
    long next() {
        if (next >= end) {
            long base = raise(rebased, BATCH);
            rebased = 0;
            next = base + 1;
            end = base + BATCH + 1;
        }
        return next++;
    }

    /**
     * Makes sure ids up to {@code id} are never handed out (an explicit AUTO_INCREMENT value): from
     * now on by this allocator, and by TiDB's servers once {@link #settle()} or the next batch has
     * raised the field.
     */
    void rebase(long id) {
        if (id < next) {
            return; // handed out or skipped already
        }
        if (id < end) {
            next = id + 1; // within our batch: skip past it, as TiDB's allocator does
        } else {
            // Above our batch: drop it, as TiDB's allocator does; the next batch starts above id.
            next = end;
            rebased = Math.max(rebased, id);
        }
    }

    /**
     * Raises the field to the highest explicit value rebased to that no batch was taken above, in a
     * small transaction of its own; a no-op if the field holds it already. Called at the end of
     * every plan, before its transaction commits.
     */
    void settle() {
        if (rebased > known) {
            raise(rebased, 0);
        }
        rebased = 0;
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
