package io.tiflink.connector.sink.coordinator;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;

/**
 * The sink coordinator's metrics, on its operator coordinator's group (docs/metrics.md): epochs
 * committed and rolled back, and how long the last commit took. Updated in the coordinator's
 * thread; they outlive the job's restarts, as the coordinator does.
 */
final class EpochMetrics {
    static final String EPOCHS_COMMITTED = "epochsCommitted";
    static final String EPOCHS_ROLLED_BACK = "epochsRolledBack";
    static final String LAST_COMMIT_DURATION = "lastCommitDuration";

    private final Counter committed;
    private final Counter rolledBack;

    /** Milliseconds; -1 before the first commit (Flink's convention for a value not known). */
    private volatile long lastCommitDuration = -1;

    EpochMetrics(MetricGroup group) {
        this.committed = group.counter(EPOCHS_COMMITTED);
        this.rolledBack = group.counter(EPOCHS_ROLLED_BACK);
        group.gauge(LAST_COMMIT_DURATION, () -> lastCommitDuration);
    }

    /** An epoch committed, {@code millis} after its commit began. */
    void committed(long millis) {
        committed.inc();
        lastCommitDuration = millis;
    }

    void rolledBack() {
        rolledBack.inc();
    }
}
