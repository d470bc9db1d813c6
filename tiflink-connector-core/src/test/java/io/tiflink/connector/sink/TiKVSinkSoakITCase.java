package io.tiflink.connector.sink;

import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.SinkWorkflows;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.tidb.meta.SchemaWriter;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static io.tiflink.connector.testutils.SinkWorkflows.awaitFailureInjected;
import static io.tiflink.connector.testutils.SinkWorkflows.cancel;
import static io.tiflink.connector.testutils.SinkWorkflows.checkpoint;
import static io.tiflink.connector.testutils.SinkWorkflows.emitUpTo;
import static io.tiflink.connector.testutils.SinkWorkflows.failAfterNextCheckpoint;
import static io.tiflink.connector.testutils.SinkWorkflows.failAtRecord;
import static io.tiflink.connector.testutils.SinkWorkflows.failuresInjected;
import static io.tiflink.connector.testutils.SinkWorkflows.release;
import static io.tiflink.connector.testutils.SinkWorkflows.savepoint;
import static io.tiflink.connector.testutils.SinkWorkflows.stopWithSavepoint;

/**
 * A randomized soak of the operator workflows: one job (parallelism 2, restored at parallelism 2)
 * goes through random cycles, each releasing some more input and then failing a task, failing right
 * after a checkpoint, taking a savepoint and restoring it after a cancel (with or without downtime
 * past the locks' TTL, expired locks rolled back by a reader, and GC), stopping with a savepoint
 * and restoring it, or just checkpointing. After each cycle no change was written twice and the
 * indexes match the rows; at the end the tables are the input applied once, with every index entry
 * and no lock left.
 *
 * <p>{@code -Dsoak.seed=<seed>} replays a sequence of cycles (the seed is printed at the start, and
 * named in a failure); {@code -Dsoak.cycles=<n>} sets how many (8 by default; the long run: {@code
 * -Dsoak.cycles=60}).
 */
@Timeout(value = 1, unit = TimeUnit.HOURS) // every step has its own, shorter, deadline
class TiKVSinkSoakITCase {
    private static final Logger LOG = LoggerFactory.getLogger(TiKVSinkSoakITCase.class);

    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(2));

    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(4);

    private static final int TABLES = 1;
    private static final int PARALLELISM = 2;

    @RegisterExtension
    @Order(SinkWorkflows.ORDER)
    static final SinkWorkflows WORKFLOWS = new SinkWorkflows(TIKV, "soak", TABLES);

    /** What a cycle does once it released more input. */
    enum Cycle {
        /** A task fails at a random record of the new input; Flink restarts from the checkpoint. */
        TASK_FAILURE,
        /** A task fails right after a checkpoint completed, before or while its epoch commits. */
        FAILURE_AFTER_CHECKPOINT,
        /** A savepoint, a cancel, a new job restored from the savepoint. */
        SAVEPOINT_CANCEL_RESTORE,
        /** As above, down past the locks' TTL meanwhile (a reader rolls them back, and GC). */
        SAVEPOINT_CANCEL_DOWNTIME_RESTORE,
        /** Stop-with-savepoint, a new job restored from it. */
        STOP_WITH_SAVEPOINT_RESTORE,
        /**
         * An index of the events table is added or dropped (TiDB's DDL states, through the schema
         * writer) while an epoch is open: the coordinator rolls the epoch back at its commit and
         * fails the job, and Flink restarts it globally, resetting the coordinator in the
         * JobManager to the last checkpoint.
         */
        DDL_COORDINATOR_RESET,
        /** One to three checkpoints. */
        CHECKPOINTS
    }

    @Test
    void theTablesAreTheInputAppliedOnceThroughRandomWorkflows(
            @InjectMiniCluster MiniCluster flink, @TempDir Path dir) throws Exception {
        long seed = Long.getLong("soak.seed", System.nanoTime());
        int cycles = Integer.getInteger("soak.cycles", 8);
        String again = "-Dsoak.seed=" + seed + " -Dsoak.cycles=" + cycles;
        System.out.println(
                "TiKVSinkSoakITCase: seed " + seed + ", " + cycles + " cycles (" + again + ")");
        LOG.info("soak seed {}, {} cycles ({})", seed, cycles, again);
        Random random = new Random(seed);
        List<String> done = new ArrayList<>();
        try {
            soak(flink, dir, random, cycles, done);
        } catch (Throwable t) {
            throw new AssertionError(
                    "soak failed (" + again + ") after the cycles " + done + ": " + t.getMessage(),
                    t);
        }
    }

    private static void soak(
            MiniCluster flink, Path dir, Random random, int cycles, List<String> done)
            throws Exception {
        JobClient job = WORKFLOWS.start(TABLES, PARALLELISM, null);
        long released = 0;
        boolean indexed = false;
        for (int i = 1; i <= cycles; i++) {
            long from = released;
            released += 10 + random.nextInt(60);
            Cycle cycle = Cycle.values()[random.nextInt(Cycle.values().length)];
            // Mostly the new input is all emitted before the cycle's step; else it races it.
            boolean emitFirst = random.nextInt(4) > 0;
            String what = i + ":" + cycle + "(input " + from + ".." + released + ")";
            System.out.println("TiKVSinkSoakITCase: cycle " + what);
            LOG.info("soak cycle {}", what);
            done.add(what);
            if (cycle == Cycle.TASK_FAILURE) {
                // At a record of the new input: the source has not emitted it yet.
                failAtRecord(from + random.nextInt((int) (released - from)));
            }
            int failures = failuresInjected();
            if (emitFirst && cycle != Cycle.TASK_FAILURE) {
                emitUpTo(released);
            } else {
                release(released);
            }
            switch (cycle) {
                case TASK_FAILURE:
                    awaitFailureInjected(job, failures);
                    break;
                case FAILURE_AFTER_CHECKPOINT:
                    failAfterNextCheckpoint();
                    checkpoint(flink, job);
                    awaitFailureInjected(job, failures);
                    break;
                case SAVEPOINT_CANCEL_RESTORE:
                case SAVEPOINT_CANCEL_DOWNTIME_RESTORE:
                    String savepoint = savepoint(job, dir);
                    cancel(job);
                    if (cycle == Cycle.SAVEPOINT_CANCEL_DOWNTIME_RESTORE) {
                        WORKFLOWS.downPastTheLockTtl(TABLES);
                    }
                    job = WORKFLOWS.start(TABLES, PARALLELISM, savepoint);
                    break;
                case STOP_WITH_SAVEPOINT_RESTORE:
                    job = WORKFLOWS.start(TABLES, PARALLELISM, stopWithSavepoint(job, dir));
                    break;
                case DDL_COORDINATOR_RESET:
                    SchemaWriter ddl = new SchemaWriter(WORKFLOWS.tables().session());
                    if (indexed) {
                        ddl.dropIndex("soak", "events1", "k_soak");
                    } else {
                        ddl.addIndex("soak", "events1", "k_soak", false, "seq");
                    }
                    indexed = !indexed;
                    checkpoint(flink, job);
                    break;
                case CHECKPOINTS:
                    for (int c = 1 + random.nextInt(3); c > 0; c--) {
                        checkpoint(flink, job);
                    }
                    break;
                default:
                    throw new IllegalStateException(cycle.name());
            }
            WORKFLOWS.assertNothingWrittenTwice(TABLES, released);
        }
        done.add("end: checkpoints until all " + released + " changes are committed");
        emitUpTo(released);
        WORKFLOWS.endExactly(flink, job, TABLES, released);
        System.out.println(
                "TiKVSinkSoakITCase: "
                        + cycles
                        + " cycles, "
                        + released
                        + " changes, exactly once");
    }
}
