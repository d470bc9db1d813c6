package io.tiflink.benchmarks;

import io.tiflink.connector.sink.TiKVSink;
import io.tiflink.connector.sink.TiKVSinkOptions;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.tidb.meta.MetaReader;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.schema.SchemaFile;
import io.tiflink.tidb.table.KeyValue;
import io.tiflink.tidb.table.TableCodec;
import io.tiflink.tidb.write.RowWrite;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

import org.tikv.common.BytePairWrapper;
import org.tikv.common.ByteWrapper;
import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;
import org.tikv.common.util.ConcreteBackOffer;
import org.tikv.txn.TwoPhaseCommitter;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * The TiKV sink's throughput, exactly-once and at-least-once, next to tikv-client-java's {@code
 * TwoPhaseCommitter} writing the same rows (record and index entry, encoded as the sink encodes
 * them) in batch transactions, at several parallelisms, against an in-process {@link
 * MiniTiKVCluster}. Each run writes fresh ids into an empty table. A plain harness like {@link
 * MiniClusterBenchmark}; prints a Markdown table.
 *
 * <p>Settings, as {@code name=value} arguments or {@code bench.<name>} system properties: {@code
 * rows} (per run, default 200000), {@code parallelism} (comma-separated, default {@code 1,2}),
 * {@code rounds} (median of, default 3; each round runs every writer once, in turn), {@code
 * warmups} (rounds not counted, default 1), {@code batch} (rows per transaction of the raw writer
 * and per prewrite of the sink, default 4096), {@code checkpointMillis} (default 1000), {@code
 * stores} (default 3).
 *
 * <pre>
 * ./mvnw -q -pl tiflink-benchmarks -am package -DskipTests -Pbench \
 *     -Dbench.main=io.tiflink.benchmarks.SinkBenchmark [-Dbench.args="rows=100000"]
 * </pre>
 */
public final class SinkBenchmark {
    private static final String DDL =
            " (id BIGINT PRIMARY KEY, name VARCHAR(32), qty INT, KEY k_qty (qty))";

    private final BenchSettings args;
    private final int rows;
    private final int rounds;
    private final int warmups;
    private final int batch;
    private final long checkpointMillis;
    private final int stores;
    private final List<Integer> parallelisms;
    private int tables;

    private SinkBenchmark(BenchSettings args) {
        this.args = args;
        this.rows = (int) args.number("rows", 200_000);
        this.rounds = (int) args.number("rounds", 3);
        this.warmups = (int) args.number("warmups", 1);
        this.batch = (int) args.number("batch", 4096);
        this.checkpointMillis = args.number("checkpointMillis", 1_000);
        this.stores = (int) args.number("stores", 3);
        this.parallelisms = args.integers("parallelism", "1,2");
    }

    public static void main(String[] argv) throws Exception {
        BenchSettings args = BenchSettings.parse(argv);
        new SinkBenchmark(args).run();
    }

    static Object[] row(long id) {
        return new Object[] {id, "name-" + id, id % 1000};
    }

    private interface Run {
        /** Writes {@code rows} rows into the table, at {@code parallelism}; returns seconds. */
        double seconds(MiniTiKVCluster cluster, String table, int parallelism) throws Exception;
    }

    /** A row of the table; the first is the raw writer, the others' ratios are to it. */
    private record Writer(String name, Run run) {}

    private void run() throws Exception {
        System.out.printf(
                Locale.ROOT,
                "# SinkBenchmark: %s; rows=%d rounds=%d warmups=%d batch=%d checkpointMillis=%d"
                        + " stores=%d parallelism=%s%n",
                BenchSettings.jvm(),
                rows,
                rounds,
                warmups,
                batch,
                checkpointMillis,
                stores,
                parallelisms);
        List<String> out = new ArrayList<>();
        try (MiniTiKVCluster cluster = MiniTiKVCluster.builder().stores(stores).start();
                TiSession session = TiSession.create(conf(cluster))) {
            List<Writer> writers =
                    List.of(
                            new Writer(
                                    "TwoPhaseCommitter, " + batch + " rows per transaction",
                                    (c, t, q) -> raw(c, t, q, rows, batch)),
                            new Writer(
                                    "TiKV sink, exactly-once", (c, t, q) -> flink(c, t, q, true)),
                            new Writer(
                                    "TiKV sink, at-least-once", (c, t, q) -> flink(c, t, q, false)),
                            new Writer(
                                    "the same Flink job into a DiscardingSink",
                                    this::pipelineOnly));
            for (int p : parallelisms) {
                double[] seconds = medians(cluster, session, p, writers);
                for (int w = 0; w < writers.size(); w++) {
                    out.add(line(p, writers.get(w).name(), seconds[w], seconds[0]));
                }
            }
        }
        System.out.println();
        System.out.println("| Parallelism | Writer | rows/s (median) | / TwoPhaseCommitter |");
        System.out.println("|---:|---|---:|---:|");
        out.forEach(System.out::println);
    }

    private String line(int parallelism, String what, double seconds, double rawSeconds) {
        return String.format(
                Locale.ROOT,
                "| %d | %s | %,.0f | %.2f |",
                parallelism,
                what,
                rows / seconds,
                rawSeconds / seconds);
    }

    /** The median seconds of each writer, over {@link #rounds} rounds after {@link #warmups}. */
    private double[] medians(
            MiniTiKVCluster cluster, TiSession session, int parallelism, List<Writer> writers)
            throws Exception {
        double[][] s =
                rounds(
                        writers.size(),
                        warmups,
                        rounds,
                        (w, round) -> {
                            String table = emptyTable(cluster, session, "t" + (++tables)).name();
                            double seconds =
                                    writers.get(w).run().seconds(cluster, table, parallelism);
                            System.out.printf(
                                    Locale.ROOT,
                                    "# %s p=%d %s %d, %s: %.2f s%n",
                                    table,
                                    parallelism,
                                    round < 0 ? "warm-up" : "round",
                                    round < 0 ? round + warmups : round,
                                    writers.get(w).name(),
                                    seconds);
                            return seconds;
                        });
        double[] medians = new double[writers.size()];
        for (int w = 0; w < writers.size(); w++) {
            medians[w] = s[w][rounds / 2];
        }
        return medians;
    }

    /**
     * Creates table {@code bench.<name>} in an emptied cluster, so that the rows of earlier runs
     * neither slow a run down nor fill the heap (the minicluster keeps them in memory).
     */
    static TableInfo emptyTable(MiniTiKVCluster cluster, TiSession session, String name) {
        cluster.storage().clear();
        SchemaFile.apply(
                SchemaFile.parse(
                        "bench", "CREATE DATABASE bench; CREATE TABLE bench." + name + DDL + ";"),
                session);
        return MetaReader.latest(session).table("bench", name);
    }

    /** One measurement of work {@code w} in round {@code round}, negative for a warm-up. */
    interface Measure {
        double of(int w, int round) throws Exception;
    }

    /**
     * {@code rounds} measurements of each of {@code works} works, sorted (the median at {@code
     * rounds / 2}), after {@code warmups} rounds not counted. Every round measures each work once,
     * in turn, so that a machine whose load changes slows them alike.
     */
    static double[][] rounds(int works, int warmups, int rounds, Measure measure) throws Exception {
        double[][] values = new double[works][rounds];
        for (int round = -warmups; round < rounds; round++) {
            for (int w = 0; w < works; w++) {
                double v = measure.of(w, round);
                if (round >= 0) {
                    values[w][round] = v;
                }
            }
        }
        for (double[] v : values) {
            Arrays.sort(v);
        }
        return values;
    }

    static TiConfiguration conf(MiniTiKVCluster cluster) {
        TiConfiguration conf = TiConfiguration.createDefault(cluster.pdAddress());
        conf.setGrpcHealthCheckTimeout(2_000); // see MiniClusterBenchmark
        return conf;
    }

    /**
     * Each of {@code parallelism} threads commits its share of rows {@code 0..rows-1}, {@code
     * batch} rows a transaction; returns seconds. SinkCheckpointBenchmark's baseline too.
     */
    static double raw(MiniTiKVCluster cluster, String table, int parallelism, int rows, int batch)
            throws Exception {
        try (TiSession session = TiSession.create(conf(cluster))) {
            TableInfo info = MetaReader.latest(session).table("bench", table);
            TableCodec codec = new TableCodec(info);
            long start = System.nanoTime();
            List<CompletableFuture<Void>> writers = new ArrayList<>();
            for (int w = 0; w < parallelism; w++) {
                int writer = w;
                writers.add(
                        CompletableFuture.runAsync(
                                () -> {
                                    for (long from = (long) writer * batch;
                                            from < rows;
                                            from += (long) parallelism * batch) {
                                        commit(session, codec, from, Math.min(rows, from + batch));
                                    }
                                }));
            }
            CompletableFuture.allOf(writers.toArray(new CompletableFuture[0])).get();
            return (System.nanoTime() - start) / 1e9;
        }
    }

    private static void commit(TiSession session, TableCodec codec, long from, long to) {
        List<BytePairWrapper> kvs = new ArrayList<>();
        for (long id = from; id < to; id++) {
            Object[] row = row(id);
            for (KeyValue kv : codec.encodeRecord(codec.table().id, row, codec.handleOf(row))) {
                kvs.add(new BytePairWrapper(kv.key(), kv.value()));
            }
        }
        long startTs = session.getTimestamp().getVersion();
        try (TwoPhaseCommitter c = new TwoPhaseCommitter(session, startTs, 20_000)) {
            BytePairWrapper primary = kvs.get(0);
            c.prewritePrimaryKey(
                    ConcreteBackOffer.newCustomBackOff(20_000),
                    primary.getKey(),
                    primary.getValue());
            c.prewriteSecondaryKeys(
                    primary.getKey(), kvs.subList(1, kvs.size()).iterator(), 20_000);
            long commitTs = session.getTimestamp().getVersion();
            c.commitPrimaryKey(
                    ConcreteBackOffer.newCustomBackOff(20_000), primary.getKey(), commitTs);
            List<ByteWrapper> keys = new ArrayList<>();
            for (BytePairWrapper kv : kvs.subList(1, kvs.size())) {
                keys.add(new ByteWrapper(kv.getKey()));
            }
            c.commitSecondaryKeys(keys.iterator(), commitTs, 20_000);
        } catch (Exception e) {
            throw new IllegalStateException("raw batch write failed", e);
        }
    }

    private double flink(
            MiniTiKVCluster cluster, String table, int parallelism, boolean exactlyOnce)
            throws Exception {
        return job(
                parallelism,
                TiKVSink.<RowWrite>builder()
                        .pdAddresses(cluster.pdAddress())
                        .database("bench")
                        .table(table)
                        .deliveryGuarantee(
                                exactlyOnce
                                        ? DeliveryGuarantee.EXACTLY_ONCE
                                        : DeliveryGuarantee.AT_LEAST_ONCE)
                        .option(TiKVSinkOptions.BUFFER_FLUSH_MAX_ROWS, batch)
                        .serializer(c -> c)
                        .build());
    }

    /** The fixed cost in the sink's numbers: the job (start, source, serialization) alone. */
    private double pipelineOnly(MiniTiKVCluster cluster, String table, int parallelism)
            throws Exception {
        return job(parallelism, new DiscardingSink<>());
    }

    private double job(int parallelism, Sink<RowWrite> sink) throws Exception {
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(new Configuration());
        env.setParallelism(parallelism);
        env.enableCheckpointing(checkpointMillis);
        env.fromSequence(0, rows - 1)
                .map(id -> RowWrite.upsert(row(id)))
                .returns(TypeInformation.of(RowWrite.class))
                .sinkTo(sink);
        long start = System.nanoTime();
        env.execute("sink benchmark");
        return (System.nanoTime() - start) / 1e9;
    }
}
