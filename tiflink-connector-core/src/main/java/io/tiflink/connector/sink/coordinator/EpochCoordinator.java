package io.tiflink.connector.sink.coordinator;

import io.tiflink.connector.sink.EpochKeys;
import io.tiflink.connector.sink.TiKVSinkConfig;
import io.tiflink.tidb.write.TargetTable;
import io.tiflink.tikv.gc.GcSafePoint;
import io.tiflink.tikv.txn.TxnClient;
import io.tiflink.tikv.txn.TxnException;

import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.runtime.checkpoint.CheckpointCoordinator;
import org.apache.flink.runtime.checkpoint.CompletedCheckpoint;
import org.apache.flink.runtime.checkpoint.PendingCheckpoint;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;
import org.apache.flink.util.FlinkRuntimeException;

import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The TiKV sink's coordinator, in the JobManager. It runs the sink's epochs, each one Percolator
 * transaction that all subtasks write into:
 *
 * <ul>
 *   <li>when checkpoint {@code n} completes, it commits the primaries of the epochs before {@code
 *       n} (whose rows that checkpoint holds), then opens epoch {@code n}: a fresh start ts, later
 *       than those commits, and the prewrite of the epoch's primary {@link EpochKeys#primary} — the
 *       subtasks find the start ts in its lock. A savepoint {@code n}, whose completion Flink
 *       notifies to no one, opens epoch {@code n} when it is triggered. Epoch {@code n} of an
 *       aborted checkpoint {@code n} never opens: the coordinator marks it aborted ({@link
 *       EpochKeys#aborted}), so that subtasks stop waiting for it;
 *   <li>it keeps the open epochs' primary locks alive with TxnHeartBeat, and holds GC back (a PD
 *       service safe point) at the oldest one's start ts;
 *   <li>at a (re)start from checkpoint {@code c}, it commits the epochs left open before {@code c},
 *       rolls back those from {@code c} on (found by a lock scan of the sink's primaries, and their
 *       secondary locks with them), and opens epoch {@code c} again;
 *   <li>when the job ends (cancelled, failed), it rolls back the epochs no completed checkpoint
 *       holds.
 * </ul>
 *
 * Its state is the sink's ids (a job restored from a savepoint of another run finds that run's
 * epochs by its id). All work runs in one thread, in the order Flink calls in.
 */
public final class EpochCoordinator implements OperatorCoordinator {
    private static final Logger LOG = LoggerFactory.getLogger(EpochCoordinator.class);

    private final Context context;
    private final TiKVSinkConfig config;
    private final ScheduledExecutorService executor;

    private TxnClient txn;
    private TargetTable table;

    /** Ids of this sink in earlier runs, whose epochs a restore must also settle. */
    private final Set<String> sinkIds = new LinkedHashSet<>();

    /** Open epochs: epoch → start ts. */
    private final TreeMap<Long, Long> open = new TreeMap<>();

    private long lastTriggered = -1;
    private long lastCompleted = -1;
    private boolean recovered;

    EpochCoordinator(Context context, TiKVSinkConfig config) {
        this.context = context;
        this.config = config;
        this.sinkIds.add(config.sinkId());
        this.executor =
                Executors.newSingleThreadScheduledExecutor(
                        r -> {
                            Thread t =
                                    new Thread(
                                            r, "tikv-sink-coordinator-" + config.qualifiedTable());
                            t.setDaemon(true);
                            return t;
                        });
    }

    @Override
    public void start() {
        run(
                () -> {
                    if (!recovered) {
                        recover(NO_CHECKPOINT);
                    }
                });
        long period = Math.max(1_000, config.lockTtl().toMillis() / 3);
        executor.scheduleAtFixedRate(
                () -> safely("heartbeat", this::heartbeat), period, period, TimeUnit.MILLISECONDS);
    }

    @Override
    public void resetToCheckpoint(long checkpointId, byte[] state) throws IOException {
        if (state != null) {
            sinkIds.addAll(readState(state));
        }
        run(() -> recover(checkpointId));
    }

    @Override
    public void subtaskReset(int subtask, long checkpointId) {
        // The operator has one subtask, downstream of every writer and committer: it restarts
        // with them, from the same checkpoint.
        run(() -> recover(checkpointId));
    }

    @Override
    public void checkpointCoordinator(long checkpointId, CompletableFuture<byte[]> result) {
        boolean savepoint = isSavepoint(checkpointId);
        executor.execute(
                () -> {
                    try {
                        lastTriggered = Math.max(lastTriggered, checkpointId);
                        byte[] state = writeState();
                        if (savepoint && recovered && !open.containsKey(checkpointId)) {
                            // A savepoint's completion notifies no one (but stop-with-savepoint):
                            // no epoch would open after it until the next checkpoint. This one
                            // opens now, before the barriers; what subtasks wrote in the open
                            // epoch waits in them until that epoch commits.
                            openEpoch(checkpointId);
                        }
                        result.complete(state);
                    } catch (Throwable t) {
                        result.completeExceptionally(t);
                    }
                });
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        run(
                () -> {
                    lastCompleted = Math.max(lastCompleted, checkpointId);
                    commitEpochsBefore(checkpointId);
                    if (open.isEmpty() || open.lastKey() < checkpointId) {
                        openEpoch(checkpointId);
                    }
                });
    }

    @Override
    public void notifyCheckpointAborted(long checkpointId) {
        run(
                () -> {
                    // Subtasks that took part in the aborted checkpoint wait for its epoch when
                    // their buffer is full or their input ended; it will never open (a savepoint's
                    // opened when it was triggered). Tell them, rather than leave them waiting.
                    // (Failing to tell them is no reason to fail the job: they wait, then fail.)
                    if (recovered
                            && checkpointId > lastCompleted
                            && !open.containsKey(checkpointId)) {
                        safely(
                                "marking checkpoint " + checkpointId + " aborted",
                                () -> markAborted(checkpointId));
                    }
                });
    }

    @Override
    public void handleEventFromOperator(int subtask, int attemptNumber, OperatorEvent event) {
        LOG.warn("unexpected event {} from subtask {}", event, subtask);
    }

    @Override
    public void executionAttemptFailed(int subtask, int attemptNumber, Throwable reason) {}

    @Override
    public void executionAttemptReady(int subtask, int attemptNumber, SubtaskGateway gateway) {}

    @Override
    public void close() throws Exception {
        try {
            executor.submit(
                            () -> {
                                safely("rolling back open epochs", this::rollbackUnheld);
                                safely(
                                        "releasing the GC safe point",
                                        () -> GcSafePoint.release(txn.session(), gcServiceId()));
                            })
                    .get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("TiKV sink coordinator of {}: closing failed", config.qualifiedTable(), e);
        } finally {
            executor.shutdownNow();
            if (txn != null) {
                txn.close();
            }
        }
    }

    // ---- epochs ----

    /** Settles what earlier runs left open, as of checkpoint {@code checkpointId}, and reopens. */
    private void recover(long checkpointId) {
        connect();
        open.clear();
        for (String id : sinkIds) {
            byte[] prefix = EpochKeys.prefix(id);
            for (Kvrpcpb.LockInfo lock :
                    txn.scanLocks(prefix, EpochKeys.end(prefix), Long.MAX_VALUE)) {
                byte[] primary = lock.getKey().toByteArray();
                if (!EpochKeys.isEpoch(id, primary)) {
                    continue; // a committer's carried changes: its retry settles them
                }
                long epoch = EpochKeys.epoch(id, primary);
                long startTs = lock.getLockVersion();
                if (epoch < checkpointId) {
                    // Restoring a checkpoint confirms it: its epochs commit.
                    commit(epoch, primary, startTs);
                } else {
                    rollback(epoch, primary, startTs);
                }
            }
        }
        openEpoch(Math.max(checkpointId, 0));
        lastCompleted = Math.max(lastCompleted, checkpointId);
        recovered = true;
    }

    private void openEpoch(long epoch) {
        long startTs = prewriteSinkKey(EpochKeys.primary(config.sinkId(), epoch));
        open.put(epoch, startTs);
        holdGc();
        LOG.info(
                "TiKV sink into {}: epoch {} open (start ts {})",
                config.qualifiedTable(),
                epoch,
                startTs);
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
                        Kvrpcpb.Mutation.newBuilder()
                                .setOp(Kvrpcpb.Op.Put)
                                .setKey(ByteString.copyFrom(key))
                                .setValue(
                                        ByteString.copyFrom(
                                                config.qualifiedTable(), StandardCharsets.UTF_8))
                                .build()),
                startTs,
                config.lockTtl().toMillis());
        return startTs;
    }

    /** Commits {@link EpochKeys#aborted} of the epoch, a transaction of one key. */
    private void markAborted(long epoch) {
        byte[] marker = EpochKeys.aborted(config.sinkId(), epoch);
        txn.commitPrimary(marker, prewriteSinkKey(marker));
        LOG.info(
                "TiKV sink into {}: checkpoint {} aborted, its epoch will not open",
                config.qualifiedTable(),
                epoch);
    }

    private void commitEpochsBefore(long checkpointId) {
        List<Map.Entry<Long, Long>> due = new ArrayList<>(open.headMap(checkpointId).entrySet());
        for (Map.Entry<Long, Long> e : due) {
            commit(e.getKey(), EpochKeys.primary(config.sinkId(), e.getKey()), e.getValue());
            open.remove(e.getKey());
        }
    }

    private void commit(long epoch, byte[] primary, long startTs) {
        try {
            long commitTs = txn.commitPrimary(primary, startTs);
            LOG.info(
                    "TiKV sink into {}: epoch {} committed at {}",
                    config.qualifiedTable(),
                    epoch,
                    commitTs);
        } catch (TxnException e) {
            throw new FlinkRuntimeException(
                    "TiKV sink into "
                            + config.qualifiedTable()
                            + ": epoch "
                            + epoch
                            + ", which a completed checkpoint holds, cannot commit: "
                            + e.getMessage()
                            + ". Its locks outlived 'sink.transaction.lock-ttl' without"
                            + " heartbeats, and another transaction rolled it back; its rows are"
                            + " lost.",
                    e);
        }
    }

    private void rollback(long epoch, byte[] primary, long startTs) {
        long committedAt = txn.rollbackPrimary(primary, startTs);
        if (committedAt != 0) {
            LOG.info(
                    "TiKV sink into {}: epoch {} was committed already (at {})",
                    config.qualifiedTable(),
                    epoch,
                    committedAt);
            return;
        }
        LOG.info("TiKV sink into {}: epoch {} rolled back", config.qualifiedTable(), epoch);
        // Its secondaries: readers roll them back when they meet them, but need not meet them.
        safely(
                "rolling back the locks of epoch " + epoch,
                () -> txn.resolveRange(table().keyPrefix(), table().keyEnd(), startTs, 0));
    }

    /**
     * Keeps GC from collecting what open epochs read (the rows at their start ts): a PD service
     * safe point at the oldest one, as long as the locks live.
     */
    private void holdGc() {
        if (!open.isEmpty()) {
            GcSafePoint.hold(txn.session(), gcServiceId(), gcTtl(), open.firstEntry().getValue());
        }
    }

    private String gcServiceId() {
        return "tiflink-sink-" + config.sinkId();
    }

    private Duration gcTtl() {
        return Duration.ofSeconds(Math.max(60, config.lockTtl().getSeconds()));
    }

    private void heartbeat() {
        holdGc();
        for (Map.Entry<Long, Long> e : new ArrayList<>(open.entrySet())) {
            byte[] primary = EpochKeys.primary(config.sinkId(), e.getKey());
            if (txn.heartBeat(primary, e.getValue(), config.lockTtl().toMillis())) {
                continue;
            }
            TxnClient.Status status = txn.status(primary, e.getValue());
            open.remove(e.getKey());
            if (!status.committed()) {
                // Nothing of it can commit any more: restart from the last checkpoint.
                context.failJob(
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

    /** At the job's end: rolls back the open epochs no completed checkpoint holds. */
    private void rollbackUnheld() {
        long completed = latestCompletedCheckpoint();
        for (Map.Entry<Long, Long> e : open.entrySet()) {
            if (e.getKey() < completed) {
                commit(e.getKey(), EpochKeys.primary(config.sinkId(), e.getKey()), e.getValue());
            } else if (e.getKey() >= lastTriggered || completed >= 0) {
                rollback(e.getKey(), EpochKeys.primary(config.sinkId(), e.getKey()), e.getValue());
            }
            // Else a checkpoint holding it may have completed unseen: its restore decides.
        }
        open.clear();
    }

    /** Whether Flink triggered {@code checkpointId} as a savepoint (it cannot be subsumed). */
    private boolean isSavepoint(long checkpointId) {
        CheckpointCoordinator checkpoints = context.getCheckpointCoordinator();
        PendingCheckpoint pending =
                checkpoints == null ? null : checkpoints.getPendingCheckpoints().get(checkpointId);
        return pending != null && !pending.canBeSubsumed();
    }

    /** The latest completed checkpoint as the checkpoint store knows it, or -1 if unknown. */
    private long latestCompletedCheckpoint() {
        try {
            CheckpointCoordinator checkpoints = context.getCheckpointCoordinator();
            CompletedCheckpoint latest =
                    checkpoints == null
                            ? null
                            : checkpoints.getCheckpointStore().getLatestCheckpoint();
            return latest == null ? -1 : latest.getCheckpointID();
        } catch (Exception e) {
            return -1;
        }
    }

    // ---- plumbing ----

    private void connect() {
        if (txn == null) {
            txn = TxnClient.open(config.tiConfiguration());
            // Read now what rollbacks need, while the cluster is calm: reading the schema later,
            // in a failover amid region splits and leader moves, can fail (tikv-client-java's scan
            // stuck on a stale region cache), and the rolled-back epoch's locks would stay.
            safely("reading the table", this::table);
        }
    }

    /** The table, read once it is needed (the writers check it exists). */
    private TargetTable table() {
        if (table == null) {
            table =
                    TargetTable.load(
                            txn.session(), txn.timestamp(), config.database(), config.table());
        }
        return table;
    }

    /** Runs {@code work} in the coordinator thread; a failure fails the job. */
    private void run(Runnable work) {
        executor.execute(
                () -> {
                    try {
                        work.run();
                    } catch (Throwable t) {
                        LOG.error("TiKV sink coordinator of {} failed", config.qualifiedTable(), t);
                        context.failJob(t);
                    }
                });
    }

    private void safely(String what, Runnable work) {
        try {
            if (txn != null) {
                work.run();
            }
        } catch (RuntimeException e) {
            LOG.warn("TiKV sink coordinator of {}: {} failed", config.qualifiedTable(), what, e);
        }
    }

    private byte[] writeState() throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        out.writeInt(1);
        out.writeInt(sinkIds.size());
        for (String id : sinkIds) {
            out.writeUTF(id);
        }
        return out.getCopyOfBuffer();
    }

    private static List<String> readState(byte[] state) throws IOException {
        DataInputDeserializer in = new DataInputDeserializer(state);
        int version = in.readInt();
        if (version != 1) {
            throw new IOException("unknown TiKV sink coordinator state version " + version);
        }
        int n = in.readInt();
        List<String> ids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ids.add(in.readUTF());
        }
        return ids;
    }

    /** Creates the coordinator in the JobManager. */
    public static final class Provider implements OperatorCoordinator.Provider {
        private static final long serialVersionUID = 1L;

        private final OperatorID operatorId;
        private final TiKVSinkConfig config;

        public Provider(OperatorID operatorId, TiKVSinkConfig config) {
            this.operatorId = operatorId;
            this.config = config;
        }

        @Override
        public OperatorID getOperatorId() {
            return operatorId;
        }

        @Override
        public OperatorCoordinator create(Context context) {
            return new EpochCoordinator(context, config);
        }
    }
}
