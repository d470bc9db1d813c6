package io.tiflink.connector.sink.coordinator;

import io.tiflink.connector.sink.TiKVSinkConfig;

import org.apache.flink.annotation.Internal;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.streaming.api.connector.sink2.CommittableMessage;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.CoordinatedOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.SimpleOperatorFactory;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * The operator that carries the {@link EpochCoordinator} into the job: one subtask after the
 * committers (Sink V2's post-commit topology), so that it costs the rows nothing. It receives the
 * committed committables and drops them; the work is its coordinator's.
 */
@Internal
public final class EpochCoordinatorOperator<C> extends AbstractStreamOperator<Void>
        implements OneInputStreamOperator<CommittableMessage<C>, Void> {
    private static final long serialVersionUID = 1L;

    @Override
    public void processElement(StreamRecord<CommittableMessage<C>> element) {}

    /** Creates the operator, and tells Flink to create its coordinator. */
    public static final class Factory<C> extends SimpleOperatorFactory<Void>
            implements CoordinatedOperatorFactory<Void>,
                    OneInputStreamOperatorFactory<CommittableMessage<C>, Void> {
        private static final long serialVersionUID = 1L;

        private final TiKVSinkConfig config;

        public Factory(TiKVSinkConfig config) {
            super(new EpochCoordinatorOperator<C>());
            this.config = config;
        }

        @Override
        public OperatorCoordinator.Provider getCoordinatorProvider(
                String operatorName, OperatorID operatorId) {
            return new EpochCoordinator.Provider(operatorId, config);
        }
    }
}
