package io.tiflink.benchmarks;

import io.tiflink.connector.source.StartupMode;
import io.tiflink.connector.source.TiDBChange;
import io.tiflink.connector.source.TiKVDeserializationSchema;
import io.tiflink.connector.source.TiKVSource;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.tidb.MiniClusterRows;
import io.tiflink.tidb.meta.MetaReader;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.schema.SchemaFile;
import io.tiflink.tidb.table.Handle;
import io.tiflink.tidb.table.TableCodec;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;
import org.tikv.common.operation.iterator.ConcreteScanIterator;
import org.tikv.shade.com.google.protobuf.ByteString;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The TiKV source's snapshot throughput at several parallelisms, next to the raw operation it is
 * built on (tikv-client-java scanning the same record keys at one ts, no decoding), and its
 * commit-to-emit latency at a steady write rate, against an in-process {@link MiniTiKVCluster}.
 * Prints Markdown tables.
 *
 * <p>Settings ({@code name=value} or {@code -Dbench.<name>}): {@code rows} (1500000), {@code
 * regions} (6), {@code parallelism} ({@code 1,2}), {@code rounds} (3), {@code latencyRate} (txns/s,
 * 100), {@code latencySeconds} (10), {@code latencyIntervalsMs} ({@code 1000,100}).
 *
 * <pre>
 * ./mvnw -q -pl tiflink-benchmarks -am package -DskipTests -Pbench \
 *     -Dbench.main=io.tiflink.benchmarks.SourceBenchmark [-Dbench.args="rows=100000"]
 * </pre>
 */
public final class SourceBenchmark {
    private final BenchSettings args;

    /** Rows the counting deserializer saw, and emit latencies (ns) by row id. */
    static final AtomicLong SEEN = new AtomicLong();

    static final Map<Long, Long> COMMITTED_AT = new ConcurrentHashMap<>();
    static final AtomicLong FIRST_ROW_AT = new AtomicLong();
    static final AtomicLong LAST_ROW_AT = new AtomicLong();
    static final List<Long> LATENCIES = Collections.synchronizedList(new ArrayList<>());

    private SourceBenchmark(BenchSettings args) {
        this.args = args;
    }

    public static void main(String[] argv) throws Exception {
        BenchSettings args = BenchSettings.parse(argv);
        new SourceBenchmark(args).run();
    }

    private void run() throws Exception {
        System.out.printf(
                Locale.ROOT,
                "# SourceBenchmark: Java %s, %d CPUs, max heap %d MiB, settings %s%n",
                System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors(),
                Runtime.getRuntime().maxMemory() >> 20,
                args);
        snapshot();
        latency();
    }

    // ---- snapshot throughput ----

    private void snapshot() throws Exception {
        int rows = (int) args.number("rows", 1_500_000);
        int regions = (int) args.number("regions", 6);
        int rounds = (int) args.number("rounds", 3);
        List<String> table = new ArrayList<>();
        try (MiniTiKVCluster cluster = MiniTiKVCluster.builder().stores(3).start();
                TiSession session =
                        TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()))) {
            TableInfo t = createTable(session, "snap");
            MiniClusterRows writer = new MiniClusterRows(cluster);
            for (long from = 0; from < rows; from += 5_000) {
                MiniClusterRows.Txn txn = writer.txn(t);
                for (long id = from; id < Math.min(rows, from + 5_000); id++) {
                    txn.insert(id, "name-" + id, id % 1000);
                }
                txn.commit();
            }
            for (int r = 1; r < regions; r++) {
                cluster.split(TableCodec.recordKey(t.id, Handle.ofInt((long) rows * r / regions)));
            }
            System.out.printf("# snapshot: %d rows in %d regions%n", rows, regions);
            double[] raw = new double[rounds];
            for (int i = -1; i < rounds; i++) { // one warm-up round
                long start = System.nanoTime();
                long n = rawScan(session, t, cluster.currentTs());
                check(n, rows);
                if (i >= 0) {
                    raw[i] = rows / seconds(start);
                }
            }
            table.add(row("tikv-client-java scan (raw KVs, no decoding)", "1", raw, median(raw)));
            for (String p : args.text("parallelism", "1,2").split(",")) {
                int parallelism = Integer.parseInt(p.trim());
                double[] ours = new double[rounds];
                double[] reading = new double[rounds];
                for (int i = -1; i < rounds; i++) {
                    SEEN.set(0);
                    FIRST_ROW_AT.set(0);
                    long start = System.nanoTime();
                    runSnapshotJob(cluster, parallelism);
                    check(SEEN.get(), rows);
                    if (i >= 0) {
                        ours[i] = rows / seconds(start);
                        reading[i] = rows / ((LAST_ROW_AT.get() - FIRST_ROW_AT.get()) / 1e9);
                    }
                }
                table.add(
                        row(
                                "TiKVSource, snapshot mode, rows decoded (Flink job incl. start-up)",
                                p.trim(),
                                ours,
                                median(raw)));
                table.add(
                        row(
                                "TiKVSource, snapshot mode, first row to last (start-up excluded)",
                                p.trim(),
                                reading,
                                median(raw)));
            }
        }
        System.out.println();
        System.out.println("| Snapshot | Parallelism | rows/s (median) | min..max | vs raw scan |");
        System.out.println("|---|---:|---:|---:|---:|");
        table.forEach(System.out::println);
    }

    private static TableInfo createTable(TiSession session, String db) {
        SchemaFile.apply(
                SchemaFile.parse(
                        "bench.sql",
                        "CREATE DATABASE "
                                + db
                                + "; USE "
                                + db
                                + "; CREATE TABLE items (id BIGINT PRIMARY KEY,"
                                + " name VARCHAR(32), qty INT);"),
                session);
        return MetaReader.latest(session).table(db, "items");
    }

    private static long rawScan(TiSession session, TableInfo t, long ts) {
        byte[] prefix = TableCodec.recordPrefix(t.id);
        byte[] end = prefix.clone();
        end[end.length - 1]++;
        ConcreteScanIterator it =
                new ConcreteScanIterator(
                        session.getConf(),
                        session.getRegionStoreClientBuilder(),
                        ByteString.copyFrom(prefix),
                        ByteString.copyFrom(end),
                        ts);
        long n = 0;
        while (it.hasNext()) {
            it.next();
            n++;
        }
        return n;
    }

    private static void runSnapshotJob(MiniTiKVCluster cluster, int parallelism) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(parallelism);
        env.fromSource(
                        TiKVSource.<Long>builder()
                                .pdAddresses(cluster.pdAddress())
                                .database("snap")
                                .table("items")
                                .startupMode(StartupMode.SNAPSHOT)
                                .handOffAfterCheckpoint(false)
                                .deserializer(new Counting())
                                .build(),
                        WatermarkStrategy.noWatermarks(),
                        "snapshot")
                .sinkTo(new DiscardingSink<>());
        env.execute("snapshot");
    }

    /** Counts rows (emitting nothing); for latency, notes when each row arrived. */
    static final class Counting implements TiKVDeserializationSchema<Long> {
        @Override
        public void deserialize(TiDBChange change, Collector<Long> out) {
            long now = System.nanoTime();
            FIRST_ROW_AT.compareAndSet(0, now);
            LAST_ROW_AT.accumulateAndGet(now, Math::max);
            SEEN.incrementAndGet();
            if (change.kind() == TiDBChange.Kind.INSERT) {
                Long committed = COMMITTED_AT.remove((Long) change.after()[0]);
                if (committed != null) {
                    LATENCIES.add(System.nanoTime() - committed);
                }
            }
        }

        @Override
        public TypeInformation<Long> getProducedType() {
            return Types.LONG;
        }
    }

    // ---- latency ----

    private void latency() throws Exception {
        int rate = (int) args.number("latencyRate", 100);
        int seconds = (int) args.number("latencySeconds", 10);
        List<String> table = new ArrayList<>();
        for (String interval : args.text("latencyIntervalsMs", "1000,100").split(",")) {
            long ms = Long.parseLong(interval.trim());
            try (MiniTiKVCluster cluster =
                            MiniTiKVCluster.builder()
                                    .stores(3)
                                    .cdcResolvedTsInterval(Duration.ofMillis(ms))
                                    .start();
                    TiSession session =
                            TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()))) {
                TableInfo t = createTable(session, "lat");
                StreamExecutionEnvironment env =
                        StreamExecutionEnvironment.getExecutionEnvironment();
                env.setParallelism(1);
                env.enableCheckpointing(1000);
                env.fromSource(
                                TiKVSource.<Long>builder()
                                        .pdAddresses(cluster.pdAddress())
                                        .database("lat")
                                        .table("items")
                                        .startupMode(StartupMode.LATEST_OFFSET)
                                        .deserializer(new Counting())
                                        .build(),
                                WatermarkStrategy.noWatermarks(),
                                "latency")
                        .sinkTo(new DiscardingSink<>());
                JobClient job = env.executeAsync("latency");
                MiniClusterRows writer = new MiniClusterRows(cluster);
                // Warm up until rows come through, then measure.
                LATENCIES.clear();
                long id = 0;
                long warmUntil = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                while (LATENCIES.isEmpty() || System.nanoTime() < warmUntil) {
                    write(writer, t, id++, rate);
                }
                LATENCIES.clear();
                long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
                int written = 0;
                while (System.nanoTime() < end) {
                    write(writer, t, id++, rate);
                    written++;
                }
                long drain = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                while (LATENCIES.size() < written && System.nanoTime() < drain) {
                    Thread.sleep(10); // a bounded drain wait in a harness, not a test
                }
                job.cancel().get();
                long[] l = LATENCIES.stream().mapToLong(Long::longValue).sorted().toArray();
                table.add(
                        String.format(
                                Locale.ROOT,
                                "| %d ms | %d | %d | %.1f | %.1f | %.1f |",
                                ms,
                                rate,
                                l.length,
                                pct(l, 0.5),
                                pct(l, 0.99),
                                l.length == 0 ? 0 : l[l.length - 1] / 1e6));
            }
        }
        System.out.println();
        System.out.println("# latency: commit returned -> the row in the source's deserializer");
        System.out.println(
                "| Resolved-ts interval | Writes (txns/s) | Rows | p50 ms | p99 ms | max ms |");
        System.out.println("|---:|---:|---:|---:|---:|---:|");
        table.forEach(System.out::println);
    }

    private static void write(MiniClusterRows writer, TableInfo t, long id, int rate)
            throws InterruptedException {
        long next = System.nanoTime() + 1_000_000_000L / rate;
        MiniClusterRows.Txn txn = writer.txn(t).insert(id, "name-" + id, id % 1000);
        long before = System.nanoTime();
        txn.commit();
        COMMITTED_AT.put(id, before);
        long wait = next - System.nanoTime();
        if (wait > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000)); // pacing the write rate
        }
    }

    private static double pct(long[] sorted, double p) {
        return sorted.length == 0
                ? 0
                : sorted[(int) Math.min(sorted.length - 1, p * sorted.length)] / 1e6;
    }

    private static void check(long seen, long expected) {
        if (seen != expected) {
            throw new IllegalStateException("read " + seen + " rows, expected " + expected);
        }
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static String row(String path, String parallelism, double[] rates, double raw) {
        double[] s = rates.clone();
        Arrays.sort(s);
        return String.format(
                Locale.ROOT,
                "| %s | %s | %,.0f | %,.0f..%,.0f | %.2f |",
                path,
                parallelism,
                median(rates),
                s[0],
                s[s.length - 1],
                median(rates) / raw);
    }
}
