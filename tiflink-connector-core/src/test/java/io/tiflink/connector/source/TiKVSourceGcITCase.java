package io.tiflink.connector.source;

import io.tiflink.connector.testutils.ChangeStrings;
import io.tiflink.connector.testutils.Checkpoints;
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
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A job down for longer than its GC safe point lease: once TiKV's GC has passed where it would
 * resume, restoring it fails, naming the table and the option, instead of resuming with changes
 * missing. (Its own cluster: the test runs GC.)
 */
class TiKVSourceGcITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(1).cdcResolvedTsInterval(Duration.ofMillis(50)));

    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(2);

    @Test
    void aRestoreAfterGcPassedItsPositionFailsNamingTheOption(
            MiniTiKVCluster cluster, @TempDir Path dir) throws Exception {
        Path checkpoints = dir.resolve("checkpoints");
        try (TiDBTables tables = new TiDBTables(cluster)) {
            tables.ddl("CREATE DATABASE shop; USE shop; CREATE TABLE t (id BIGINT PRIMARY KEY);");
            tables.txn("shop", "t").insert(1L).commit();
            try (CloseableIterator<String> it = job(cluster, checkpoints, null)) {
                assertThat(it.next()).startsWith("SNAPSHOT t - -> [1]");
                tables.txn("shop", "t").insert(2L).commit();
                assertThat(it.next()).startsWith("INSERT t - -> [2]");
                // a checkpoint of the stream's position, taken after that change
                long seen = Checkpoints.latestId(checkpoints);
                await().atMost(Duration.ofMinutes(1))
                        .until(() -> Checkpoints.latestId(checkpoints) > seen + 1);
            } // cancels the job; its checkpoints stay
            Path restoreFrom = Checkpoints.latest(checkpoints);
            long downAt = cluster.currentTs();
            // The source's 1 s lease lapses while the job is down; then GC passes it.
            await().atMost(Duration.ofMinutes(1)).until(() -> cluster.gc(downAt) >= downAt);
            assertThatThrownBy(
                            () -> {
                                try (CloseableIterator<String> it =
                                        job(cluster, checkpoints, restoreFrom)) {
                                    it.hasNext();
                                }
                            })
                    .hasStackTraceContaining(
                            "TiKV source for shop.t cannot resume from its checkpoint")
                    .hasStackTraceContaining("'scan.gc-safe-point.ttl' (PT1S)");
        }
    }

    private static CloseableIterator<String> job(
            MiniTiKVCluster cluster, Path checkpoints, Path restoreFrom) throws Exception {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints.toUri().toString());
        // Keep them all: a checkpoint completing while the job is cancelled would otherwise
        // delete the one the restore was given.
        conf.set(CheckpointingOptions.MAX_RETAINED_CHECKPOINTS, 1000);
        conf.set(
                CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                org.apache.flink.configuration.ExternalizedCheckpointRetention
                        .RETAIN_ON_CANCELLATION);
        if (restoreFrom != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, restoreFrom.toString());
            // The collect sink's uid is new in each job (Flink 2); only the source's state counts.
            conf.set(StateRecoveryOptions.SAVEPOINT_IGNORE_UNCLAIMED_STATE, true);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        env.enableCheckpointing(100, CheckpointingMode.EXACTLY_ONCE);
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
                .uid("source")
                .executeAndCollect();
    }
}
