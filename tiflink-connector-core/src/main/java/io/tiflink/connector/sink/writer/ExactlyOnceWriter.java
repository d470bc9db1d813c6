package io.tiflink.connector.sink.writer;

import io.tiflink.connector.sink.EpochKeys;
import io.tiflink.connector.sink.TiKVSerializationSchema;
import io.tiflink.connector.sink.TiKVSinkConfig;
import io.tiflink.connector.sink.TiKVSinkOptions;
import io.tiflink.connector.sink.committer.TiKVCommittable;
import io.tiflink.tidb.write.RowRejectedException;
import io.tiflink.tidb.write.RowWrite;
import io.tiflink.tidb.write.SharedTxnWriter;
import io.tiflink.tikv.ByteKey;
import io.tiflink.tikv.Keys;
import io.tiflink.tikv.txn.TxnClient;
import io.tiflink.tikv.txn.WriteConflictException;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.util.FlinkRuntimeException;

import org.tikv.kvproto.Kvrpcpb;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The exactly-once writer: it prewrites into the open epoch's transaction, shared by all subtasks.
 * The epoch a subtask writes after checkpoint {@code n} is epoch {@code n}, which the coordinator
 * opens when checkpoint {@code n} completes (after committing the epoch before it, so that it sees
 * that epoch's rows); the subtask finds its start ts in the lock of the epoch's primary. At the
 * next checkpoint the subtask hands the epoch to the committer. Until the epoch opens, writes wait
 * in the buffer, and a subtask with a full buffer, or at the end of its input, waits for it (it
 * opens when checkpoint {@code n} completes or is aborted).
 *
 * <p>The writer keeps its part of each epoch ({@link EpochPart}: the changes it prewrote, their key
 * range, the epoch's primary) in memory and in its checkpointed state until it sees the epoch
 * committed. Should TiKV roll an epoch back instead (its locks outlived their TTL while the job was
 * down, and a reader or GC resolved them), the changes are written again: nothing a checkpoint
 * holds is lost, and nothing is written twice, because a rolled-back transaction never commits. A
 * restored writer writes its state (such parts, and its unwritten changes) into the restore
 * transaction before it takes input ({@link #restore}).
 */
@Internal
public final class ExactlyOnceWriter<IN> extends TiKVWriter<IN> {
    private static final Logger LOG = LoggerFactory.getLogger(ExactlyOnceWriter.class);
    private static final long EPOCH_POLL_MILLIS = 20;

    /** This subtask's part in the epochs' transactions, and the writes deferred past them. */
    private final SharedTxnWriter epochs;

    /** The epoch this subtask writes: the last checkpoint it took part in, or the restored one. */
    private long epoch;

    /** The open epoch's start ts, once found (0 before). */
    private long epochStartTs;

    /** Parts of earlier epochs, oldest first, until known committed before this one began. */
    private final List<EpochPart> unsettled = new ArrayList<>();

    /** The part of the epoch handed to the committer, until its checkpoint is taken. */
    private EpochPart closingPart;

    /** The part closed at the last checkpoint taken, or null. */
    private EpochPart lastClosed;

    /** Set once the input ended: deferred writes then have no next epoch to go to. */
    private boolean endOfInput;

    /**
     * A TSO taken when the writer started. The transaction its attempt of the job opened before
     * starting its tasks (the restore's, or epoch 0's) is older; one that is younger was opened by
     * a later attempt, and this writer is a stale one, still running on a TaskManager that lost
     * touch: it must not write into it.
     */
    private final long bornTs;

    /** The epoch the writer started in, until it found it: the one the fence above guards. */
    private long firstEpoch = -1;

    /** The primary of the epoch restored from (known from its restore transaction), or null. */
    private byte[] restartedPrimary;

    ExactlyOnceWriter(
            TiKVSinkConfig config,
            TiKVSerializationSchema<IN> serializer,
            WriterInitContext context,
            Collection<TiKVWriterState> restored)
            throws IOException {
        super(config, serializer, context);
        this.bornTs = txn.timestamp();
        this.epochs = new SharedTxnWriter(writer, txn, config.lockTtl().toMillis());
        this.epoch = context.getRestoredCheckpointId().orElse(0);
        this.firstEpoch = epoch;
        if (context.getRestoredCheckpointId().isPresent()) {
            try {
                restore(restored, context.getTaskInfo().getNumberOfParallelSubtasks());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while restoring", e);
            }
        }
    }

    /**
     * Writes what the restored states hold into the restore transaction, which the coordinator
     * opened at the (re)start and commits once every writer did this, before the first epoch opens:
     * the changes of epoch parts TiKV rolled back, then the unwritten changes. So the writers that
     * own those rows now (after a rescale, other subtasks than the ones whose state this is) read
     * them committed. A state is applied once: its {@link EpochKeys#applied} key is written with
     * it.
     */
    private void restore(Collection<TiKVWriterState> states, int subtasks)
            throws InterruptedException, IOException {
        byte[] primary = EpochKeys.restore(config.sinkId(), epoch);
        long startTs = fenced(awaitTxn(primary, "the restore of checkpoint " + epoch));
        restartedPrimary = EpochKeys.restarted(config.sinkId(), epoch, startTs);
        firstEpoch = -1; // the restored epoch's key is this restore's own
        List<RowWrite> changes = new ArrayList<>();
        List<Kvrpcpb.Mutation> marks = new ArrayList<>();
        for (TiKVWriterState state : states) {
            byte[] applied = EpochKeys.applied(state.id());
            if (!state.id().isEmpty() && !txn.get(startTs, List.of(applied)).isEmpty()) {
                continue; // an earlier restore of the same checkpoint applied it
            }
            for (EpochPart part : sortedByEpoch(state.parts())) {
                changes.addAll(rolledBackChanges(part));
            }
            changes.addAll(decode(state.changes()));
            if (!state.id().isEmpty()) {
                marks.add(TxnClient.put(applied, primary));
            }
        }
        try {
            epochs.prewrite(changes, primary, startTs);
        } catch (RowRejectedException e) {
            throw rejected(e);
        }
        marks.add(TxnClient.lockOnly(EpochKeys.restored(primary, subtask, subtasks)));
        txn.prewrite(primary, marks, startTs, config.lockTtl().toMillis());
        if (epochs.wroteKeys()) {
            // Until it is seen committed, as an epoch part: a restore from a later checkpoint
            // finds it committed, or rolled back and to write again.
            unsettled.add(
                    new EpochPart(
                            epoch,
                            startTs,
                            primary,
                            epochs.firstKey(),
                            epochs.lastKey(),
                            ChangeCodec.write(epochs.prewritten(), table.info())));
        }
        epochs.clearKeyRange();
    }

    private static List<EpochPart> sortedByEpoch(List<EpochPart> parts) {
        List<EpochPart> sorted = new ArrayList<>(parts);
        sorted.sort(
                Comparator.comparingLong(EpochPart::epoch).thenComparingLong(EpochPart::startTs));
        return sorted;
    }

    /**
     * The changes of an epoch part to write again: none if its epoch committed; all of them if TiKV
     * rolled it back, or forgot it once GC removed the rollback (a committed epoch's primary keeps
     * its commit record, being its key's latest version). What is left of its locks is rolled back.
     */
    private List<RowWrite> rolledBackChanges(EpochPart part) throws IOException {
        TxnClient.Status s = txn.status(part.primary(), part.startTs());
        if (committed(part, s)) {
            return List.of();
        }
        if (s.locked) {
            throw new FlinkRuntimeException(
                    "TiKV sink into "
                            + table.name()
                            + ": "
                            + part
                            + " is still open; the job restarts to settle it");
        }
        LOG.info(
                "TiKV sink into {}, subtask {}: {} was {}; writing its changes again",
                table.name(),
                subtask,
                part,
                s);
        txn.resolveRange(part.firstKey(), Keys.next(part.lastKey()), part.startTs(), 0);
        return decode(part.changes());
    }

    /**
     * Whether the part's epoch committed: TiKV says so, or forgot it after the sink removed the
     * epoch's keys (it removes committed epochs' keys only, once no retained checkpoint needs them;
     * see {@code EpochTransactions#clean}). A state restored from an older savepoint so never
     * writes a committed epoch again.
     */
    private boolean committed(EpochPart part, TxnClient.Status s) {
        if (s.committed()) {
            return true;
        }
        String sinkId = EpochKeys.sinkIdOf(part.primary());
        if (!s.notFound || sinkId == null) {
            return false;
        }
        byte[] cleaned = EpochKeys.cleaned(sinkId);
        byte[] below = txn.get(txn.timestamp(), List.of(cleaned)).get(new ByteKey(cleaned));
        return below != null
                && EpochKeys.epochOf(sinkId, part.primary()) < EpochKeys.cleanedEpoch(below);
    }

    /**
     * The start ts of the transaction whose primary is {@code primary}, from its lock; waits for it
     * up to {@code sink.transaction.open-timeout}.
     */
    private long awaitTxn(byte[] primary, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + config.epochTimeout().toMillis();
        while (true) {
            long startTs = openTxn(primary);
            if (startTs != 0) {
                return startTs;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new FlinkRuntimeException(
                        "TiKV sink into "
                                + table.name()
                                + ": "
                                + what
                                + " did not begin within '"
                                + TiKVSinkOptions.EPOCH_TIMEOUT.key()
                                + "' ("
                                + config.epochTimeout()
                                + "); it begins when a checkpoint completes or is aborted, or"
                                + " when the job starts: did the coordinator fail?");
            }
            Thread.sleep(EPOCH_POLL_MILLIS);
        }
    }

    /** The start ts of the open transaction whose primary is {@code primary}, or 0. */
    private long openTxn(byte[] primary) {
        List<Kvrpcpb.LockInfo> locks = txn.scanLocks(primary, Keys.next(primary), Long.MAX_VALUE);
        return locks.isEmpty() ? 0 : locks.get(0).getLockVersion();
    }

    @Override
    public void flush(boolean endOfInput) throws InterruptedException, IOException {
        // At a checkpoint, write only into an epoch already open; at the end, wait for it. With
        // consistency snapshot the epoch holds what came before this barrier, all of it: wait for
        // it unless it never opens (a savepoint's, a failed checkpoint's), whose rows then go into
        // the next one.
        this.endOfInput |= endOfInput;
        writeBuffer(endOfInput);
        if (config.consistent() && epochStartTs == 0 && waitsForEpoch() && !skipped()) {
            writeBuffer(true);
        }
        if (config.consistent() && epochs.hasDeferred()) {
            throw new FlinkRuntimeException(
                    "TiKV sink into "
                            + table.name()
                            + ": a change of epoch "
                            + epoch
                            + " could not be written into it (a row or index entry its"
                            + " transaction held already); with consistency 'snapshot' the job"
                            + " restarts rather than commit part of a cut");
        }
    }

    /**
     * Whether this subtask's epoch, not open, was marked never to open. That of a failed checkpoint
     * fails the writer if it has rows for it: they follow a barrier other writers may not have
     * passed.
     */
    private boolean skipped() {
        byte[] aborted = EpochKeys.aborted(config.sinkId(), epoch);
        byte[] skipped = EpochKeys.skipped(config.sinkId(), epoch);
        Map<ByteKey, byte[]> marks = txn.get(txn.timestamp(), List.of(aborted, skipped));
        if (marks.containsKey(new ByteKey(aborted))) {
            if (buffer.isEmpty()) {
                return true; // nothing came after the barrier: nothing to keep apart
            }
            throw new FlinkRuntimeException(
                    "TiKV sink into "
                            + table.name()
                            + ": checkpoint "
                            + epoch
                            + " failed after this subtask passed its barrier; with consistency"
                            + " 'snapshot' the job restarts from the last completed checkpoint,"
                            + " so that no epoch commits part of a cut");
        }
        return marks.containsKey(new ByteKey(skipped));
    }

    /** Whether anything waits for this subtask's epoch: writes, or earlier epochs to settle. */
    private boolean waitsForEpoch() {
        return !buffer.isEmpty() || epochs.hasDeferred() || !unsettled.isEmpty();
    }

    @Override
    protected void writeBuffer(boolean mustWrite) throws InterruptedException, IOException {
        // Deferred writes and unsettled parts wait for the next epoch, not for more input: once
        // it opens they are settled and written (at a checkpoint, or at the end) even if nothing
        // else came.
        if (epochStartTs != 0 ? buffer.isEmpty() : !waitsForEpoch()) {
            return;
        }
        if (epochStartTs == 0 && !findEpoch(mustWrite)) {
            return;
        }
        if (buffer.isEmpty()) {
            return; // they still wait for an earlier epoch's commit
        }
        try {
            epochs.prewrite(buffer.writes(), primary(epoch), epochStartTs);
        } catch (RowRejectedException e) {
            throw rejected(e);
        } catch (WriteConflictException e) {
            metrics.failed(buffer.writes().size());
            throw new FlinkRuntimeException(
                    "TiKV sink into "
                            + table.name()
                            + ": another transaction wrote a row of this checkpoint after it"
                            + " began ("
                            + e.getMessage()
                            + "); as TiDB would, the transaction aborts, and the job restarts"
                            + " from the last checkpoint",
                    e);
        }
        buffer.clear();
    }

    /**
     * Finds the start ts of the epoch this subtask writes, in the lock of its primary; waits for it
     * if {@code wait}.
     */
    private boolean findEpoch(boolean wait) throws InterruptedException, IOException {
        byte[] primary = primary(epoch);
        long startTs =
                wait
                        ? awaitTxn(primary, "the transaction of checkpoint " + epoch)
                        : openTxn(primary);
        if (startTs == 0) {
            return false;
        }
        epochStartTs = epoch == firstEpoch ? fenced(startTs) : startTs;
        firstEpoch = -1;
        if (!table.unchangedAt(txn.session(), epochStartTs)) {
            throw new FlinkRuntimeException(
                    "the schema of TiDB table "
                            + table.name()
                            + " changed while the TiKV sink was writing it; the job"
                            + " restarts to write with the new schema");
        }
        settle();
        LOG.debug("subtask {} writes epoch {} (start ts {})", subtask, epoch, epochStartTs);
        return true;
    }

    /**
     * Settles the parts of earlier epochs: forgets those committed before this epoch began, and
     * writes again, first, those TiKV rolled back. Until every part is settled its keys stay in the
     * way of deferred writes. (Only an epoch opened at a savepoint, whose completion notifies no
     * one, begins before the previous one commits.)
     */
    private void settle() throws IOException {
        List<RowWrite> redo = new ArrayList<>();
        for (Iterator<EpochPart> it = unsettled.iterator(); it.hasNext(); ) {
            EpochPart part = it.next();
            TxnClient.Status s = txn.status(part.primary(), part.startTs());
            if (s.locked || s.committed() && s.commitTs >= epochStartTs) {
                continue;
            }
            it.remove();
            redo.addAll(rolledBackChanges(part));
        }
        if (unsettled.isEmpty()) {
            buffer.addFirst(epochs.releaseDeferred());
        }
        buffer.addFirst(redo);
    }

    private byte[] primary(long epoch) {
        return restartedPrimary != null
                        && epoch == EpochKeys.epoch(config.sinkId(), restartedPrimary)
                ? restartedPrimary
                : EpochKeys.primary(config.sinkId(), epoch);
    }

    /** {@code startTs}, unless a later attempt of the job began the transaction (see bornTs). */
    private long fenced(long startTs) {
        if (startTs > bornTs) {
            throw new FlinkRuntimeException(
                    "TiKV sink into "
                            + table.name()
                            + ", subtask "
                            + subtask
                            + ": a later attempt of the job restarted the sink after this writer"
                            + " started; this stale writer stops without writing");
        }
        return startTs;
    }

    @Override
    public Collection<TiKVCommittable> prepareCommit() throws IOException {
        // At the end of the input, the writes deferred past this epoch have no next epoch: the
        // committer writes them, after this one committed, in one more transaction; even if this
        // subtask wrote nothing in the epoch.
        List<RowWrite> carry = new ArrayList<>();
        if (endOfInput) {
            carry.addAll(epochs.deferred());
        }
        if (!epochs.wroteKeys() && carry.isEmpty()) {
            return Collections.emptyList();
        }
        byte[] primary = primary(epoch);
        TxnClient.Status status = epochStartTs == 0 ? null : txn.status(primary, epochStartTs);
        if (status != null && !status.locked) {
            // A stale epoch of an earlier run, rolled back by the coordinator's recovery.
            throw new FlinkRuntimeException(
                    "TiKV sink into "
                            + table.name()
                            + ": the transaction of epoch "
                            + epoch
                            + " (start ts "
                            + epochStartTs
                            + ") is "
                            + status
                            + " before its checkpoint; the job restarts from the last checkpoint");
        }
        byte[] carried = new byte[0];
        if (!carry.isEmpty()) {
            carried = ChangeCodec.write(carry, table.info());
            epochs.takeDeferred();
        }
        byte[] none = new byte[0];
        if (epochs.wroteKeys()) {
            closingPart =
                    new EpochPart(
                            epoch,
                            epochStartTs,
                            primary,
                            epochs.firstKey(),
                            epochs.lastKey(),
                            ChangeCodec.write(epochs.prewritten(), table.info()));
        }
        TiKVCommittable c =
                new TiKVCommittable(
                        epoch,
                        epochStartTs,
                        primary,
                        epochs.wroteKeys() ? epochs.firstKey() : none,
                        epochs.wroteKeys() ? epochs.lastKey() : none,
                        subtask,
                        carried);
        epochs.clearKeyRange();
        return List.of(c);
    }

    /**
     * The parts a restore may need: not those seen committed (kept in memory until known committed
     * before the epoch being written began, for the deferred writes' sake), so that the state
     * refers to no epoch committed before its checkpoint, whose keys the coordinator may remove.
     */
    @Override
    protected List<EpochPart> unsettledParts() {
        List<EpochPart> parts = new ArrayList<>();
        for (EpochPart part : unsettled) {
            if (part == lastClosed
                    || !committed(part, txn.status(part.primary(), part.startTs()))) {
                parts.add(part);
            }
        }
        return parts;
    }

    @Override
    protected List<RowWrite> unwritten() {
        List<RowWrite> unwritten = new ArrayList<>(epochs.deferred());
        unwritten.addAll(buffer.writes());
        return unwritten;
    }

    @Override
    public List<TiKVWriterState> snapshotState(long checkpointId) throws IOException {
        // The next epoch opens when this checkpoint completes (at once, for a savepoint).
        lastClosed = closingPart; // open until this checkpoint completes: no need to ask
        if (closingPart != null) {
            unsettled.add(closingPart);
            closingPart = null;
        }
        epoch = checkpointId;
        epochStartTs = 0;
        return super.snapshotState(checkpointId);
    }

    @Override
    public String toString() {
        return "ExactlyOnceWriter("
                + table.name()
                + ", subtask "
                + subtask
                + ", epoch "
                + epoch
                + ")";
    }
}
