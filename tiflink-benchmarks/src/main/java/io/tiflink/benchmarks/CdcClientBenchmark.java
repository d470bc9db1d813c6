package io.tiflink.benchmarks;

import io.tiflink.cdc.client.CdcClient;
import io.tiflink.cdc.client.CdcClientConfig;
import io.tiflink.cdc.client.ChangeEvent;
import io.tiflink.cdc.client.ChangeStream;
import io.tiflink.cdc.client.KeyChange;
import io.tiflink.cdc.client.KeyRange;
import io.tiflink.minicluster.MiniTiKVCluster;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;
import org.tikv.shade.com.google.protobuf.ByteString;

import com.sun.management.GarbageCollectionNotificationInfo;

import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static io.tiflink.benchmarks.BenchKeys.bytes;

/**
 * A plain benchmark harness for {@code tiflink-cdc-client} against a 3-store {@link
 * MiniTiKVCluster}, next to the raw TiKV operation it is built on ({@link RawEventFeed}: one bare
 * EventFeed stream per store, rows counted as they arrive). Prints Markdown tables. Four parts, in
 * one run:
 *
 * <ol>
 *   <li>{@code catchup}: {@code catchUpRows} rows committed after a start ts, then subscribed from
 *       it; events/s until every row and a resolved ts past the last commit are delivered, against
 *       the raw feed counting COMMITTED rows until every region is INITIALIZED.
 *   <li>{@code live}: a writer commits on the engine as fast as it can for {@code liveSeconds}
 *       while one consumer is subscribed; events/s from the first commit until everything is
 *       delivered. Rounds alternate between the client and the raw feed, each on a fresh cluster.
 *   <li>{@code latency}: {@code latencyRate} single-key txns/s; commit-to-delivery latency of the
 *       client and of the raw feed (subscribed together) at each resolved-ts interval.
 *   <li>{@code stall}: a minicluster in a child JVM, a writer there at {@code stallRate} txns/s for
 *       {@code stallSeconds} while the consumer takes nothing, then a drain; the client JVM's heap,
 *       its buffered and spilled bytes, and a check that every change came once, in order; then a
 *       raw feed paused the same way (no message taken) under the same writes, and its drain.
 * </ol>
 *
 * <p>Every setting is a system property {@code bench.<name>} or an argument {@code <name>=<value>}
 * (arguments win); see the fields. Run from the repository root:
 *
 * <pre>
 * ./mvnw -q -pl tiflink-benchmarks -am package -DskipTests -Pbench \
 *     -Dbench.main=io.tiflink.benchmarks.CdcClientBenchmark [-Dbench.args="only=catchup,latency"]
 * </pre>
 */
public final class CdcClientBenchmark {
    private static final Duration TIMEOUT = Duration.ofSeconds(180);
    private static final Duration POLL = Duration.ofMillis(10);

    private final BenchSettings args;

    // Shared.
    private final int regions;
    private final int valueSize;
    private final int txnKeys;
    private final long throughputResolvedTsMs;
    private final long quotaMiB;
    // catchup
    private final int catchUpRows;
    private final int warmups;
    private final int rounds;
    // live
    private final long liveSeconds;
    private final int liveWarmups;
    private final int liveRounds;
    // latency
    private final int latencyRate;
    private final int latencySeconds;
    private final int latencyWarmupSeconds;
    private final List<Long> latencyIntervalsMs = new ArrayList<>();
    // stall
    private final int stallSeconds;
    private final int stallRate;
    private final int stallTxnKeys;
    private final int stallValueSize;
    private final long stallQuotaMiB;
    private final String childJvmArgs;

    private final Set<String> only;
    private final ByteString value;

    private final List<String> catchUpTable = new ArrayList<>();
    private final List<String> liveTable = new ArrayList<>();
    private final List<String> latencyTable = new ArrayList<>();
    private final List<String> stallTable = new ArrayList<>();

    private CdcClientBenchmark(BenchSettings args) {
        this.args = args;
        this.regions = (int) args.number("regions", 6);
        this.valueSize = (int) args.number("valueSize", 100);
        this.txnKeys = (int) args.number("txnKeys", 100);
        this.throughputResolvedTsMs = args.number("throughputResolvedTsMs", 100);
        this.quotaMiB = args.number("quotaMiB", 128);
        this.catchUpRows = (int) args.number("catchUpRows", 200_000);
        this.warmups = (int) args.number("warmups", 2);
        this.rounds = (int) args.number("rounds", 5);
        this.liveSeconds = args.number("liveSeconds", 5);
        this.liveWarmups = (int) args.number("liveWarmups", 1);
        this.liveRounds = (int) args.number("liveRounds", 3);
        this.latencyRate = (int) args.number("latencyRate", 200);
        this.latencySeconds = (int) args.number("latencySeconds", 20);
        this.latencyWarmupSeconds = (int) args.number("latencyWarmupSeconds", 2);
        for (String ms : args.text("latencyIntervalsMs", "1000,100").split(",")) {
            latencyIntervalsMs.add(Long.parseLong(ms.trim()));
        }
        this.stallSeconds = (int) args.number("stallSeconds", 30);
        this.stallRate = (int) args.number("stallRate", 1000);
        this.stallTxnKeys = (int) args.number("stallTxnKeys", 4);
        this.stallValueSize = (int) args.number("stallValueSize", 1024);
        this.stallQuotaMiB = args.number("stallQuotaMiB", 64);
        this.childJvmArgs = args.text("childJvmArgs", "-Xmx1g -XX:+UseG1GC");
        this.only =
                new LinkedHashSet<>(
                        List.of(args.text("only", "catchup,live,latency,stall").split(",")));
        // Random bytes, so nothing along the way can profit from compressible values.
        byte[] v = new byte[valueSize];
        new Random(42).nextBytes(v);
        this.value = ByteString.copyFrom(v);
    }

    public static void main(String[] argv) throws Exception {
        BenchSettings args = BenchSettings.parse(argv);
        new CdcClientBenchmark(args).run();
        // gRPC and client threads of closed sessions may linger; the tables are out.
        System.exit(0);
    }

    private void run() throws Exception {
        Runtime rt = Runtime.getRuntime();
        System.out.printf(
                Locale.ROOT,
                "# CdcClientBenchmark %s: Java %s, %d CPUs, max heap %d MiB, load average %s;"
                        + " regions=%d valueSize=%d txnKeys=%d throughputResolvedTsMs=%d"
                        + " quotaMiB=%d catchUpRows=%d warmups=%d rounds=%d liveSeconds=%d"
                        + " liveWarmups=%d liveRounds=%d latencyRate=%d latencySeconds=%d"
                        + " latencyWarmupSeconds=%d latencyIntervalsMs=%s stallSeconds=%d"
                        + " stallRate=%d stallTxnKeys=%d stallValueSize=%d stallQuotaMiB=%d"
                        + " childJvmArgs=\"%s\" only=%s%n",
                LocalDate.now(),
                System.getProperty("java.version"),
                rt.availableProcessors(),
                rt.maxMemory() >> 20,
                loadAverage(),
                regions,
                valueSize,
                txnKeys,
                throughputResolvedTsMs,
                quotaMiB,
                catchUpRows,
                warmups,
                rounds,
                liveSeconds,
                liveWarmups,
                liveRounds,
                latencyRate,
                latencySeconds,
                latencyWarmupSeconds,
                latencyIntervalsMs,
                stallSeconds,
                stallRate,
                stallTxnKeys,
                stallValueSize,
                stallQuotaMiB,
                childJvmArgs,
                String.join(",", only));
        if (only.contains("catchup")) {
            catchUp();
        }
        if (only.contains("live")) {
            live();
        }
        if (only.contains("latency")) {
            latency();
        }
        if (only.contains("stall")) {
            stall();
        }

        System.out.println();
        if (!catchUpTable.isEmpty()) {
            System.out.println(
                    "| Catch-up | Path | Rows/round | Rounds | events/s (median) | events/s"
                            + " (min..max) | First row after, ms (median) | ours/raw |");
            System.out.println("|---|---|---:|---:|---:|---:|---:|---:|");
            catchUpTable.forEach(System.out::println);
            System.out.println();
        }
        if (!liveTable.isEmpty()) {
            System.out.println(
                    "| Live | Path | Rounds | Rows written/round | Writer rows/s | Delivered"
                            + " events/s (median) | min..max | Last row after writer stop, ms"
                            + " (median) | ours/raw |");
            System.out.println("|---|---|---:|---:|---:|---:|---:|---:|---:|");
            liveTable.forEach(System.out::println);
            System.out.println();
        }
        if (!latencyTable.isEmpty()) {
            System.out.println(
                    "| Latency | Path | Resolved-ts interval | Write rate (txns/s) | Rows | p50 ms"
                            + " | p99 ms | max ms |");
            System.out.println("|---|---|---:|---:|---:|---:|---:|---:|");
            latencyTable.forEach(System.out::println);
            System.out.println();
        }
        if (!stallTable.isEmpty()) {
            System.out.println("| Stalled consumer | Value |");
            System.out.println("|---|---:|");
            stallTable.forEach(System.out::println);
            System.out.println();
        }
        System.out.println("# load average at the end: " + loadAverage());
    }

    // ---- 1. catch-up ----

    private void catchUp() throws Exception {
        byte[] prefix = bytes("cu/");
        KeyRange range = KeyRange.of(prefix, BenchKeys.end(prefix));
        try (MiniTiKVCluster cluster = startCluster(prefix, throughputResolvedTsMs);
                CdcClient client = CdcClient.create(clientConf(cluster.pdAddress()), cdcConfig());
                TiSession rawSession = TiSession.create(clientConf(cluster.pdAddress()))) {
            long startTs = cluster.currentTs();
            EngineWriter writer = new EngineWriter(cluster);
            long lastCommit = 0;
            for (int g = 0; g < catchUpRows; g += txnKeys) {
                lastCommit =
                        writer.commit(keys(prefix, g, Math.min(txnKeys, catchUpRows - g)), value);
            }
            List<RawEventFeed.Target> targets =
                    RawEventFeed.regionsOf(cluster, prefix, BenchKeys.end(prefix));
            System.out.printf(
                    "# catch-up: %d rows in %d regions; %d warm-up + %d measured rounds%n",
                    catchUpRows, targets.size(), warmups, rounds);
            long last = lastCommit;
            Round ours =
                    () -> {
                        Tally tally = new Tally(txnKeys);
                        long t0 = System.nanoTime();
                        long done;
                        try (ChangeStream stream = client.subscribe(List.of(range), startTs)) {
                            done = consume(stream, tally, new Goal(catchUpRows, last), null);
                        }
                        tally.check(catchUpRows, "catch-up");
                        return new double[] {
                            catchUpRows * 1e9 / (done - t0), (tally.firstAt - t0) / 1e6
                        };
                    };
            Round raw =
                    () -> {
                        AtomicLong first = new AtomicLong();
                        long t0 = System.nanoTime();
                        long done;
                        long rows;
                        try (RawEventFeed feed =
                                new RawEventFeed(
                                        rawSession,
                                        cluster.clusterId(),
                                        targets,
                                        startTs,
                                        row -> {
                                            if (first.get() == 0) {
                                                first.compareAndSet(0, System.nanoTime());
                                            }
                                        })) {
                            feed.awaitInitialized(TIMEOUT);
                            done = System.nanoTime();
                            rows = feed.committedRows();
                        }
                        if (rows != catchUpRows) {
                            throw new IllegalStateException(
                                    "raw catch-up saw " + rows + " rows, not " + catchUpRows);
                        }
                        return new double[] {
                            catchUpRows * 1e9 / (done - t0), (first.get() - t0) / 1e6
                        };
                    };
            double[][][] results = alternate(ours, raw, warmups, rounds);
            double[][] rates = {results[0][0], results[1][0]};
            String name =
                    String.format(
                            Locale.ROOT,
                            "%d B values, %d keys/txn, %d regions",
                            valueSize,
                            txnKeys,
                            targets.size());
            catchUpTable.add(
                    rateRow(
                            name,
                            "CdcClient, resolved-ts interval " + throughputResolvedTsMs + " ms",
                            catchUpRows,
                            rates[0],
                            results[0][1],
                            String.format(
                                    Locale.ROOT, "%.2f", median(rates[0]) / median(rates[1]))));
            catchUpTable.add(
                    rateRow(
                            name,
                            "raw EventFeed (COMMITTED rows until INITIALIZED)",
                            catchUpRows,
                            rates[1],
                            results[1][1],
                            ""));
        }
    }

    // ---- 2. live ----

    private void live() throws Exception {
        System.out.printf(
                "# live: %d warm-up + %d measured rounds per path of %d s of writes%n",
                liveWarmups, liveRounds, liveSeconds);
        List<long[]> ours = new ArrayList<>();
        List<long[]> raw = new ArrayList<>();
        for (int i = 0; i < liveWarmups + liveRounds; i++) {
            long[] o = liveRound(true);
            long[] r = liveRound(false);
            if (i >= liveWarmups) {
                ours.add(o);
                raw.add(r);
            }
        }
        double ratio = median(deliveredRates(ours)) / median(deliveredRates(raw));
        liveTable.add(
                liveRow(
                        "CdcClient, resolved-ts interval " + throughputResolvedTsMs + " ms",
                        ours,
                        String.format(Locale.ROOT, "%.2f", ratio)));
        liveTable.add(liveRow("raw EventFeed (COMMIT rows)", raw, ""));
    }

    /**
     * One round on a fresh cluster: subscribe, write as fast as possible for {@code liveSeconds},
     * wait for everything. Returns {rows, writer start, writer end, all delivered} (nanos).
     */
    private long[] liveRound(boolean ours) throws Exception {
        byte[] prefix = bytes("lv/");
        KeyRange range = KeyRange.of(prefix, BenchKeys.end(prefix));
        System.gc();
        try (MiniTiKVCluster cluster = startCluster(prefix, throughputResolvedTsMs);
                TiSession session = TiSession.create(clientConf(cluster.pdAddress()))) {
            long startTs = cluster.currentTs();
            Goal goal = new Goal(Long.MAX_VALUE, Long.MAX_VALUE);
            long[] times = new long[3];
            EngineWriter writer = new EngineWriter(cluster);
            Thread writing =
                    new Thread(
                            () -> {
                                long t0 = System.nanoTime();
                                long end = t0 + TimeUnit.SECONDS.toNanos(liveSeconds);
                                long g = 0;
                                long last = 0;
                                while (System.nanoTime() < end) {
                                    last = writer.commit(keys(prefix, g, txnKeys), value);
                                    g += txnKeys;
                                }
                                times[0] = t0;
                                times[1] = System.nanoTime();
                                goal.set(g, last);
                            },
                            "live-writer");
            if (ours) {
                try (CdcClient client = CdcClient.create(session, cdcConfig());
                        ChangeStream stream = client.subscribe(List.of(range), startTs)) {
                    // Every region registered and resolved once before the clock starts.
                    consume(stream, new Tally(1), new Goal(0, startTs + 1), null);
                    Tally tally = new Tally(txnKeys);
                    writing.start();
                    times[2] = consume(stream, tally, goal, null);
                    writing.join();
                    tally.check(goal.rows, "live");
                }
            } else {
                List<RawEventFeed.Target> targets =
                        RawEventFeed.regionsOf(cluster, prefix, BenchKeys.end(prefix));
                try (RawEventFeed feed =
                        new RawEventFeed(
                                session, cluster.clusterId(), targets, startTs, row -> {})) {
                    feed.awaitInitialized(TIMEOUT);
                    writing.start();
                    writing.join();
                    feed.awaitCommitRows(goal.rows, TIMEOUT);
                    times[2] = System.nanoTime();
                    if (feed.commitRows() != goal.rows || feed.committedRows() != 0) {
                        throw new IllegalStateException(
                                "raw live feed saw "
                                        + feed.commitRows()
                                        + " COMMIT and "
                                        + feed.committedRows()
                                        + " COMMITTED rows, written "
                                        + goal.rows);
                    }
                }
            }
            long[] r = {goal.rows, times[0], times[1], times[2]};
            System.out.printf(
                    Locale.ROOT,
                    "# live %s: %,d rows written at %,.0f rows/s, delivered at %,.0f events/s,"
                            + " last %d ms after the writer stopped%n",
                    ours ? "CdcClient" : "raw",
                    r[0],
                    r[0] * 1e9 / (r[2] - r[1]),
                    r[0] * 1e9 / (r[3] - r[1]),
                    (r[3] - r[2]) / 1_000_000);
            return r;
        }
    }

    private static double[] deliveredRates(List<long[]> rounds) {
        double[] rates = new double[rounds.size()];
        for (int i = 0; i < rates.length; i++) {
            long[] r = rounds.get(i);
            rates[i] = r[0] * 1e9 / (r[3] - r[1]);
        }
        return rates;
    }

    private String liveRow(String path, List<long[]> rounds, String ratio) {
        double[] written = new double[rounds.size()];
        double[] writerRates = new double[rounds.size()];
        double[] lags = new double[rounds.size()];
        for (int i = 0; i < rounds.size(); i++) {
            long[] r = rounds.get(i);
            written[i] = r[0];
            writerRates[i] = r[0] * 1e9 / (r[2] - r[1]);
            lags[i] = (r[3] - r[2]) / 1e6;
        }
        double[] delivered = deliveredRates(rounds);
        double[] sorted = delivered.clone();
        Arrays.sort(sorted);
        return String.format(
                Locale.ROOT,
                "| %d s engine-direct writer, %d keys/txn, %d B values | %s | %d | %,.0f | %,.0f"
                        + " | %,.0f | %,.0f..%,.0f | %,.0f | %s |",
                liveSeconds,
                txnKeys,
                valueSize,
                path,
                rounds.size(),
                median(written),
                median(writerRates),
                median(delivered),
                sorted[0],
                sorted[sorted.length - 1],
                median(lags),
                ratio);
    }

    // ---- 3. latency ----

    private void latency() throws Exception {
        for (long intervalMs : latencyIntervalsMs) {
            latencyAt(intervalMs);
        }
    }

    private void latencyAt(long intervalMs) throws Exception {
        byte[] prefix = bytes("lt/");
        KeyRange range = KeyRange.of(prefix, BenchKeys.end(prefix));
        int total = latencyRate * (latencyWarmupSeconds + latencySeconds);
        int warm = latencyRate * latencyWarmupSeconds;
        long[] committedAt = new long[total];
        long[] oursAt = new long[total];
        long[] rawAt = new long[total];
        System.out.printf(
                "# latency at resolved-ts interval %d ms: %d txns/s for %d + %d s%n",
                intervalMs, latencyRate, latencyWarmupSeconds, latencySeconds);
        System.gc();
        try (MiniTiKVCluster cluster = startCluster(prefix, intervalMs);
                TiSession session = TiSession.create(clientConf(cluster.pdAddress()));
                CdcClient client = CdcClient.create(session, cdcConfig())) {
            long startTs = cluster.currentTs();
            List<RawEventFeed.Target> targets =
                    RawEventFeed.regionsOf(cluster, prefix, BenchKeys.end(prefix));
            Goal goal = new Goal(Long.MAX_VALUE, Long.MAX_VALUE);
            EngineWriter writer = new EngineWriter(cluster);
            long[] writing = new long[2];
            Thread writerThread =
                    new Thread(
                            () -> {
                                long[] last = {0};
                                writing[0] = System.nanoTime();
                                EngineWriter.paced(
                                        total,
                                        latencyRate,
                                        i -> {
                                            last[0] =
                                                    writer.commit(
                                                            List.of(
                                                                    BenchKeys.key(
                                                                            prefix, regions, i)),
                                                            value);
                                            committedAt[i] = System.nanoTime();
                                        });
                                writing[1] = System.nanoTime();
                                goal.set(total, last[0]);
                            },
                            "latency-writer");
            try (ChangeStream stream = client.subscribe(List.of(range), startTs);
                    RawEventFeed feed =
                            new RawEventFeed(
                                    session,
                                    cluster.clusterId(),
                                    targets,
                                    startTs,
                                    row ->
                                            rawAt[(int) BenchKeys.seq(row.getKey().toByteArray())] =
                                                    System.nanoTime())) {
                feed.awaitInitialized(TIMEOUT);
                consume(stream, new Tally(1), new Goal(0, startTs + 1), null);
                writerThread.start();
                Tally tally = new Tally(1);
                consume(stream, tally, goal, oursAt);
                writerThread.join();
                tally.check(total, "latency");
                feed.awaitCommitRows(total, TIMEOUT);
            }
            double achieved = total * 1e9 / (writing[1] - writing[0]);
            latencyTable.add(
                    latencyRow(
                            "CdcClient (rows released at resolved ts)",
                            intervalMs,
                            achieved,
                            committedAt,
                            oursAt,
                            warm));
            latencyTable.add(
                    latencyRow(
                            "raw EventFeed (COMMIT row received)",
                            intervalMs,
                            achieved,
                            committedAt,
                            rawAt,
                            warm));
        }
    }

    private String latencyRow(
            String path,
            long intervalMs,
            double rate,
            long[] committedAt,
            long[] receivedAt,
            int from) {
        double[] ms = new double[committedAt.length - from];
        for (int i = from; i < committedAt.length; i++) {
            ms[i - from] = (receivedAt[i] - committedAt[i]) / 1e6;
        }
        Arrays.sort(ms);
        return String.format(
                Locale.ROOT,
                "| single-key txns, %d B values | %s | %d ms | %,.0f | %,d | %.1f | %.1f | %.1f |",
                valueSize,
                path,
                intervalMs,
                rate,
                ms.length,
                percentile(ms, 0.50),
                percentile(ms, 0.99),
                ms[ms.length - 1]);
    }

    // ---- 4. stalled consumer ----

    private void stall() throws Exception {
        byte[] prefix = bytes("st/");
        byte[] rawPrefix = bytes("sr/");
        KeyRange range = KeyRange.of(prefix, BenchKeys.end(prefix));
        int txns = stallRate * stallSeconds;
        long quota = stallQuotaMiB << 20;
        System.out.printf(
                "# stall: child-JVM minicluster, %d txns/s x %d keys of %d B for %d s; client"
                        + " quota %d MiB; then the same for a paused raw feed%n",
                stallRate, stallTxnKeys, stallValueSize, stallSeconds, stallQuotaMiB);
        try (ClusterProcess child = new ClusterProcess(List.of(prefix, rawPrefix), 1000);
                TiSession session = TiSession.create(clientConf(child.pdAddress));
                CdcClient client =
                        CdcClient.create(
                                session, CdcClientConfig.builder().memoryQuota(quota).build())) {
            long startTs = client.currentTs();
            long baseline = usedHeapAfterGc();
            try (ChangeStream stream = client.subscribe(List.of(range), startTs);
                    HeapWatch watch = new HeapWatch(stream)) {
                // Registered and resolved once; no rows yet, so the consumer takes none.
                consume(stream, new Tally(1), new Goal(0, startTs + 1), null);
                watch.resetPeaks();
                String[] written = child.command(writeCommand("st/", txns), "written");
                long writtenRows = Long.parseLong(written[1]);
                long writtenBytes = Long.parseLong(written[2]);
                long lastCommit = Long.parseLong(written[4]);
                double writeSeconds = Double.parseDouble(written[5]);
                long[] stallPeaks = watch.resetPeaks();
                long bufferedAtEnd = stream.bufferedBytes();
                long liveAtEnd = usedHeapAfterGc();
                long childHeap = Long.parseLong(child.command("heap", "heap")[1]);

                Tally tally = new Tally(stallTxnKeys);
                long t0 = System.nanoTime();
                long done = consume(stream, tally, new Goal(writtenRows, lastCommit), null);
                double drainSeconds = (done - t0) / 1e9;
                long[] drainPeaks = watch.resetPeaks();
                long missing = writtenRows - tally.distinct();
                boolean exact =
                        tally.rows == writtenRows
                                && tally.duplicates == 0
                                && missing == 0
                                && tally.outOfOrder == 0;
                stream.close();

                double rawDrainSeconds = rawStall(child, session, rawPrefix, txns, writtenRows);

                stat("Client memory quota", mib(quota));
                stat(
                        "Written in the child JVM while the consumer took nothing (engine-direct, fresh"
                                + " keys, no old values)",
                        String.format(
                                Locale.ROOT,
                                "%,d txns x %d keys = %,d rows, %s (key+value) in %.1f s",
                                txns,
                                stallTxnKeys,
                                writtenRows,
                                mib(writtenBytes),
                                writeSeconds));
                stat(
                        "Peak `bufferedBytes()` while stalled / draining",
                        mib(stallPeaks[0]) + " / " + mib(drainPeaks[0]));
                stat("`bufferedBytes()` at the end of the stall", mib(bufferedAtEnd));
                stat(
                        "Peak `spilledBytes()` while stalled / draining",
                        mib(stallPeaks[1]) + " / " + mib(drainPeaks[1]));
                stat("Client JVM heap after full GC, before subscribing", mib(baseline));
                stat(
                        "Client JVM heap after full GC at the end of the stall (delta; delta/quota)",
                        String.format(
                                Locale.ROOT,
                                "%s (+%s; %.2f)",
                                mib(liveAtEnd),
                                mib(liveAtEnd - baseline),
                                (double) (liveAtEnd - baseline) / quota));
                stat(
                        "Client JVM peak heap after any GC (GC notifications), stalled / draining",
                        mib(stallPeaks[2]) + " / " + mib(drainPeaks[2]));
                stat(
                        "Client JVM peak used heap, sampled every 100 ms (with garbage), stalled /"
                                + " draining",
                        mib(stallPeaks[3]) + " / " + mib(drainPeaks[3]));
                stat(
                        "Server (child JVM) heap after full GC at the end of the stall (all data +"
                                + " queued events)",
                        mib(childHeap));
                stat(
                        "Drain after the stall: CdcClient (part already in memory) / raw feed"
                                + " paused the same way (ours/raw)",
                        String.format(
                                Locale.ROOT,
                                "%.1f s, %,.0f events/s / %.1f s, %,.0f events/s (%.2f)",
                                drainSeconds,
                                writtenRows / drainSeconds,
                                rawDrainSeconds,
                                writtenRows / rawDrainSeconds,
                                rawDrainSeconds / drainSeconds));
                stat(
                        "Exactly once, in (commit ts, key) and txn order",
                        String.format(
                                Locale.ROOT,
                                "%s: %,d delivered, %d duplicates, %d missing, %d out of order",
                                exact ? "yes" : "NO",
                                tally.rows,
                                tally.duplicates,
                                missing,
                                tally.outOfOrder));
                if (!exact) {
                    System.out.println("# stall: delivery check FAILED");
                }
            }
        }
    }

    private String writeCommand(String prefix, int txns) {
        return String.format(
                Locale.ROOT,
                "write %s %d %d %d %d %d",
                prefix,
                regions,
                txns,
                stallRate,
                stallTxnKeys,
                stallValueSize);
    }

    /**
     * The raw feed stalled the same way: registered, paused (no message taken, so the server queues
     * them) while the same writes go on, then resumed. Returns the drain's seconds.
     */
    private double rawStall(
            ClusterProcess child, TiSession session, byte[] prefix, int txns, long rows)
            throws Exception {
        long startTs = session.getTimestamp().getVersion();
        List<RawEventFeed.Target> targets =
                RawEventFeed.regionsOf(session, prefix, BenchKeys.end(prefix));
        try (RawEventFeed feed =
                new RawEventFeed(
                        session,
                        session.getPDClient().getClusterId(),
                        targets,
                        startTs,
                        row -> {},
                        true)) {
            feed.awaitInitialized(TIMEOUT);
            feed.pause();
            String[] written = child.command(writeCommand("sr/", txns), "written");
            if (Long.parseLong(written[1]) != rows) {
                throw new IllegalStateException("raw stall wrote " + written[1] + " rows");
            }
            long t0 = System.nanoTime();
            feed.resume();
            feed.awaitCommitRows(rows, TIMEOUT);
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (feed.commitRows() != rows) {
                throw new IllegalStateException(
                        "raw stall saw " + feed.commitRows() + " rows of " + rows);
            }
            return seconds;
        }
    }

    private void stat(String name, String value) {
        stallTable.add("| " + name + " | " + value + " |");
    }

    /** Samples the heap and a stream's bytes every 100 ms, and records the heap after each GC. */
    private static final class HeapWatch implements AutoCloseable {
        private final ChangeStream stream;
        private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        private final Set<String> heapPools = new HashSet<>();
        private final List<NotificationEmitter> emitters = new ArrayList<>();
        private final NotificationListener listener = (n, handback) -> afterGc(n);
        private final AtomicLong buffered = new AtomicLong();
        private final AtomicLong spilled = new AtomicLong();
        private final AtomicLong afterGc = new AtomicLong();
        private final AtomicLong used = new AtomicLong();
        private final Thread sampler;
        private volatile boolean stopped;

        HeapWatch(ChangeStream stream) {
            this.stream = stream;
            for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
                if (pool.getType() == MemoryType.HEAP) {
                    heapPools.add(pool.getName());
                }
            }
            for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
                if (gc instanceof NotificationEmitter) {
                    NotificationEmitter emitter = (NotificationEmitter) gc;
                    emitter.addNotificationListener(listener, null, null);
                    emitters.add(emitter);
                }
            }
            this.sampler =
                    new Thread(
                            () -> {
                                while (!stopped) {
                                    sample();
                                    try {
                                        Thread.sleep(100);
                                    } catch (InterruptedException e) {
                                        return;
                                    }
                                }
                            },
                            "heap-watch");
            sampler.setDaemon(true);
            sampler.start();
        }

        private void sample() {
            buffered.accumulateAndGet(stream.bufferedBytes(), Math::max);
            spilled.accumulateAndGet(stream.spilledBytes(), Math::max);
            used.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
        }

        private void afterGc(javax.management.Notification n) {
            if (!n.getType()
                    .equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) {
                return;
            }
            GarbageCollectionNotificationInfo info =
                    GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
            long bytes = 0;
            for (Map.Entry<String, MemoryUsage> e :
                    info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
                if (heapPools.contains(e.getKey())) {
                    bytes += e.getValue().getUsed();
                }
            }
            afterGc.accumulateAndGet(bytes, Math::max);
        }

        /** {buffered, spilled, heap after GC, used heap} peaks since the last reset. */
        long[] resetPeaks() {
            sample();
            return new long[] {
                buffered.getAndSet(0), spilled.getAndSet(0), afterGc.getAndSet(0), used.getAndSet(0)
            };
        }

        @Override
        public void close() throws InterruptedException {
            stopped = true;
            sampler.interrupt();
            sampler.join();
            for (NotificationEmitter e : emitters) {
                try {
                    e.removeNotificationListener(listener);
                } catch (javax.management.ListenerNotFoundException ignored) {
                    // already gone
                }
            }
        }
    }

    /** A {@link MiniClusterProcess} child: the same java, the same classpath. */
    private final class ClusterProcess implements AutoCloseable {
        final Process process;
        final String pdAddress;
        private final BufferedReader out;
        private final PrintWriter in;

        ClusterProcess(List<byte[]> prefixes, long resolvedTsMs) throws IOException {
            List<String> split = new ArrayList<>();
            for (byte[] prefix : prefixes) {
                for (byte[] k : BenchKeys.splitKeys(prefix, regions)) {
                    split.add(new String(k, StandardCharsets.US_ASCII));
                }
            }
            List<String> cmd = new ArrayList<>();
            cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(List.of(childJvmArgs.trim().split("\\s+")));
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add(MiniClusterProcess.class.getName());
            cmd.add("resolvedTsMs=" + resolvedTsMs);
            cmd.add("split=" + String.join(",", split));
            this.process =
                    new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            this.out =
                    new BufferedReader(
                            new InputStreamReader(
                                    process.getInputStream(), StandardCharsets.UTF_8));
            this.in =
                    new PrintWriter(
                            new OutputStreamWriter(
                                    process.getOutputStream(), StandardCharsets.UTF_8),
                            true);
            this.pdAddress = expect("ready")[1];
        }

        /** Sends a command line and returns the reply's words. */
        String[] command(String line, String reply) throws IOException {
            in.println(line);
            return expect(reply);
        }

        private String[] expect(String first) throws IOException {
            String line = out.readLine();
            if (line == null) {
                throw new IllegalStateException("the minicluster process ended");
            }
            String[] words = line.trim().split("\\s+");
            if (!words[0].equals(first)) {
                throw new IllegalStateException("the minicluster process said: " + line);
            }
            return words;
        }

        @Override
        public void close() throws InterruptedException {
            in.println("quit");
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    // ---- consuming ----

    /** What a consumer waits for: this many rows and a resolved ts at or above {@code ts}. */
    private static final class Goal {
        volatile long rows;
        volatile long ts;

        Goal(long rows, long ts) {
            this.rows = rows;
            this.ts = ts;
        }

        void set(long rows, long ts) {
            this.ts = ts;
            this.rows = rows;
        }
    }

    /**
     * Polls until the goal is met; every change goes through the tally, and its arrival time into
     * {@code arrivals[seq]} if given. Returns when the first resolved ts at or above the goal's
     * arrived (nanoTime).
     */
    private static long consume(ChangeStream stream, Tally tally, Goal goal, long[] arrivals)
            throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        List<long[]> resolved = new ArrayList<>();
        while (true) {
            ChangeEvent e = stream.poll(POLL);
            long now = System.nanoTime();
            if (e != null) {
                if (e.isResolved()) {
                    resolved.add(new long[] {e.resolvedTs(), now});
                } else {
                    if (tally.rows == 0) {
                        tally.firstAt = now;
                    }
                    tally.add(e.change());
                    if (arrivals != null) {
                        arrivals[(int) BenchKeys.seq(e.change().key())] = now;
                    }
                }
            }
            long ts = goal.ts;
            if (tally.rows >= goal.rows && stream.resolvedTs() >= ts) {
                for (long[] r : resolved) {
                    if (r[0] >= ts) {
                        return r[1];
                    }
                }
            }
            if (now > deadline) {
                throw new IllegalStateException(
                        "consumer: " + tally.rows + " rows, resolved ts " + stream.resolvedTs());
            }
            if (resolved.size() > 1_000) {
                resolved.subList(0, 500).clear();
            }
        }
    }

    /** Counts rows and checks each came once, in (commit ts, key) order and in txn order. */
    private static final class Tally {
        private final int keysPerTxn;
        private final BitSet seen = new BitSet();
        long rows;
        long duplicates;
        long outOfOrder;

        /** When the first row arrived (nanoTime). */
        long firstAt;

        private long lastCommitTs;
        private byte[] lastKey = new byte[0];
        private long lastTxn = -1;

        Tally(int keysPerTxn) {
            this.keysPerTxn = keysPerTxn;
        }

        void add(KeyChange c) {
            rows++;
            long seq = BenchKeys.seq(c.key());
            if (seen.get((int) seq)) {
                duplicates++;
            }
            seen.set((int) seq);
            int byTs = Long.compare(c.commitTs(), lastCommitTs);
            long txn = seq / keysPerTxn;
            if (byTs < 0
                    || (byTs == 0 && Arrays.compareUnsigned(c.key(), lastKey) <= 0)
                    || txn < lastTxn) {
                outOfOrder++;
            }
            lastCommitTs = c.commitTs();
            lastKey = c.key();
            lastTxn = txn;
        }

        long distinct() {
            return seen.cardinality();
        }

        void check(long expected, String what) {
            if (rows != expected || duplicates != 0 || outOfOrder != 0 || distinct() != expected) {
                throw new IllegalStateException(
                        String.format(
                                Locale.ROOT,
                                "%s: %d rows (%d distinct) of %d, %d duplicates, %d out of order",
                                what,
                                rows,
                                distinct(),
                                expected,
                                duplicates,
                                outOfOrder));
            }
        }
    }

    // ---- harness ----

    /** One measured round; returns {events/s, ms to the first row}. */
    private interface Round {
        double[] run() throws Exception;
    }

    /**
     * Warm-ups, then measured rounds alternating the two paths. Returns [path][metric][round], path
     * 0 ours and 1 raw.
     */
    private static double[][][] alternate(Round ours, Round raw, int warmups, int rounds)
            throws Exception {
        for (int i = 0; i < warmups; i++) {
            System.gc();
            ours.run();
            System.gc();
            raw.run();
        }
        double[][][] results = new double[2][2][rounds];
        for (int i = 0; i < rounds; i++) {
            for (int path = 0; path < 2; path++) {
                System.gc();
                double[] r = (path == 0 ? ours : raw).run();
                results[path][0][i] = r[0];
                results[path][1][i] = r[1];
            }
        }
        return results;
    }

    private static String rateRow(
            String name, String path, long rows, double[] rates, double[] firstMs, String ratio) {
        double[] sorted = rates.clone();
        Arrays.sort(sorted);
        return String.format(
                Locale.ROOT,
                "| %s | %s | %,d | %d | %,.0f | %,.0f..%,.0f | %,.0f | %s |",
                name,
                path,
                rows,
                rates.length,
                median(rates),
                sorted[0],
                sorted[sorted.length - 1],
                median(firstMs),
                ratio);
    }

    private MiniTiKVCluster startCluster(byte[] prefix, long resolvedTsMs) {
        return MiniTiKVCluster.builder()
                .stores(3)
                .cdcResolvedTsInterval(Duration.ofMillis(resolvedTsMs))
                .splitAt(BenchKeys.splitKeys(prefix, regions))
                .start();
    }

    private static TiConfiguration clientConf(String pdAddress) {
        TiConfiguration conf = TiConfiguration.createDefault(pdAddress);
        // The default 100 ms health check marks a CPU-starved store down on a busy machine.
        conf.setGrpcHealthCheckTimeout(2_000);
        return conf;
    }

    private CdcClientConfig cdcConfig() {
        return CdcClientConfig.builder().memoryQuota(quotaMiB << 20).build();
    }

    private List<byte[]> keys(byte[] prefix, long first, int count) {
        List<byte[]> keys = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            keys.add(BenchKeys.key(prefix, regions, first + i));
        }
        return keys;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** The value at or below which a fraction {@code q} of the sorted values lie. */
    static double percentile(double[] sorted, double q) {
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    /** Used heap after several full collections. */
    private static long usedHeapAfterGc() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    static String loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return parts[0] + " " + parts[1] + " " + parts[2];
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }
}
