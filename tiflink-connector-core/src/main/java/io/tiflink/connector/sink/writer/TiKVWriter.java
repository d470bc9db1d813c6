package io.tiflink.connector.sink.writer;

import io.tiflink.connector.sink.EpochKeys;
import io.tiflink.connector.sink.TiKVSerializationSchema;
import io.tiflink.connector.sink.TiKVSinkConfig;
import io.tiflink.connector.sink.TiKVSinkOptions;
import io.tiflink.connector.sink.committer.TiKVCommittable;
import io.tiflink.tidb.write.ChangePlanner;
import io.tiflink.tidb.write.KeyHashSet;
import io.tiflink.tidb.write.RowWrite;
import io.tiflink.tidb.write.TableWriter;
import io.tiflink.tidb.write.TargetTable;
import io.tiflink.tikv.ByteKey;
import io.tiflink.tikv.Keys;
import io.tiflink.tikv.txn.TxnClient;
import io.tiflink.tikv.txn.WriteConflictException;

import org.apache.flink.api.common.operators.ProcessingTimeService;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.util.FlinkRuntimeException;

import org.tikv.kvproto.Kvrpcpb;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A subtask of the TiKV sink. It buffers row changes and, when the buffer fills (or at a
 * checkpoint), plans their mutations ({@link ChangePlanner}) and prewrites them:
 *
 * <ul>
 *   <li>exactly-once: into the open epoch's transaction, shared by all subtasks. The epoch a
 *       subtask writes after checkpoint {@code n} is epoch {@code n}, which the coordinator opens
 *       when checkpoint {@code n} completes (after committing the epoch before it, so that it sees
 *       that epoch's rows); the subtask finds its start ts in the lock of the epoch's primary. At
 *       the next checkpoint the subtask hands the epoch to the committer. Until the epoch opens,
 *       changes wait in the buffer, and a subtask with a full buffer, or at the end of its input,
 *       waits for it; unless checkpoint {@code n} was aborted (then epoch {@code n} never opens,
 *       and the changes wait for the next checkpoint, or at the end go to the committer).
 *   <li>at-least-once: in a transaction of its own per batch, committed at once, retried on write
 *       conflicts.
 * </ul>
 *
 * Changes not written when a checkpoint is taken are the writer's state.
 */
public final class TiKVWriter<IN>
        implements CommittingSinkWriter<IN, TiKVCommittable>,
                StatefulSinkWriter<IN, TiKVWriterState> {
    private static final Logger LOG = LoggerFactory.getLogger(TiKVWriter.class);
    private static final long EPOCH_POLL_MILLIS = 20;

    private final TiKVSinkConfig config;
    private final TiKVSerializationSchema<IN> serializer;
    private final int subtask;
    private final TxnClient txn;
    private final TableWriter writer;
    private final TargetTable table;

    /** Changes not yet planned, in order; the first ones may be carried over from an epoch. */
    private List<RowWrite> pending = new ArrayList<>();

    private long pendingBytes;

    // ---- exactly-once ----

    /** The epoch this subtask writes: the last checkpoint it took part in, or the restored one. */
    private long epoch;

    /** The open epoch's start ts, once found (0 before). */
    private long epochStartTs;

    /** Set once the epoch is known never to open (its checkpoint was aborted). */
    private boolean epochAborted;

    /** Earlier epochs (start ts → epoch) until known committed before this one began. */
    private final Map<Long, Long> unsettled = new LinkedHashMap<>();

    /** Whether this subtask prewrote anything in the epoch, and its smallest and largest key. */
    private byte[] firstKey;

    private byte[] lastKey;

    /**
     * The keys prewritten in this epoch, and in earlier ones not yet committed when it began (an
     * epoch opened at a savepoint): a change to one of them waits for a later epoch.
     */
    private final KeyHashSet written = new KeyHashSet();

    private final Set<ByteKey> deferredKeys = new HashSet<>();
    private final List<RowWrite> deferred = new ArrayList<>();

    /** Set once the input ended: deferred changes then have no next epoch to go to. */
    private boolean endOfInput;

    // ---- at-least-once ----

    private final ProcessingTimeService timers;
    private long oldestPendingMillis;

    public TiKVWriter(
            TiKVSinkConfig config,
            TiKVSerializationSchema<IN> serializer,
            WriterInitContext context,
            Collection<TiKVWriterState> restored)
            throws IOException {
        this.config = config;
        this.serializer = serializer;
        this.subtask = context.getTaskInfo().getIndexOfThisSubtask();
        this.txn = TxnClient.open(config.tiConfiguration());
        try {
            this.writer = config.openTableWriter(txn);
            this.table = writer.table();
            this.epoch = context.getRestoredCheckpointId().orElse(0);
            serializer.open(table.name(), table.info());
            for (TiKVWriterState s : restored) {
                for (RowWrite c : ChangeCodec.read(s.changes(), table.info())) {
                    add(c);
                }
            }
        } catch (Exception e) {
            closeQuietly(txn);
            if (e instanceof RuntimeException) {
                throw (RuntimeException) e;
            }
            throw new IOException(e.getMessage(), e);
        }
        this.timers = context.getProcessingTimeService();
        if (!config.exactlyOnce() && !config.flushInterval().isZero()) {
            scheduleFlushCheck();
        }
    }

    @Override
    public void write(IN element, Context context) throws IOException, InterruptedException {
        RowWrite change = serializer.serialize(element);
        if (change == null) {
            return;
        }
        add(writer.checked(change));
        if (pending.size() >= config.maxRows() || pendingBytes >= config.maxBytes()) {
            writePending(true);
        }
    }

    private void add(RowWrite change) {
        if (pending.isEmpty()) {
            oldestPendingMillis = System.currentTimeMillis();
        }
        pending.add(change);
        pendingBytes += estimateBytes(change.row());
    }

    private static long estimateBytes(Object[] row) {
        long bytes = 32 + 8L * row.length;
        for (Object v : row) {
            if (v instanceof String) {
                bytes += 40 + 2L * ((String) v).length();
            } else if (v instanceof byte[]) {
                bytes += 16 + ((byte[]) v).length;
            } else if (v instanceof BigDecimal || v instanceof BigInteger) {
                bytes += 48;
            } else if (v != null) {
                bytes += 16;
            }
        }
        return bytes;
    }

    @Override
    public void flush(boolean endOfInput) throws IOException, InterruptedException {
        // At a checkpoint, write only into an epoch already open; at the end, wait for it (unless
        // its checkpoint was aborted: prepareCommit then hands the changes to the committer).
        this.endOfInput |= endOfInput;
        writePending(endOfInput);
    }

    private void writePending(boolean mustWrite) throws InterruptedException {
        if (config.exactlyOnce()) {
            // Deferred changes wait for the next epoch, not for more input: once it opens they are
            // written (at a checkpoint, or at the end) even if nothing else came.
            boolean deferredWaiting = epochStartTs == 0 && !deferred.isEmpty();
            if (pending.isEmpty() && !deferredWaiting) {
                return;
            }
            if (epochStartTs == 0 && !findEpoch(mustWrite)) {
                return;
            }
            if (pending.isEmpty()) {
                return; // they still wait for an earlier epoch's commit
            }
            ChangePlanner.Plan plan = writer.plan(pending, epochStartTs, written, deferredKeys);
            prewrite(plan.mutationList(), primary(epoch), epochStartTs);
            for (Kvrpcpb.Mutation m : plan.mutationList()) {
                byte[] k = m.getKey().toByteArray();
                written.add(k);
                if (firstKey == null || Arrays.compareUnsigned(k, firstKey) < 0) {
                    firstKey = k;
                }
                if (lastKey == null || Arrays.compareUnsigned(k, lastKey) > 0) {
                    lastKey = k;
                }
            }
            deferred.addAll(plan.deferred);
        } else {
            if (pending.isEmpty()) {
                return;
            }
            try {
                writer.writeAlone(pending);
            } catch (WriteConflictException e) {
                throw new FlinkRuntimeException(
                        "TiKV sink into "
                                + table.name()
                                + ": "
                                + e.getMessage()
                                + " ('"
                                + TiKVSinkOptions.MAX_RETRIES.key()
                                + "' = "
                                + config.maxRetries()
                                + ")",
                        e);
            }
        }
        pending = new ArrayList<>();
        pendingBytes = 0;
    }

    private void prewrite(List<Kvrpcpb.Mutation> mutations, byte[] primary, long startTs) {
        if (mutations.isEmpty()) {
            return;
        }
        try {
            txn.prewrite(primary, mutations, startTs, config.lockTtl().toMillis());
        } catch (WriteConflictException e) {
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
    }

    /**
     * Finds the start ts of the epoch this subtask writes, in the lock of its primary; waits for it
     * if {@code wait}, unless (or until) its checkpoint is known aborted.
     */
    private boolean findEpoch(boolean wait) throws InterruptedException {
        if (epochAborted) {
            return false;
        }
        byte[] primary = primary(epoch);
        long deadline = System.currentTimeMillis() + config.epochTimeout().toMillis();
        while (true) {
            List<Kvrpcpb.LockInfo> locks =
                    txn.scanLocks(primary, Keys.next(primary), Long.MAX_VALUE);
            if (!locks.isEmpty()) {
                epochStartTs = locks.get(0).getLockVersion();
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
            if (!wait) {
                return false;
            }
            if (aborted(epoch)) {
                // No epoch until the next checkpoint: changes stay in the buffer (past its size),
                // and at the end of the input go to the committer.
                epochAborted = true;
                LOG.debug("subtask {}: checkpoint {} was aborted", subtask, epoch);
                return false;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new FlinkRuntimeException(
                        "TiKV sink into "
                                + table.name()
                                + ": no transaction opened for checkpoint "
                                + epoch
                                + " within '"
                                + io.tiflink.connector.sink.TiKVSinkOptions.EPOCH_TIMEOUT.key()
                                + "' ("
                                + config.epochTimeout()
                                + "); transactions open when a checkpoint completes: did it"
                                + " fail?");
            }
            Thread.sleep(EPOCH_POLL_MILLIS);
        }
    }

    private boolean aborted(long epoch) {
        byte[] marker = EpochKeys.aborted(config.sinkId(), epoch);
        return !txn.get(txn.timestamp(), List.of(marker)).isEmpty();
    }

    /**
     * Forgets the keys of earlier epochs once each committed before this one began, and gives the
     * deferred changes their chance; until then those keys stay in the way. (Only an epoch opened
     * at a savepoint, whose completion notifies no one, begins before the previous one commits.)
     */
    private void settle() {
        unsettled
                .entrySet()
                .removeIf(
                        e -> {
                            TxnClient.Status s = txn.status(primary(e.getValue()), e.getKey());
                            return !s.locked && s.commitTs < epochStartTs;
                        });
        if (unsettled.isEmpty()) {
            written.clear();
            deferredKeys.clear();
            deferred.addAll(pending);
            pending = new ArrayList<>(deferred);
            deferred.clear();
        }
    }

    private byte[] primary(long epoch) {
        return EpochKeys.primary(config.sinkId(), epoch);
    }

    @Override
    public Collection<TiKVCommittable> prepareCommit() throws IOException {
        if (!config.exactlyOnce()) {
            return Collections.emptyList();
        }
        // At the end of the input, what waits for a next epoch is written by the committer, after
        // this one committed, in one more transaction: the changes deferred past this epoch, and
        // all of them if it never opened (its checkpoint was aborted); even if this subtask wrote
        // nothing in the epoch.
        List<RowWrite> carry = new ArrayList<>();
        if (endOfInput) {
            carry.addAll(deferred);
            if (epochStartTs == 0) {
                carry.addAll(pending);
            }
        }
        if (firstKey == null && carry.isEmpty()) {
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
            deferred.clear();
            deferredKeys.clear();
            if (epochStartTs == 0) {
                pending = new ArrayList<>();
                pendingBytes = 0;
            }
        }
        byte[] none = new byte[0];
        TiKVCommittable c =
                new TiKVCommittable(
                        epoch,
                        epochStartTs,
                        primary,
                        firstKey == null ? none : firstKey,
                        lastKey == null ? none : lastKey,
                        subtask,
                        carried);
        firstKey = null;
        lastKey = null;
        return List.of(c);
    }

    @Override
    public List<TiKVWriterState> snapshotState(long checkpointId) throws IOException {
        if (config.exactlyOnce()) {
            // The next epoch opens when this checkpoint completes (at once, for a savepoint).
            if (epochStartTs != 0) {
                unsettled.put(epochStartTs, epoch);
            }
            epoch = checkpointId;
            epochStartTs = 0;
            epochAborted = false;
        }
        List<RowWrite> unwritten = new ArrayList<>(deferred);
        unwritten.addAll(pending);
        if (unwritten.isEmpty()) {
            return Collections.emptyList();
        }
        return List.of(new TiKVWriterState(ChangeCodec.write(unwritten, table.info())));
    }

    // ---- at-least-once ----

    private void scheduleFlushCheck() {
        long interval = config.flushInterval().toMillis();
        timers.registerTimer(
                timers.getCurrentProcessingTime() + interval,
                time -> {
                    if (!pending.isEmpty()
                            && System.currentTimeMillis() - oldestPendingMillis >= interval) {
                        writePending(true);
                    }
                    scheduleFlushCheck();
                });
    }

    @Override
    public void close() throws Exception {
        txn.close();
    }

    private static void closeQuietly(TxnClient txn) {
        try {
            txn.close();
        } catch (Exception e) {
            LOG.warn("closing the TiKV session failed", e);
        }
    }

    @Override
    public String toString() {
        return "TiKVWriter(" + table.name() + ", subtask " + subtask + ", epoch " + epoch + ")";
    }
}
