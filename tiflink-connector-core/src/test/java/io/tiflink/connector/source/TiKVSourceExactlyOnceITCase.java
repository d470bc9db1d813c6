package io.tiflink.connector.source;

import io.tiflink.connector.testutils.ChangeStrings;
import io.tiflink.connector.testutils.ExactlyOnceCollector;
import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.region.Region;
import io.tiflink.minicluster.tidb.MiniClusterRows;
import io.tiflink.minicluster.workload.TiDBLikeWriter;
import io.tiflink.minicluster.workload.TiDBLikeWriter.Crash;
import io.tiflink.minicluster.workload.TiDBLikeWriter.Shape;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.table.Handle;
import io.tiflink.tidb.table.TableCodec;

import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Exactly once through failures: random inserts, updates and deletes, committed in each of TiDB's
 * shapes (optimistic, async commit, 1PC, pessimistic) and some crashed (async commit, committed or
 * rolled back by the readers that meet them), while the job is killed and restored from checkpoints
 * at random moments (during the snapshot, at the hand-off, while streaming) and regions split and
 * move leaders. The table rebuilt from the emitted changelog must equal the table read at the end,
 * every update and delete must retract exactly the row emitted before it, and no change may be
 * emitted twice.
 */
class TiKVSourceExactlyOnceITCase {
    private static final Logger LOG = LoggerFactory.getLogger(TiKVSourceExactlyOnceITCase.class);
    private static final int INITIAL_ROWS = 3000;
    private static final int KEYS = 4000;

    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(3).cdcResolvedTsInterval(Duration.ofMillis(50)));

    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(2);

    /** Records until the next injected failure; negative when none is armed. */
    static final AtomicInteger RECORDS_BEFORE_FAILURE = new AtomicInteger(-1);

    static final AtomicInteger FAILURES = new AtomicInteger();

    /** Crashed transactions so far: their rows' ids are past the changed ones. */
    private static final AtomicInteger CRASHED = new AtomicInteger();

    private static final long CRASHED_SPLIT = 10L * KEYS;

    private static final Pattern CHANGE =
            Pattern.compile("(\\w+) items (-|\\[.*?\\]) -> (-|\\[.*?\\])( @(\\d+))?");

    @Test
    void emitsEveryChangeExactlyOnceThroughFailures(MiniTiKVCluster cluster) throws Exception {
        long seed = Long.getLong("eo.seed", System.nanoTime());
        LOG.info("seed {}", seed);
        Random rnd = new Random(seed);
        TiDBTables tables = new TiDBTables(cluster);
        tables.ddl(
                "CREATE DATABASE eo; USE eo;"
                        + " CREATE TABLE items (id BIGINT PRIMARY KEY, v BIGINT, s VARCHAR(64));");
        TableInfo items = tables.table("eo", "items");
        long tableId = items.id;
        Map<Long, Long> model = new HashMap<>();
        MiniClusterRows.Txn load = tables.txn(items);
        for (long i = 0; i < INITIAL_ROWS; i++) {
            load.insert(i, i, "row" + i);
            model.put(i, i);
        }
        load.commit();
        cluster.split(key(tableId, INITIAL_ROWS / 2), key(tableId, CRASHED_SPLIT));
        // Changes commit as TiDB commits them, in every shape; some crash (see mutate).
        TiDBLikeWriter tidb = new TiDBLikeWriter(cluster, 3000);
        TiDBLikeWriter crashing = new TiDBLikeWriter(cluster, 200);

        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 100);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(300);
        env.setRuntimeMode(RuntimeExecutionMode.STREAMING);
        env.fromSource(
                        TiKVSource.<String>builder()
                                .pdAddresses(cluster.pdAddress())
                                .database("eo")
                                .table("items")
                                .option(TiKVSourceOptions.SNAPSHOT_FETCH_SIZE, 64)
                                // Crashed transactions' locks hold the resolved ts until then.
                                .option(
                                        TiKVSourceOptions.CDC_LOCK_RESOLVE_AFTER,
                                        Duration.ofSeconds(1))
                                .deserializer(new ChangeStrings())
                                .build(),
                        WatermarkStrategy.noWatermarks(),
                        "items")
                .map(TiKVSourceExactlyOnceITCase::maybeFail)
                .returns(Types.STRING)
                .transform("collect", Types.VOID, new ExactlyOnceCollector("eo"))
                .setParallelism(1);
        // The first failure while the snapshot is read.
        RECORDS_BEFORE_FAILURE.set(rnd.nextInt(INITIAL_ROWS));
        JobClient job = env.executeAsync("exactly-once");
        try {
            long start = System.nanoTime();
            long deadline = start + Duration.ofSeconds(12).toNanos();
            // Past the deadline only until two failures happened (planning many regions can
            // take a while), and never past this.
            long lastDeadline = start + Duration.ofSeconds(60).toNanos();
            // Region chaos at most every 20 ms: changes go straight to the engine, so an
            // unpaced loop would cut the table into thousands of regions.
            long chaosEvery = Duration.ofMillis(20).toNanos();
            long lastChaos = 0;
            int armed = 1;
            long opEvery = Duration.ofMillis(1).toNanos(); // a load of about 1,000 ops/s
            long nextOp = start;
            while (System.nanoTime() < deadline
                    || FAILURES.get() < 2 && System.nanoTime() < lastDeadline) {
                LockSupport.parkNanos(nextOp - System.nanoTime());
                nextOp += opEvery;
                int op = rnd.nextInt(100);
                boolean chaos = op >= 85 && op < 97;
                if (chaos && System.nanoTime() - lastChaos < chaosEvery) {
                    op = 0; // a change instead
                } else if (chaos) {
                    lastChaos = System.nanoTime();
                }
                if (op < 85) {
                    mutate(tidb, crashing, tables, items, model, rnd);
                } else if (op < 92) {
                    cluster.split(key(tableId, rnd.nextInt(KEYS)));
                } else if (op < 97) {
                    List<Region> regions = cluster.regions().all();
                    Region r = regions.get(rnd.nextInt(regions.size()));
                    cluster.transferLeader(r.id, cluster.storeIds().get(rnd.nextInt(3)));
                } else if (RECORDS_BEFORE_FAILURE.get() < 0 && armed < 8) {
                    // The next failure after a random number of records: in the snapshot, at
                    // the hand-off, or while streaming.
                    RECORDS_BEFORE_FAILURE.set(rnd.nextInt(3000));
                    armed++;
                }
            }
            long end = cluster.currentTs();
            LOG.info(
                    "{} failures armed, {} transactions crashed; waiting for the changelog to reach"
                            + " ts {}",
                    armed,
                    CRASHED.get(),
                    end);
            assertThat(CRASHED.get()).as("crashed transactions").isPositive();
            Map<Long, String> expected = new TreeMap<>();
            for (Object[] row : tables.rows(items, end)) {
                expected.put((Long) row[0], ChangeStrings.row(row));
            }
            await().atMost(Duration.ofSeconds(90))
                    .pollInterval(Duration.ofMillis(500))
                    .untilAsserted(
                            () ->
                                    assertThat(
                                                    difference(
                                                            rebuild(
                                                                    ExactlyOnceCollector.committed(
                                                                            "eo")),
                                                            expected))
                                            .as("rows rebuilt from the changelog vs the table")
                                            .isEmpty());
            assertThat(FAILURES.get()).as("failures that happened").isGreaterThan(1);
        } finally {
            job.cancel().get();
            tidb.close();
            crashing.close();
            tables.close();
        }
    }

    /** The keys whose rows differ, each with what the changelog has and what the table has. */
    private static Map<Long, String> difference(Map<Long, String> actual, Map<Long, String> table) {
        Map<Long, String> diff = new TreeMap<>();
        Set<Long> keys = new HashSet<>(actual.keySet());
        keys.addAll(table.keySet());
        for (Long k : keys) {
            if (!java.util.Objects.equals(actual.get(k), table.get(k))) {
                diff.put(k, actual.get(k) + " vs table " + table.get(k));
            }
        }
        return diff;
    }

    private static String maybeFail(String record) {
        if (RECORDS_BEFORE_FAILURE.get() >= 0 && RECORDS_BEFORE_FAILURE.getAndDecrement() == 0) {
            FAILURES.incrementAndGet();
            throw new RuntimeException("injected failure at " + record);
        }
        return record;
    }

    private static byte[] key(long tableId, long handle) {
        return TableCodec.recordKey(tableId, Handle.ofInt(handle));
    }

    /**
     * One transaction of one to three row changes, in a random one of TiDB's shapes. One in fifty
     * instead inserts two rows of their own (ids past {@code KEYS}, never changed again) and
     * crashes with async commit: after prewriting both (so it is committed) or with the second
     * never prewritten when the rows are in two regions (rolled back). Readers settle them.
     */
    private static void mutate(
            TiDBLikeWriter tidb,
            TiDBLikeWriter crashing,
            TiDBTables tables,
            TableInfo items,
            Map<Long, Long> model,
            Random rnd) {
        MiniClusterRows.Txn txn = tables.txn(items);
        if (rnd.nextInt(50) == 0) {
            // Two rows on either side of the split at CRASHED_SPLIT: two regions.
            long id = KEYS + CRASHED.getAndIncrement();
            txn.insert(id, 0L, "crashed").insert(CRASHED_SPLIT + id, 0L, "crashed");
            try {
                crashing.crash(
                        Shape.ASYNC_COMMIT,
                        rnd.nextBoolean() ? Crash.AFTER_PREWRITE : Crash.MISSING_SECONDARIES,
                        txn.writes());
            } catch (IllegalArgumentException oneRegion) {
                crashing.crash(Shape.ASYNC_COMMIT, Crash.AFTER_PREWRITE, txn.writes());
            }
            return;
        }
        Set<Long> touched = new HashSet<>();
        Map<Long, Long> next = new HashMap<>();
        Set<Long> deleted = new HashSet<>();
        for (int i = 1 + rnd.nextInt(3); i > 0; i--) {
            long id = rnd.nextInt(KEYS);
            if (!touched.add(id)) {
                continue;
            }
            Long v = model.get(id);
            if (v == null) {
                txn.insert(id, 0L, "new" + id);
                next.put(id, 0L);
            } else if (rnd.nextInt(4) == 0) {
                txn.delete(id, v, v == id ? "row" + id : "v" + v);
                deleted.add(id);
            } else {
                long after = v + 1 + rnd.nextInt(1000);
                txn.update(
                        new Object[] {id, v, v == id ? "row" + id : "v" + v},
                        new Object[] {id, after, "v" + after});
                next.put(id, after);
            }
        }
        Shape[] shapes = Shape.values();
        Shape shape = shapes[rnd.nextInt(shapes.length)];
        try {
            tidb.commit(shape, txn.writes());
        } catch (IllegalArgumentException keysInTwoRegions) {
            tidb.commit(Shape.OPTIMISTIC, txn.writes()); // 1PC only within one region
        }
        model.putAll(next);
        deleted.forEach(model::remove);
    }

    /**
     * The table the changelog describes, checking on the way that each update and delete retracts
     * the row emitted before it and that no change (key and commit ts) comes twice.
     */
    private static Map<Long, String> rebuild(List<String> changelog) {
        Map<Long, String> rows = new TreeMap<>();
        Set<String> seen = new HashSet<>();
        for (String change : changelog) {
            Matcher m = CHANGE.matcher(change);
            assertThat(m.matches()).as("change %s", change).isTrue();
            String kind = m.group(1);
            String before = m.group(2);
            String after = m.group(3);
            String row = after.equals("-") ? before : after;
            long id = Long.parseLong(row.substring(1, row.indexOf(',')));
            if (m.group(5) != null) {
                assertThat(seen.add(id + "@" + m.group(5)))
                        .as("emitted twice: %s", change)
                        .isTrue();
            }
            switch (kind) {
                case "SNAPSHOT":
                case "INSERT":
                    assertThat(rows.put(id, after))
                            .as("insert of an existing row: %s", change)
                            .isNull();
                    break;
                case "UPDATE":
                    assertThat(rows.put(id, after))
                            .as("update retracts: %s", change)
                            .isEqualTo(before);
                    break;
                case "DELETE":
                    assertThat(rows.remove(id)).as("delete retracts: %s", change).isEqualTo(before);
                    break;
                default:
                    throw new AssertionError(change);
            }
        }
        return rows;
    }
}
