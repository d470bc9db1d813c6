package io.tiflink.connector.consistency;

import org.apache.flink.annotation.Internal;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;

/** The events between a {@link CutAligner} subtask and its {@link CutCoordinator}. */
@Internal
final class CutEvents {
    private CutEvents() {}

    /** Subtask to coordinator: the watermark (ms) below which it holds every change. */
    static final class Progress implements OperatorEvent {
        private static final long serialVersionUID = 1L;

        final long watermark;

        Progress(long watermark) {
            this.watermark = watermark;
        }

        @Override
        public String toString() {
            return "Progress(" + watermark + ")";
        }
    }

    /** Coordinator to subtask, before barrier {@code checkpointId}: the cut (ms) to emit up to. */
    static final class Cut implements OperatorEvent {
        private static final long serialVersionUID = 1L;

        final long checkpointId;
        final long cut;

        Cut(long checkpointId, long cut) {
            this.checkpointId = checkpointId;
            this.cut = cut;
        }

        @Override
        public String toString() {
            return "Cut(" + checkpointId + ", " + cut + ")";
        }
    }
}
