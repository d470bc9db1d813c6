package io.tiflink.connector.source;

import io.tiflink.connector.testutils.ChangeStrings;
import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A job down for longer than its GC safe point lease: once TiKV's GC has passed where it would
 * resume, restoring it fails, naming the table and the option, instead of resuming with changes
 * missing; without restarts, which would fail the same way. (Its own cluster: the test runs GC.)
 */
class TiKVSourceGcITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(1).cdcResolvedTsInterval(Duration.ofMillis(50)));

    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(2);

    @Test
    void aRestoreAfterGcPassedItsPositionFailsNamingTheOption(
            MiniTiKVCluster cluster, @InjectMiniCluster MiniCluster flink, @TempDir Path dir)
            throws Exception {
        Path checkpoints = dir.resolve("checkpoints");
        try (TiDBTables tables = new TiDBTables(cluster)) {
            tables.ddl("CREATE DATABASE shop; USE shop; CREATE TABLE t (id BIGINT PRIMARY KEY);");
            tables.txn("shop", "t").insert(1L).commit();
            String restoreFrom;
            try (Job job = Job.start(cluster, checkpoints, null)) {
                assertThat(job.rows.next()).startsWith("SNAPSHOT t - -> [1]");
                tables.txn("shop", "t").insert(2L).commit();
                assertThat(job.rows.next()).startsWith("INSERT t - -> [2]");
                // A checkpoint of the stream's position after that change. Its path, not the
                // newest directory: a checkpoint the cancel aborts may still be written there.
                restoreFrom = flink.triggerCheckpoint(job.client.getJobID()).get();
            } // cancels the job; its checkpoints stay
            long downAt = cluster.currentTs();
            // The source's 1 s lease lapses while the job is down; then GC passes it.
            await().atMost(Duration.ofMinutes(1)).until(() -> cluster.gc(downAt) >= downAt);
            assertThatThrownBy(
                            () -> {
                                try (Job job = Job.start(cluster, checkpoints, restoreFrom)) {
                                    // Final: a restart would fail the same way.
                                    job.client.getJobExecutionResult().get(1, TimeUnit.MINUTES);
                                }
                            })
                    .hasStackTraceContaining(
                            "TiKV source for shop.t cannot resume from its checkpoint")
                    .hasStackTraceContaining("'scan.gc-safe-point.ttl' (PT1S)")
                    .hasStackTraceContaining(SuppressRestartsException.class.getName());
        }
    }

    /** A job reading shop.t into {@link #rows}; closing it cancels it and waits for its end. */
    private static final class Job implements AutoCloseable {
        final JobClient client;
        final CloseableIterator<String> rows;

        private Job(JobClient client, CloseableIterator<String> rows) {
            this.client = client;
            this.rows = rows;
        }

        static Job start(MiniTiKVCluster cluster, Path checkpoints, String restoreFrom)
                throws Exception {
            StreamExecutionEnvironment env = environment(checkpoints, restoreFrom);
            CloseableIterator<String> rows = source(env, cluster).collectAsync();
            return new Job(env.executeAsync("gc"), rows);
        }

        @Override
        public void close() throws Exception {
            rows.close();
            if (!client.getJobStatus().get().isGloballyTerminalState()) {
                client.cancel().get();
            }
            await().atMost(Duration.ofMinutes(1))
                    .until(() -> client.getJobStatus().get().isGloballyTerminalState());
        }
    }

    private static StreamExecutionEnvironment environment(Path checkpoints, String restoreFrom) {
        Configuration conf = new Configuration();
        // Restarts without end: only a failure that suppresses them ends the job.
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, Integer.MAX_VALUE);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints.toUri().toString());
        conf.set(
                CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                org.apache.flink.configuration.ExternalizedCheckpointRetention
                        .RETAIN_ON_CANCELLATION);
        if (restoreFrom != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, restoreFrom);
            // The collect sink's uid is new in each job (Flink 2); only the source's state counts.
            conf.set(StateRecoveryOptions.SAVEPOINT_IGNORE_UNCLAIMED_STATE, true);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        env.enableCheckpointing(100, CheckpointingMode.EXACTLY_ONCE);
        return env;
    }

    private static DataStream<String> source(
            StreamExecutionEnvironment env, MiniTiKVCluster cluster) {
        return env.fromSource(
                        TiKVSource.<String>builder()
                                .pdAddresses(cluster.pdAddress())
                                .database("shop")
                                .table("t")
                                .option(TiKVSourceOptions.GC_SAFE_POINT_TTL, Duration.ofSeconds(1))
                                .deserializer(new ChangeStrings())
                                .build(),
                        WatermarkStrategy.noWatermarks(),
                        "t")
                .uid("source");
    }
}
