package io.tiflink.connector.sink.coordinator;

import io.tiflink.connector.consistency.SnapshotCuts;
import io.tiflink.connector.sink.EpochKeys;
import io.tiflink.connector.sink.TiKVSinkConfig;
import io.tiflink.connector.sink.TiKVSinkOptions;

import org.apache.flink.annotation.Internal;
import org.apache.flink.runtime.checkpoint.CheckpointCoordinator;
import org.apache.flink.runtime.checkpoint.CompletedCheckpoint;
import org.apache.flink.runtime.checkpoint.PendingCheckpoint;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;
import org.apache.flink.util.FlinkRuntimeException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
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
 *       notifies to no one, opens epoch {@code n} when it is triggered; epoch {@code n} of an
 *       aborted checkpoint {@code n} opens when Flink notifies the abort;
 *   <li>it keeps the open epochs' primary locks alive with TxnHeartBeat, and holds GC back (a PD
 *       service safe point) at the oldest one's start ts;
 *   <li>at a (re)start from checkpoint {@code c}, it commits the epochs left open before {@code c},
 *       rolls back those from {@code c} on (found by a lock scan of the sink's primaries, and their
 *       secondary locks with them), opens the restore transaction, into which every writer writes
 *       its restored state, commits it once all have, and then opens epoch {@code c};
 *   <li>when the job ends (cancelled, failed), it rolls back the epochs no completed checkpoint
 *       holds.
 * </ul>
 *
 * The transactions themselves are {@link EpochTransactions}'; this class decides when, from Flink's
 * checkpoint notifications. Its state is {@link EpochCoordinatorState}. All work runs in one
 * thread, in the order Flink calls in.
 */
@Internal
public final class EpochCoordinator implements OperatorCoordinator {
    private static final Logger LOG = LoggerFactory.getLogger(EpochCoordinator.class);

    private final Context context;
    private final TiKVSinkConfig config;
    private final ScheduledExecutorService executor;

    /** Connected at the first recovery. */
    private EpochTransactions epochs;

    /** Ids of this sink in earlier runs, whose epochs a restore must also settle. */
    private final Set<String> sinkIds = new LinkedHashSet<>();

    private static final long RESTORE_POLL_MILLIS = 20;

    /** At most one warning this often for failing heartbeats. */
    private static final long HEARTBEAT_WARNING_MILLIS = 60_000;

    private long lastKeptAlive = System.currentTimeMillis();
    private long lastHeartbeatWarning;

    private long lastTriggered = -1;
    private long lastCompleted = -1;
    private boolean recovered;

    /**
     * For the checkpoints triggered in this run: the oldest epoch each one's state can refer to
     * ({@link EpochTransactions#oldestReferable}).
     */
    private final TreeMap<Long, Long> horizons = new TreeMap<>();

    /** The epochs of this sink below this have no keys left. */
    private long cleanedBelow;

    private long lastCleaned;
    private long lastCleanupWarning;

    /** Counts recoveries, so that a restore's poll of an earlier recovery stops. */
    private long recoveries;

    /** With consistency snapshot: the job's cut (ms) at each checkpoint triggered in this run. */
    private final TreeMap<Long, Long> cuts = new TreeMap<>();

    /** With consistency snapshot: the checkpoints of this run that failed. */
    private final Set<Long> aborted = new HashSet<>();

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
    public void start() throws Exception {
        recoverBeforeTasksStart(NO_CHECKPOINT, false);
        long period = Math.max(1_000, config.lockTtl().toMillis() / 3);
        executor.scheduleAtFixedRate(this::keepAlive, period, period, TimeUnit.MILLISECONDS);
    }

    /**
     * Heartbeats the open epochs. A failure is retried at the next beat; once heartbeats have
     * failed for as long as a lock lives ({@code sink.transaction.lock-ttl}), the epochs may be
     * rolled back by any reader, and the job fails. Nothing escapes: an exception thrown out of a
     * periodic task would silently end the heartbeats.
     */
    private void keepAlive() {
        if (epochs == null) {
            return;
        }
        long now = System.currentTimeMillis();
        try {
            epochs.keepAlive(context::failJob);
            lastKeptAlive = now;
        } catch (Throwable t) {
            if (t instanceof Error || now - lastKeptAlive >= config.lockTtl().toMillis()) {
                context.failJob(
                        new FlinkRuntimeException(
                                "TiKV sink into "
                                        + config.qualifiedTable()
                                        + ": the open transactions' heartbeats failed for "
                                        + (now - lastKeptAlive)
                                        + " ms, as long as their locks live ('"
                                        + TiKVSinkOptions.LOCK_TTL.key()
                                        + "' = "
                                        + config.lockTtl()
                                        + "): "
                                        + t.getMessage(),
                                t));
            } else if (now - lastHeartbeatWarning >= HEARTBEAT_WARNING_MILLIS) {
                lastHeartbeatWarning = now;
                LOG.warn(
                        "TiKV sink into {}: heartbeat failed; trying again",
                        config.qualifiedTable(),
                        t);
            }
        }
    }

    @Override
    public void resetToCheckpoint(long checkpointId, byte[] state) throws IOException {
        if (state != null) {
            sinkIds.addAll(EpochCoordinatorState.fromBytes(state).sinkIds());
        }
        recoverBeforeTasksStart(checkpointId, true);
    }

    @Override
    public void subtaskReset(int subtask, long checkpointId) {
        // The operator has one subtask, downstream of every writer and committer: it restarts
        // with them, from the same checkpoint.
        recoverBeforeTasksStart(checkpointId, true);
    }

    /**
     * Recovers before Flink deploys the tasks (it calls start and the resets first): the
     * transaction a (re)start opens (the restore's, or epoch 0's) is then older than every writer
     * of this attempt, and younger than any writer of an earlier one still running, which so knows
     * it is stale ({@code ExactlyOnceWriter}).
     */
    private void recoverBeforeTasksStart(long checkpointId, boolean always) {
        try {
            executor.submit(
                            () -> {
                                if (always || !recovered) {
                                    recover(checkpointId);
                                }
                                return null;
                            })
                    .get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            context.failJob(new FlinkRuntimeException("interrupted while recovering", e));
        } catch (ExecutionException e) {
            // Failing the job, not the call: a coordinator that throws here fails the JobMaster's
            // start, and the user would not see why (Flink's source coordinator does the same).
            // A table that cannot be written (the sink's, its progress table) stays so: no
            // restart.
            FlinkRuntimeException failure =
                    new FlinkRuntimeException(
                            "TiKV sink into "
                                    + config.qualifiedTable()
                                    + ": recovering from checkpoint "
                                    + checkpointId
                                    + " failed: "
                                    + e.getCause().getMessage(),
                            e.getCause());
            context.failJob(
                    e.getCause() instanceof IllegalArgumentException
                            ? new SuppressRestartsException(failure)
                            : failure);
        }
    }

    @Override
    public void checkpointCoordinator(long checkpointId, CompletableFuture<byte[]> result) {
        boolean savepoint = isSavepoint(checkpointId);
        executor.execute(
                () -> {
                    try {
                        if (recovered) {
                            horizons.put(
                                    checkpointId,
                                    epochs.oldestReferable(checkpointId, lastTriggered));
                        }
                        lastTriggered = Math.max(lastTriggered, checkpointId);
                        byte[] state = new EpochCoordinatorState(List.copyOf(sinkIds)).toBytes();
                        if (config.consistent() && recovered) {
                            closeAtCut(checkpointId, savepoint);
                        } else if (savepoint
                                && recovered
                                && !epochs.restoring()
                                && !epochs.isOpen(checkpointId)) {
                            // A savepoint's completion notifies no one (but stop-with-savepoint):
                            // no epoch would open after it until the next checkpoint. This one
                            // opens now, before the barriers; what subtasks wrote in the open
                            // epoch waits in them until that epoch commits.
                            epochs.open(checkpointId);
                        }
                        result.complete(state);
                    } catch (Throwable t) {
                        result.completeExceptionally(t);
                    }
                });
    }

    /**
     * With consistency snapshot, at the trigger of checkpoint {@code checkpointId}: notes the job's
     * cut at it ({@link SnapshotCuts}). A savepoint's epoch never opens (its completion is notified
     * to no one): its writers carry its rows into the next one, since an epoch opened before the
     * previous one commits could not hold a row that one holds.
     */
    private void closeAtCut(long checkpointId, boolean savepoint) {
        cuts.put(checkpointId, SnapshotCuts.of(context.getCoordinatorStore()).cutFor(checkpointId));
        if (savepoint) {
            epochs.skip(checkpointId);
        }
    }

    /**
     * With consistency snapshot, before the epochs before {@code completed} commit: each records
     * the cut of the barrier that closed it, the first after it of a checkpoint that did not fail
     * (a failed one's barriers reached no writer, or the writers that passed them fail).
     */
    private void writeProgress(long completed) {
        for (long epoch : epochs.openBefore(completed)) {
            Long closing = cuts.higherKey(epoch);
            while (closing != null && closing <= completed && aborted.contains(closing)) {
                closing = cuts.higherKey(closing);
            }
            Long cut = closing == null ? null : cuts.get(closing);
            if (cut != null && cut != SnapshotCuts.NONE) {
                epochs.writeProgress(epoch, SnapshotCuts.tso(cut), closing);
            }
        }
        cuts.headMap(completed).clear();
        aborted.removeIf(id -> id < completed);
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        run(
                () -> {
                    boolean latest = checkpointId >= lastCompleted;
                    lastCompleted = Math.max(lastCompleted, checkpointId);
                    if (epochs.restoring()) {
                        return; // the restore's end opens the epoch of the latest checkpoint
                    }
                    if (config.consistent()) {
                        writeProgress(checkpointId);
                    }
                    epochs.commitBefore(checkpointId);
                    // Even if a savepoint's later epoch is open already (triggered while this
                    // checkpoint completed): the writers write this one until its barrier.
                    if (latest && !epochs.isOpen(checkpointId)) {
                        epochs.open(checkpointId);
                    }
                    clean();
                });
    }

    /**
     * Removes the keys of the epochs no retained checkpoint refers to (at most once a lock TTL: it
     * scans the table's locks). Those of savepoints are not kept: a savepoint older than the oldest
     * retained checkpoint restores without them ({@code ExactlyOnceWriter#committed}). A failure is
     * retried the next time.
     */
    private void clean() {
        long now = System.currentTimeMillis();
        long oldest = oldestRetainedCheckpoint();
        Long horizon = horizons.get(oldest);
        horizons.headMap(oldest).clear();
        if (horizon == null
                || horizon <= cleanedBelow && sinkIds.size() == 1
                || now - lastCleaned < config.lockTtl().toMillis()) {
            return; // (a checkpoint of an earlier run, whose horizon is unknown)
        }
        lastCleaned = now;
        List<String> earlier = List.copyOf(sinkIds).subList(1, sinkIds.size());
        try {
            if (epochs.clean(horizon, earlier)) {
                cleanedBelow = horizon;
                sinkIds.removeAll(earlier);
            }
        } catch (RuntimeException e) {
            if (now - lastCleanupWarning >= HEARTBEAT_WARNING_MILLIS) {
                lastCleanupWarning = now;
                LOG.warn(
                        "TiKV sink into {}: removing the keys of old epochs failed; trying again"
                                + " later",
                        config.qualifiedTable(),
                        e);
            }
        }
    }

    @Override
    public void notifyCheckpointAborted(long checkpointId) {
        run(
                () -> {
                    if (config.consistent()) {
                        // Writers may stand on both sides of its barrier: those past it fail when
                        // they find its epoch so marked; the others' epoch goes on to the next.
                        if (recovered && checkpointId > lastCompleted) {
                            aborted.add(checkpointId);
                            epochs.markAborted(checkpointId);
                        }
                        return;
                    }
                    // Subtasks that took part in the aborted checkpoint write into its epoch: it
                    // opens now (as a savepoint's does), so that their buffers never have to wait
                    // for the next checkpoint. The checkpoint after it commits it.
                    if (recovered
                            && !epochs.restoring()
                            && checkpointId > lastCompleted
                            && !epochs.isOpen(checkpointId)) {
                        epochs.open(checkpointId);
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
                                safely(
                                        "rolling back open epochs",
                                        () ->
                                                epochs.rollbackUnheld(
                                                        latestCompletedCheckpoint(),
                                                        lastTriggered));
                                safely("releasing the GC safe point", epochs::releaseGc);
                            })
                    .get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("TiKV sink coordinator of {}: closing failed", config.qualifiedTable(), e);
        } finally {
            executor.shutdownNow();
            if (epochs != null) {
                epochs.close();
            }
        }
    }

    // ---- epochs ----

    /**
     * Settles what earlier runs left open, as of checkpoint {@code checkpointId}. A fresh start
     * opens epoch 0; a restore first opens the restore transaction, and opens the epoch only once
     * the writers wrote their restored state into it and it committed.
     */
    private void recover(long checkpointId) {
        if (epochs == null) {
            epochs = new EpochTransactions(config, new EpochMetrics(context.metricGroup()));
            safely("reading the table", epochs::loadTable);
        }
        epochs.openProgress();
        long recovery = ++recoveries;
        epochs.settle(sinkIds, checkpointId);
        cuts.clear();
        aborted.clear();
        lastCompleted = Math.max(lastCompleted, checkpointId);
        recovered = true;
        if (checkpointId < 0) {
            epochs.open(0);
            return;
        }
        epochs.openRestore(checkpointId);
        long deadline = System.currentTimeMillis() + config.epochTimeout().toMillis();
        executor.schedule(
                () -> run(() -> awaitRestore(recovery, checkpointId, deadline)),
                RESTORE_POLL_MILLIS,
                TimeUnit.MILLISECONDS);
    }

    /** Commits the restore once every writer wrote into it, then opens the epoch. */
    private void awaitRestore(long recovery, long restoredFrom, long deadline) {
        if (recovery != recoveries || !epochs.restoring()) {
            return; // a later recovery took over, or the job ended
        }
        if (epochs.restoreWritten()) {
            long restoredCut =
                    config.consistent()
                            ? SnapshotCuts.of(context.getCoordinatorStore()).cutAt(restoredFrom)
                            : SnapshotCuts.NONE;
            if (restoredCut != SnapshotCuts.NONE) {
                // What the restore writes is what the checkpoint held: its cut.
                epochs.writeRestoreProgress(SnapshotCuts.tso(restoredCut), restoredFrom);
            }
            epochs.commitRestoreAndOpen(restoredFrom, lastCompleted);
            return;
        }
        if (System.currentTimeMillis() > deadline) {
            throw new FlinkRuntimeException(
                    "TiKV sink into "
                            + config.qualifiedTable()
                            + ": not every writer wrote its restored state within '"
                            + TiKVSinkOptions.EPOCH_TIMEOUT.key()
                            + "' ("
                            + config.epochTimeout()
                            + ")");
        }
        executor.schedule(
                () -> run(() -> awaitRestore(recovery, restoredFrom, deadline)),
                RESTORE_POLL_MILLIS,
                TimeUnit.MILLISECONDS);
    }

    /** Whether Flink triggered {@code checkpointId} as a savepoint (it cannot be subsumed). */
    private boolean isSavepoint(long checkpointId) {
        CheckpointCoordinator checkpoints = context.getCheckpointCoordinator();
        PendingCheckpoint pending =
                checkpoints == null ? null : checkpoints.getPendingCheckpoints().get(checkpointId);
        return pending != null && !pending.canBeSubsumed();
    }

    /** The oldest checkpoint the checkpoint store retains, or -1 if unknown. */
    private long oldestRetainedCheckpoint() {
        try {
            CheckpointCoordinator checkpoints = context.getCheckpointCoordinator();
            long oldest = -1;
            if (checkpoints != null) {
                for (CompletedCheckpoint c : checkpoints.getCheckpointStore().getAllCheckpoints()) {
                    oldest =
                            oldest < 0
                                    ? c.getCheckpointID()
                                    : Math.min(oldest, c.getCheckpointID());
                }
            }
            return oldest;
        } catch (Exception e) {
            return -1;
        }
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
            if (epochs != null) {
                work.run();
            }
        } catch (RuntimeException e) {
            LOG.warn("TiKV sink coordinator of {}: {} failed", config.qualifiedTable(), what, e);
        }
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
