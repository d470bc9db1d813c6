package io.tiflink.connector.sink;

import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.SinkWorkflows;
import io.tiflink.minicluster.junit.MiniTiKVExtension;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static io.tiflink.connector.testutils.SinkWorkflows.cancel;
import static io.tiflink.connector.testutils.SinkWorkflows.emitUpTo;
import static io.tiflink.connector.testutils.SinkWorkflows.savepoint;

/**
 * The sink under the workflows operators run: a savepoint then a cancel, the job down past the
 * locks' TTL with readers meeting them and GC running. The input is released in steps and
 * checkpoints are triggered by the test, so each step lands in the epoch it is meant for.
 * Afterwards the table is the input applied once, its indexes are complete, and no lock is left.
 * ({@link SinkWorkflows} has the job and the checks; {@code TiKVSinkSoakITCase} runs these
 * workflows and more in random sequences.)
 */
@Timeout(240)
class TiKVSinkWorkflowsITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(2));

    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(4);

    @RegisterExtension
    @Order(SinkWorkflows.ORDER)
    static final SinkWorkflows WORKFLOWS = new SinkWorkflows(TIKV, "ops", 1, 2);

    /**
     * {@code flink savepoint}, {@code flink cancel}, down past the TTL, {@code flink run -s}: the
     * savepoint holds the epoch written before it, which its completion (notified to no one) never
     * committed and the cancel rolled back.
     */
    @Test
    void savepointCancelDowntimeRestore(@InjectMiniCluster MiniCluster flink, @TempDir Path dir)
            throws Exception {
        JobClient job = WORKFLOWS.start(1, 2, null);
        emitUpTo(100);
        WORKFLOWS.commitUpTo(flink, job, 1, 100);
        emitUpTo(200);
        String savepoint = savepoint(job, dir);
        cancel(job);
        WORKFLOWS.downPastTheLockTtl(1);

        JobClient restored = WORKFLOWS.start(1, 2, savepoint);
        emitUpTo(300);
        WORKFLOWS.commitUpTo(flink, restored, 1, 300);
        cancel(restored);
        WORKFLOWS.assertExactly(1, 300);
    }

    /**
     * A savepoint before any checkpoint completed, then a cancel (which then leaves the epoch's
     * locks: a checkpoint holding it might have completed unseen), down past the TTL: a reader
     * rolls the epoch back, and the restore must write it again.
     */
    @Test
    void anEpochRolledBackByAReaderWhileTheJobIsDownIsWrittenAgain(
            @InjectMiniCluster MiniCluster flink, @TempDir Path dir) throws Exception {
        JobClient job = WORKFLOWS.start(2, 2, null);
        emitUpTo(150);
        String savepoint = savepoint(job, dir);
        cancel(job);
        WORKFLOWS.downPastTheLockTtl(2);

        JobClient restored = WORKFLOWS.start(2, 2, savepoint);
        emitUpTo(250);
        WORKFLOWS.commitUpTo(flink, restored, 2, 250);
        cancel(restored);
        WORKFLOWS.assertExactly(2, 250);
    }
}
