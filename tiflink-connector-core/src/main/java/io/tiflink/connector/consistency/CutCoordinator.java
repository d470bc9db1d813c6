package io.tiflink.connector.consistency;

import org.apache.flink.annotation.Internal;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;
import org.apache.flink.util.FlinkRuntimeException;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * The coordinator of a source's {@link CutAligner}: it reports its subtasks' watermarks to the
 * job's {@link SnapshotCuts} and, when a checkpoint is triggered, sends each subtask the cut before
 * the barrier (Flink delivers events sent while a coordinator checkpoints before the barriers). Its
 * state is the cut, so that a restore goes on from it.
 */
@Internal
final class CutCoordinator implements OperatorCoordinator {
    private final String member;
    private final SubtaskGateway[] gateways;
    private final SnapshotCuts cuts;

    /**
     * Joins the job's cuts at once: a restored job resets its coordinators before it starts them.
     */
    CutCoordinator(Context context, String member) {
        this.member = member;
        this.gateways = new SubtaskGateway[context.currentParallelism()];
        this.cuts = SnapshotCuts.of(context.getCoordinatorStore());
        cuts.join(member, gateways.length);
    }

    @Override
    public void start() {}

    @Override
    public void handleEventFromOperator(int subtask, int attemptNumber, OperatorEvent event) {
        cuts.report(member, subtask, ((CutEvents.Progress) event).watermark);
    }

    @Override
    public void checkpointCoordinator(long checkpointId, CompletableFuture<byte[]> result) {
        long cut = cuts.cutFor(checkpointId);
        for (int i = 0; i < gateways.length; i++) {
            if (gateways[i] == null) {
                result.completeExceptionally(
                        new FlinkRuntimeException(
                                "subtask " + i + " of " + member + " is not running"));
                return;
            }
            gateways[i].sendEvent(new CutEvents.Cut(checkpointId, cut));
        }
        result.complete(ByteBuffer.allocate(Long.BYTES).putLong(cut).array());
    }

    @Override
    public void resetToCheckpoint(long checkpointId, byte[] state) {
        cuts.restore(
                checkpointId, state == null ? SnapshotCuts.NONE : ByteBuffer.wrap(state).getLong());
        for (int i = 0; i < gateways.length; i++) {
            cuts.forget(member, i);
        }
    }

    @Override
    public void subtaskReset(int subtask, long checkpointId) {
        cuts.reset(member, subtask, checkpointId);
    }

    @Override
    public void executionAttemptFailed(int subtask, int attemptNumber, Throwable reason) {
        gateways[subtask] = null;
        cuts.forget(member, subtask);
    }

    @Override
    public void executionAttemptReady(int subtask, int attemptNumber, SubtaskGateway gateway) {
        gateways[subtask] = gateway;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {}

    @Override
    public void close() {}

    /** Creates the coordinator in the JobManager. */
    static final class Provider implements OperatorCoordinator.Provider {
        private static final long serialVersionUID = 1L;

        private final OperatorID operatorId;
        private final String member;

        Provider(OperatorID operatorId, String member) {
            this.operatorId = operatorId;
            this.member = member;
        }

        @Override
        public OperatorID getOperatorId() {
            return operatorId;
        }

        @Override
        public OperatorCoordinator create(Context context) {
            return new CutCoordinator(context, member);
        }
    }
}
