package io.tiflink.connector.sink;

import io.tiflink.connector.testutils.FailingCheckpoint;
import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.LogRecorder;
import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.tidb.write.RowWrite;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiter;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bounded jobs whose input ends right after a checkpoint, or after a failed one: every change is
 * committed once, also those a subtask deferred to the next epoch (rows changed again after it
 * wrote them in the epoch) when no other change followed them before the end. The source lets its
 * records through in chunks, each right after a checkpoint completed (so that it is written in one
 * epoch: the next checkpoint waits for the minimum pause), and the end of the input only after a
 * checkpoint wholly after the last chunk. Such a normal end logs nothing alarming.
 */
@Timeout(120)
class TiKVSinkEndOfInputITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(1));

    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(2);

    @RegisterExtension final LogRecorder logs = new LogRecorder("io.tiflink");

    /** Records the running job's source emitted (one job at a time, in this JVM). */
    private static final AtomicLong EMITTED = new AtomicLong();

    /** Completed when the running job's failed checkpoint was aborted. */
    private static volatile CompletableFuture<Void> ABORTED;

    private static TiDBTables tables;

    @BeforeAll
    static void schema(MiniTiKVCluster cluster) {
        StringBuilder ddl = new StringBuilder("CREATE DATABASE e; USE e;");
        for (String t : List.of("c12", "c4", "c7", "f6", "f12")) {
            ddl.append(" CREATE TABLE ")
                    .append(t)
                    .append(" (id BIGINT PRIMARY KEY, name VARCHAR(32) NOT NULL, n BIGINT,")
                    .append("   UNIQUE KEY uk_name (name), KEY k_n (n));");
        }
        tables = new TiDBTables(cluster);
        tables.ddl(ddl.toString());
    }

    @AfterAll
    static void close() throws Exception {
        tables.close();
    }

    /** Three rows changed over and over: a two-row buffer defers most changes to a next epoch. */
    static RowWrite change(long i) {
        long id = i % 3;
        if (i % 5 == 4) {
            return RowWrite.delete(new Object[] {id, null, null});
        }
        return RowWrite.upsert(new Object[] {id, "n" + id + "-" + i, i});
    }

    private static List<String> expected(long count) {
        Map<Long, String> rows = new TreeMap<>();
        for (long i = 0; i < count; i++) {
            RowWrite c = change(i);
            if (c.kind() == RowWrite.Kind.DELETE) {
                rows.remove((Long) c.row()[0]);
            } else {
                rows.put((Long) c.row()[0], Arrays.toString(c.row()));
            }
        }
        return new ArrayList<>(rows.values());
    }

    /**
     * Writes changes {@code 0..count-1} into {@code table}, {@code chunk} per checkpoint; with
     * {@code failAfterChunk}, the checkpoint after the first chunk fails (after the writer took
     * part in it) and the rest follows its abort.
     */
    private static void write(
            MiniTiKVCluster cluster, String table, long count, int chunk, boolean failAfterChunk)
            throws Exception {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        conf.set(CheckpointingOptions.MIN_PAUSE_BETWEEN_CHECKPOINTS, Duration.ofMillis(300));
        conf.set(CheckpointingOptions.TOLERABLE_FAILURE_NUMBER, 5);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        env.enableCheckpointing(50);
        EMITTED.set(0);
        ABORTED = FailingCheckpoint.reset();
        DataGeneratorSource<Long> source =
                new DataGeneratorSource<>(
                        index -> {
                            EMITTED.set(index + 1);
                            return index;
                        },
                        count,
                        CheckpointGate.strategy(chunk, count, failAfterChunk),
                        Types.LONG);
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "changes")
                .map(new FailingCheckpoint(failAfterChunk ? chunk : Long.MAX_VALUE))
                .map(TiKVSinkEndOfInputITCase::change)
                .returns(TypeInformation.of(RowWrite.class))
                .sinkTo(
                        TiKVSink.<RowWrite>builder()
                                .pdAddresses(cluster.pdAddress())
                                .database("e")
                                .table(table)
                                .option(TiKVSinkOptions.BUFFER_FLUSH_MAX_ROWS, 2)
                                // fail soon if an epoch never opens
                                .option(TiKVSinkOptions.EPOCH_TIMEOUT, Duration.ofSeconds(10))
                                .serializer(c -> c)
                                .build());
        env.execute("write " + table);
        assertThat(EMITTED.get()).isEqualTo(count);
    }

    private static List<String> rows(MiniTiKVCluster cluster, String table) {
        long ts = cluster.currentTs();
        assertThat(tables.indexEntries("e", table, ts))
                .as("index entries of %s", table)
                .isEqualTo(tables.expectedIndexEntries("e", table, ts));
        List<String> out = new ArrayList<>();
        for (Object[] r : tables.rows("e", table, ts)) {
            out.add(Arrays.toString(r));
        }
        return out;
    }

    // What the writer deferred in the last chunk's epoch has no change after it to be written
    // with: it must still be committed, after that epoch.
    @ParameterizedTest(name = "{1} records, {0} per checkpoint")
    @CsvSource({"12, 12", "4, 12", "7, 21"})
    void changesDeferredPastTheLastCheckpointAreCommitted(
            int chunk, long count, MiniTiKVCluster cluster) throws Exception {
        String table = "c" + chunk;
        write(cluster, table, count, chunk, false);
        assertThat(rows(cluster, table)).containsExactlyElementsOf(expected(count));
        // A normal end: the empty epoch left open after the final checkpoint is no news.
        assertThat(logs.atLeast(Level.WARN)).isEmpty();
        assertThat(logs.atLeast(Level.INFO)).noneMatch(line -> line.contains("rolled back"));
    }

    // The writer took part in a checkpoint that then failed: the epoch it was to write next never
    // opens. The input ends right after it, with changes deferred in the epoch before; or first
    // fills the writer's buffer again. Neither waits for the epoch (until the open timeout).
    @ParameterizedTest(name = "{1} records, {0} before the failed checkpoint")
    @CsvSource({"6, 6", "6, 12"})
    void aFailedCheckpointDoesNotHoldTheWriterBack(int chunk, long count, MiniTiKVCluster cluster)
            throws Exception {
        String table = "f" + count;
        write(cluster, table, count, chunk, true);
        assertThat(ABORTED).as("the failed checkpoint aborted").isDone();
        assertThat(rows(cluster, table)).containsExactlyElementsOf(expected(count));
    }

    /**
     * Holds the source until a checkpoint taken wholly after the last record completed: at the
     * start, after each {@code chunk} records, and before the end of the input; or, with {@code
     * untilAborted}, after the first chunk until {@link #ABORTED}, and then no more. (Compiles
     * against Flink 1.20's {@link RateLimiter}, whose abstract method is {@code acquire()}, and
     * 2.x's, whose is {@code acquire(int)}.)
     */
    @SuppressWarnings("rawtypes")
    static final class CheckpointGate implements RateLimiter {
        private final int chunk;
        private final long count;
        private final boolean untilAborted;
        private long gatedAt = -1;
        private CompletableFuture<Void> gate = CompletableFuture.completedFuture(null);
        private int completions;

        CheckpointGate(int chunk, long count, boolean untilAborted) {
            this.chunk = chunk;
            this.count = count;
            this.untilAborted = untilAborted;
        }

        static RateLimiterStrategy strategy(int chunk, long count, boolean untilAborted) {
            return parallelism -> new CheckpointGate(chunk, count, untilAborted);
        }

        /** Called before every poll of the source, in the task's thread. */
        @Override
        public CompletionStage<Void> acquire() {
            long emitted = EMITTED.get();
            if (untilAborted && gatedAt >= chunk) {
                return gate;
            }
            if (emitted > gatedAt && (emitted % chunk == 0 || emitted == count)) {
                gatedAt = emitted;
                gate = untilAborted && emitted == chunk ? ABORTED : new CompletableFuture<>();
                completions = 0;
            }
            return gate;
        }

        public CompletionStage<Void> acquire(int permits) {
            return acquire();
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            // One checkpoint at a time: the second to complete after the gate closed was
            // triggered after the first completed, so its barrier followed the records.
            if (gate != ABORTED && !gate.isDone() && ++completions == 2) {
                gate.complete(null);
            }
        }
    }
}
