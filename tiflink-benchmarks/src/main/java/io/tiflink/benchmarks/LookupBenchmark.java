package io.tiflink.benchmarks;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.tidb.MiniClusterRows;
import io.tiflink.tidb.meta.MetaReader;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.schema.SchemaFile;
import io.tiflink.tidb.table.Handle;
import io.tiflink.tidb.table.TableCodec;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;

import org.tikv.common.BytePairWrapper;
import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Lookup joins on a TiKV table: lookups/s and p99 latency of a Flink SQL lookup join (async and
 * sync, with and without the partial cache) at several parallelisms, next to tikv-client-java
 * batch-getting the same record keys at a fresh TSO per batch, against an in-process {@link
 * MiniTiKVCluster}. Prints a Markdown table.
 *
 * <p>The dimension table ({@code id BIGINT PRIMARY KEY, name VARCHAR(32), qty INT}) has {@code
 * rows} rows in {@code regions} regions; the job looks up {@code lookups} keys drawn uniformly from
 * the first {@code distinct} ids. Latency is from when a probe row enters the lookup operator (made
 * by the operator chained before it) to when its joined row leaves it, so under full load it
 * includes the wait in the async operator's queue. The raw reads take keys in batches of {@code
 * batch} (Flink's async lookup buffer capacity, 100) on one thread per parallel reader; a key's
 * latency is its batch's.
 *
 * <p>Settings ({@code name=value} or {@code -Dbench.<name>}): {@code rows} (100000), {@code
 * regions} (6), {@code lookups} (50000), {@code distinct} (10000), {@code batch} (100), {@code
 * parallelism} ({@code 1,2}), {@code rounds} (3, after one warm-up; the round of median throughput
 * is shown).
 *
 * <pre>
 * ./mvnw -q -pl tiflink-benchmarks -am package -DskipTests -Pbench \
 *     -Dbench.main=io.tiflink.benchmarks.LookupBenchmark [-Dbench.args="lookups=20000"]
 * </pre>
 */
public final class LookupBenchmark {
    private final BenchSettings args;

    static long[] keys;
    static final AtomicLong FIRST_PROBE = new AtomicLong();
    static final AtomicLong LAST_RESULT = new AtomicLong();
    static final List<Long> LATENCIES = Collections.synchronizedList(new ArrayList<>());

    private LookupBenchmark(BenchSettings args) {
        this.args = args;
    }

    public static void main(String[] argv) throws Exception {
        new LookupBenchmark(BenchSettings.parse(argv)).run();
    }

    private void run() throws Exception {
        int rows = (int) args.number("rows", 100_000);
        int regions = (int) args.number("regions", 6);
        int lookups = (int) args.number("lookups", 50_000);
        int distinct = (int) args.number("distinct", 10_000);
        int batch = (int) args.number("batch", 100);
        int rounds = (int) args.number("rounds", 3);
        System.out.printf(
                Locale.ROOT,
                "# LookupBenchmark: Java %s, %d CPUs, max heap %d MiB, settings %s%n",
                System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors(),
                Runtime.getRuntime().maxMemory() >> 20,
                args);
        Random random = new Random(42);
        keys = new long[lookups];
        for (int i = 0; i < lookups; i++) {
            keys[i] = random.nextInt(distinct);
        }
        List<String> table = new ArrayList<>();
        try (MiniTiKVCluster cluster = MiniTiKVCluster.builder().stores(3).start();
                TiSession session =
                        TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()))) {
            SchemaFile.apply(
                    SchemaFile.parse(
                            "bench.sql",
                            "CREATE DATABASE look; USE look; CREATE TABLE dim (id BIGINT PRIMARY"
                                    + " KEY, name VARCHAR(32), qty INT);"),
                    session);
            TableInfo t = MetaReader.latest(session).table("look", "dim");
            MiniClusterRows writer = new MiniClusterRows(cluster);
            for (long from = 0; from < rows; from += 5_000) {
                MiniClusterRows.Txn txn = writer.txn(t);
                for (long id = from; id < Math.min(rows, from + 5_000); id++) {
                    txn.insert(id, "name-" + id, id % 1000);
                }
                txn.commit();
            }
            for (int r = 1; r < regions; r++) {
                cluster.split(
                        TableCodec.recordKey(t.id, Handle.ofInt((long) distinct * r / regions)));
            }
            System.out.printf(
                    "# %d rows in %d regions, %d lookups of %d distinct keys%n",
                    rows, regions, lookups, distinct);
            for (String p : args.text("parallelism", "1,2").split(",")) {
                int parallelism = Integer.parseInt(p.trim());
                List<Result> raws = new ArrayList<>();
                for (int i = -1; i < rounds; i++) {
                    Result r = rawBatchGets(session, t, parallelism, batch);
                    if (i >= 0) {
                        raws.add(r);
                    }
                }
                Result raw = median(raws);
                table.add(raw.row("tikv-client-java batch get, TSO per batch", p.trim(), raw));
                String[][] variants = {
                    {"SQL lookup join, async", "'lookup.async' = 'true'"},
                    {
                        "SQL lookup join, async, partial cache",
                        "'lookup.async' = 'true', 'lookup.cache' = 'PARTIAL',"
                                + " 'lookup.partial-cache.max-rows' = '100000',"
                                + " 'lookup.partial-cache.expire-after-write' = '10 min'"
                    },
                    {"SQL lookup join, sync", "'lookup.async' = 'false'"},
                    {
                        "SQL lookup join, sync, partial cache",
                        "'lookup.async' = 'false', 'lookup.cache' = 'PARTIAL',"
                                + " 'lookup.partial-cache.max-rows' = '100000',"
                                + " 'lookup.partial-cache.expire-after-write' = '10 min'"
                    }
                };
                for (String[] v : variants) {
                    List<Result> ours = new ArrayList<>();
                    for (int i = -1; i < rounds; i++) {
                        Result r = lookupJob(cluster, parallelism, v[1]);
                        if (i >= 0) {
                            ours.add(r);
                        }
                    }
                    table.add(median(ours).row(v[0], p.trim(), raw));
                }
            }
        }
        System.out.println();
        System.out.println("| Lookups | Parallelism | lookups/s | p50 ms | p99 ms | vs raw |");
        System.out.println("|---|---:|---:|---:|---:|---:|");
        table.forEach(System.out::println);
    }

    /** The round of median throughput. */
    private static Result median(List<Result> rounds) {
        rounds.sort(Comparator.comparingDouble(r -> r.perSecond));
        return rounds.get(rounds.size() / 2);
    }

    /** Throughput and latencies of one measurement. */
    static final class Result {
        final double perSecond;
        final double p50Millis;
        final double p99Millis;

        Result(long n, long nanos, List<Long> latencies) {
            this.perSecond = n / (nanos / 1e9);
            long[] l = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
            this.p50Millis = l[(int) (l.length * 0.50)] / 1e6;
            this.p99Millis = l[Math.min(l.length - 1, (int) (l.length * 0.99))] / 1e6;
        }

        String row(String what, String parallelism, Result raw) {
            return String.format(
                    Locale.ROOT,
                    "| %s | %s | %,.0f | %.2f | %.2f | %.2f |",
                    what,
                    parallelism,
                    perSecond,
                    p50Millis,
                    p99Millis,
                    perSecond / raw.perSecond);
        }
    }

    /** tikv-client-java batch gets of the same keys, one thread per reader, a TSO per batch. */
    private static Result rawBatchGets(TiSession session, TableInfo t, int readers, int batch)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(readers);
        List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        long start = System.nanoTime();
        try {
            List<Future<Long>> found = new ArrayList<>();
            for (int r = 0; r < readers; r++) {
                int reader = r;
                found.add(
                        pool.submit(
                                () -> {
                                    long n = 0;
                                    int from = keys.length * reader / readers;
                                    int to = keys.length * (reader + 1) / readers;
                                    for (int i = from; i < to; i += batch) {
                                        long began = System.nanoTime();
                                        List<byte[]> ks = new ArrayList<>();
                                        for (int k = i; k < Math.min(to, i + batch); k++) {
                                            ks.add(
                                                    TableCodec.recordKey(
                                                            t.id, Handle.ofInt(keys[k])));
                                        }
                                        List<BytePairWrapper> got =
                                                session.createSnapshot().batchGet(20_000, ks);
                                        n += got.size();
                                        long took = System.nanoTime() - began;
                                        for (int k = 0; k < ks.size(); k++) {
                                            latencies.add(took);
                                        }
                                    }
                                    return n;
                                }));
            }
            long n = 0;
            for (Future<Long> f : found) {
                n += f.get();
            }
            check(n, keys.length);
        } finally {
            pool.shutdown();
        }
        return new Result(keys.length, System.nanoTime() - start, latencies);
    }

    private static Result lookupJob(MiniTiKVCluster cluster, int parallelism, String options)
            throws Exception {
        FIRST_PROBE.set(0);
        LAST_RESULT.set(0);
        LATENCIES.clear();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(parallelism);
        StreamTableEnvironment t = StreamTableEnvironment.create(env);
        t.executeSql(
                "CREATE TABLE dim (id BIGINT, name STRING, qty INT) WITH ('connector' = 'tikv',"
                        + " 'pd-addresses' = '"
                        + cluster.pdAddress()
                        + "', 'database-name' = 'look', 'table-name' = 'dim', "
                        + options
                        + ")");
        DataStream<Row> probes =
                env.fromSequence(0, keys.length - 1)
                        .map(new Probe())
                        .returns(Types.ROW_NAMED(new String[] {"k", "t0"}, Types.LONG, Types.LONG));
        t.createTemporaryView(
                "probes",
                t.fromDataStream(
                        probes,
                        Schema.newBuilder()
                                .column("k", "BIGINT")
                                .column("t0", "BIGINT")
                                .columnByExpression("pt", "PROCTIME()")
                                .build()));
        t.toDataStream(
                        t.sqlQuery(
                                "SELECT p.t0, d.qty FROM probes AS p JOIN dim FOR SYSTEM_TIME AS"
                                        + " OF p.pt AS d ON p.k = d.id"))
                .map(new Record())
                .returns(Types.LONG)
                .sinkTo(new DiscardingSink<>());
        env.execute("lookups");
        check(LATENCIES.size(), keys.length);
        return new Result(keys.length, LAST_RESULT.get() - FIRST_PROBE.get(), LATENCIES);
    }

    /** A probe row: the key, and when it was made (just before the lookup operator). */
    static final class Probe implements MapFunction<Long, Row> {
        @Override
        public Row map(Long i) {
            long now = System.nanoTime();
            FIRST_PROBE.compareAndSet(0, now);
            return Row.of(keys[(int) (long) i], now);
        }
    }

    /** Notes a joined row's latency. */
    static final class Record implements MapFunction<Row, Long> {
        @Override
        public Long map(Row r) {
            long now = System.nanoTime();
            LATENCIES.add(now - (Long) r.getField(0));
            LAST_RESULT.accumulateAndGet(now, Math::max);
            return 0L;
        }
    }

    private static void check(long n, long expected) {
        if (n != expected) {
            throw new IllegalStateException("expected " + expected + " rows, found " + n);
        }
    }
}
