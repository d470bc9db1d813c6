package io.tiflink.benchmarks;

import io.tiflink.connector.consistency.Consistency;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.tidb.MiniClusterRows;
import io.tiflink.tidb.meta.MetaReader;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.schema.SchemaFile;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.util.FileUtils;

import org.tikv.common.TiSession;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;

/**
 * A consistent materialized view ({@code 'consistency' = 'snapshot'}, docs/materialized-views.md):
 * MaterializedViewITCase's Flink SQL job, revenue per city from {@code orders JOIN customers}, two
 * TiDB tables into a third, against an in-process {@link MiniTiKVCluster}, at one checkpoint
 * interval and one CDC resolved-ts interval. Two parts:
 *
 * <ul>
 *   <li><b>lag</b>: while a writer commits transactions at a steady rate (orders placed, changed
 *       and cancelled, customers moving to another city, a move and an order in one transaction), a
 *       reader reads the view's progress row every 50 ms at a fresh TSO; its freshness lag is the
 *       read TSO's physical time minus the cut's, from the first cut on;
 *   <li><b>throughput</b>: the same job, with {@code snapshot} and with {@code none} on all its
 *       tables, catches up on a workload committed before it starts ({@code scan.startup.mode =
 *       timestamp}, from before the workload, so that every transaction comes through the change
 *       stream): seconds from submitting the job until the view equals the query over the final
 *       tables (computed from the workload). Each round runs both, in turn, each into a new view
 *       table.
 * </ul>
 *
 * <p>Settings ({@code name=value} or {@code -Dbench.<name>}): {@code checkpointMillis} (1000),
 * {@code resolvedTsMs} (TiKV's {@code cdc.min-ts-interval}, 1000), {@code parallelism} (2), {@code
 * stores} (3), {@code lagRate} (txns/s, 100), {@code lagSeconds} (20), {@code txns} (the throughput
 * workload, 20000), {@code rounds} (3), {@code warmups} (1), {@code only} ({@code lag,throughput}).
 *
 * <pre>
 * ./mvnw -q -pl tiflink-benchmarks -am package -DskipTests -Pbench \
 *     -Dbench.main=io.tiflink.benchmarks.MaterializedViewBenchmark \
 *     [-Dbench.args="lagSeconds=5 txns=5000 rounds=1"]
 * </pre>
 */
public final class MaterializedViewBenchmark {
    private static final String[] CITIES = {
        "berlin", "lima", "oslo", "pune", "quito", "perth", "turin", "kyoto"
    };
    private static final int CUSTOMERS = 100;
    private static final long POLL_MS = 50;
    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    private final long checkpointMillis;
    private final long resolvedTsMillis;
    private final int parallelism;
    private final int stores;
    private final int lagRate;
    private final int lagSeconds;
    private final int txns;
    private final int rounds;
    private final int warmups;
    private final String only;

    private MiniTiKVCluster cluster;
    private TiSession session;
    private MiniClusterRows rows;
    private MiniCluster flink;

    private MaterializedViewBenchmark(BenchSettings args) {
        this.checkpointMillis = args.number("checkpointMillis", 1_000);
        this.resolvedTsMillis = args.number("resolvedTsMs", 1_000);
        this.parallelism = (int) args.number("parallelism", 2);
        this.stores = (int) args.number("stores", 3);
        this.lagRate = (int) args.number("lagRate", 100);
        this.lagSeconds = (int) args.number("lagSeconds", 20);
        this.txns = (int) args.number("txns", 20_000);
        this.rounds = (int) args.number("rounds", 3);
        this.warmups = (int) args.number("warmups", 1);
        this.only = args.text("only", "lag,throughput");
    }

    public static void main(String[] argv) throws Exception {
        new MaterializedViewBenchmark(BenchSettings.parse(argv)).run();
    }

    private void run() throws Exception {
        System.out.printf(
                Locale.ROOT,
                "# MaterializedViewBenchmark: %s, load average %s; checkpointMillis=%d"
                        + " resolvedTsMs=%d parallelism=%d stores=%d lagRate=%d lagSeconds=%d"
                        + " txns=%d rounds=%d warmups=%d only=%s%n",
                BenchSettings.jvm(),
                CdcClientBenchmark.loadAverage(),
                checkpointMillis,
                resolvedTsMillis,
                parallelism,
                stores,
                lagRate,
                lagSeconds,
                txns,
                rounds,
                warmups,
                only);
        List<String> lag = new ArrayList<>();
        List<String> throughput = new ArrayList<>();
        Path checkpoints = Files.createTempDirectory("materialized-view-benchmark");
        try (MiniTiKVCluster c =
                        MiniTiKVCluster.builder()
                                .stores(stores)
                                .cdcResolvedTsInterval(Duration.ofMillis(resolvedTsMillis))
                                .start();
                TiSession s = TiSession.create(SinkBenchmark.conf(c));
                MiniCluster f = startFlink(checkpoints)) {
            cluster = c;
            session = s;
            flink = f;
            rows = new MiniClusterRows(c);
            if (only.contains("lag")) {
                lag.add(lag());
            }
            if (only.contains("throughput")) {
                throughput.addAll(throughput());
            }
        } finally {
            FileUtils.deleteDirectory(checkpoints.toFile());
        }
        System.out.println("# load average at the end: " + CdcClientBenchmark.loadAverage());
        SinkCheckpointBenchmark.table(
                lag,
                "| Checkpoint interval | Resolved-ts interval | Writes (txns/s) | Reads | Cuts seen"
                        + " | min ms | p50 ms | p99 ms | max ms |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        SinkCheckpointBenchmark.table(
                throughput,
                "| Consistency | Source txns | s from submission to the view complete (median) |"
                        + " min..max | txns/s (start-up included) | / none's |",
                "|---|---:|---:|---:|---:|---:|");
    }

    // ---- freshness lag ----

    private String lag() throws Exception {
        createTables("lag");
        Workload workload = new Workload("lag", 1);
        workload.load();
        createView("lag", "revenue");
        TableInfo progress = table("lag", "tiflink_progress");
        JobClient job = startView("lag", "revenue", Consistency.SNAPSHOT, null);
        await("the first cut", job, () -> cut(progress, "lag.revenue", cluster.currentTs()) > 0);
        CompletableFuture<Void> writer =
                CompletableFuture.runAsync(
                        () ->
                                EngineWriter.paced(
                                        lagRate * lagSeconds, lagRate, i -> workload.step()));
        List<Long> lags = new ArrayList<>();
        Set<Long> cuts = new HashSet<>();
        while (!writer.isDone()) {
            if (lags.size() % 20 == 0) {
                alive(job); // about once a second: a status call costs more than the read
            }
            long readTs = cluster.currentTs();
            long cut = cut(progress, "lag.revenue", readTs);
            lags.add(physicalMillis(readTs) - physicalMillis(cut));
            cuts.add(cut);
            Thread.sleep(POLL_MS);
        }
        writer.get(); // throws a failed write
        // Then the cuts pass the last write, and the view is the query over the final tables.
        await(
                "a cut past the last write",
                job,
                () -> cut(progress, "lag.revenue", cluster.currentTs()) >= workload.lastCommit);
        Map<String, String> view = view(table("lag", "revenue"), cluster.currentTs());
        Map<String, String> expected = workload.expected();
        if (!view.equals(expected)) {
            throw new IllegalStateException(
                    "the view " + view + " after the last cut, expected " + expected);
        }
        cancel(job);
        double[] ms = lags.stream().mapToDouble(Long::doubleValue).sorted().toArray();
        return String.format(
                Locale.ROOT,
                "| %d ms | %d ms | %d | %d | %d | %.0f | %.0f | %.0f | %.0f |",
                checkpointMillis,
                resolvedTsMillis,
                lagRate,
                ms.length,
                cuts.size(),
                ms[0],
                CdcClientBenchmark.percentile(ms, 0.50),
                CdcClientBenchmark.percentile(ms, 0.99),
                ms[ms.length - 1]);
    }

    // ---- throughput with and without consistency ----

    private List<String> throughput() throws Exception {
        createTables("tp");
        // The jobs start at (from << 18) - 1: after the tables exist, before the first write.
        long from = physicalMillis(cluster.currentTs()) + 1;
        while (physicalMillis(cluster.currentTs()) < from) {
            Thread.sleep(1);
        }
        Workload workload = new Workload("tp", 2);
        long start = System.nanoTime();
        workload.load();
        for (int i = 0; i < txns; i++) {
            workload.step();
        }
        double writeSeconds = (System.nanoTime() - start) / 1e9;
        Map<String, String> expected = workload.expected();
        System.out.printf(
                Locale.ROOT,
                "# throughput: %d txns (%d row changes) written in %.1f s; the view has %d"
                        + " cities%n",
                txns,
                workload.changes,
                writeSeconds,
                expected.size());
        Consistency[] modes = {Consistency.SNAPSHOT, Consistency.NONE};
        double[][] seconds =
                SinkBenchmark.rounds(
                        modes.length,
                        warmups,
                        rounds,
                        (m, round) -> catchUp(modes[m], round, from, expected));
        List<String> out = new ArrayList<>();
        for (int m = 0; m < modes.length; m++) {
            double[] s = seconds[m];
            out.add(
                    String.format(
                            Locale.ROOT,
                            "| %s | %d | %.2f | %.2f..%.2f | %,.0f | %.2f |",
                            modes[m],
                            txns,
                            s[rounds / 2],
                            s[0],
                            s[rounds - 1],
                            txns / s[rounds / 2],
                            seconds[1][rounds / 2] / s[rounds / 2])); // none's time / this one's
        }
        return out;
    }

    /** Seconds from submitting the job until its view, a new table, is {@code expected}. */
    private double catchUp(
            Consistency consistency, int round, long fromMillis, Map<String, String> expected)
            throws Exception {
        String name = "revenue_" + consistency + "_" + (round + warmups);
        createView("tp", name);
        TableInfo view = table("tp", name);
        long start = System.nanoTime();
        JobClient job = startView("tp", name, consistency, fromMillis);
        await(name, job, () -> view(view, cluster.currentTs()).equals(expected));
        double seconds = (System.nanoTime() - start) / 1e9;
        cancel(job);
        System.out.printf(
                Locale.ROOT,
                "# %s %d, consistency %s: %.2f s%n",
                round < 0 ? "warm-up" : "round",
                round < 0 ? round + warmups : round,
                consistency,
                seconds);
        return seconds;
    }

    // ---- tables and the job ----

    private void createTables(String db) {
        SchemaFile.apply(
                SchemaFile.parse(
                        "bench",
                        "CREATE DATABASE "
                                + db
                                + "; USE "
                                + db
                                + "; CREATE TABLE customers (id BIGINT PRIMARY KEY,"
                                + " city VARCHAR(16));"
                                + " CREATE TABLE orders (id BIGINT PRIMARY KEY, customer BIGINT,"
                                + " amount BIGINT);"
                                + " CREATE TABLE tiflink_progress (view_name VARCHAR(255),"
                                + " cut_ts BIGINT NOT NULL, checkpoint_id BIGINT NOT NULL,"
                                + " PRIMARY KEY (view_name) NONCLUSTERED);"),
                session);
    }

    private void createView(String db, String name) {
        SchemaFile.apply(
                SchemaFile.parse(
                        "bench",
                        "USE "
                                + db
                                + "; CREATE TABLE "
                                + name
                                + " (city VARCHAR(16), total BIGINT, orders BIGINT,"
                                + " PRIMARY KEY (city) NONCLUSTERED);"),
                session);
    }

    private TableInfo table(String db, String name) {
        return MetaReader.latest(session).table(db, name);
    }

    /**
     * One Flink cluster for every job, closed before the TiKV cluster: a job's coordinators close
     * after its end, and the sink's then still talks to TiKV. Checkpoints go to files: a catch-up
     * epoch's state passes the 5 MiB that the JobManager's memory takes.
     */
    private MiniCluster startFlink(Path checkpoints) throws Exception {
        Configuration conf = new Configuration();
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints.toUri().toString());
        conf.set(RestOptions.BIND_PORT, "0"); // others may run Flink on this machine
        MiniCluster mini =
                new MiniCluster(
                        new MiniClusterConfiguration.Builder()
                                .setConfiguration(conf)
                                .setNumTaskManagers(1)
                                .setNumSlotsPerTaskManager(parallelism)
                                .build());
        mini.start();
        return mini;
    }

    /**
     * Starts the view's job into table {@code view}, its sources reading from a snapshot, or when
     * {@code fromMillis} is not null the changes committed from then on.
     */
    private JobClient startView(String db, String view, Consistency consistency, Long fromMillis)
            throws Exception {
        Configuration conf = new Configuration();
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofMillis(checkpointMillis));
        conf.set(CoreOptions.DEFAULT_PARALLELISM, parallelism);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none"); // a failure ends the run
        URI rest = flink.getRestAddress().get();
        StreamTableEnvironment env =
                StreamTableEnvironment.create(
                        StreamExecutionEnvironment.createRemoteEnvironment(
                                rest.getHost(), rest.getPort(), conf));
        String with =
                "'connector' = 'tikv', 'pd-addresses' = '"
                        + cluster.pdAddress()
                        + "', 'database-name' = '"
                        + db
                        + "', 'consistency' = '"
                        + consistency
                        + "'";
        String source =
                fromMillis == null
                        ? with
                        : with
                                + ", 'scan.startup.mode' = 'timestamp',"
                                + " 'scan.startup.timestamp-millis' = '"
                                + fromMillis
                                + "'";
        env.executeSql(
                "CREATE TABLE customers (id BIGINT, city STRING, PRIMARY KEY (id) NOT ENFORCED)"
                        + " WITH ('table-name' = 'customers', "
                        + source
                        + ")");
        env.executeSql(
                "CREATE TABLE orders (id BIGINT, customer BIGINT, amount BIGINT,"
                        + " PRIMARY KEY (id) NOT ENFORCED) WITH ('table-name' = 'orders', "
                        + source
                        + ")");
        env.executeSql(
                "CREATE TABLE revenue (city STRING, total BIGINT, orders BIGINT,"
                        + " PRIMARY KEY (city) NOT ENFORCED) WITH ('table-name' = '"
                        + view
                        + "', "
                        + with
                        + ")");
        return env.executeSql(
                        "INSERT INTO revenue SELECT c.city, SUM(o.amount), COUNT(*)"
                                + " FROM orders o JOIN customers c ON o.customer = c.id"
                                + " GROUP BY c.city")
                .getJobClient()
                .orElseThrow();
    }

    /** The cut of {@code view} in the progress table read at {@code ts}, 0 before its first. */
    private long cut(TableInfo progress, String view, long ts) {
        for (Object[] r : rows.rows(progress, ts)) {
            if (r[0].equals(view)) {
                return (Long) r[1];
            }
        }
        return 0;
    }

    /** The view read at {@code ts}: city → "total/orders". */
    private Map<String, String> view(TableInfo view, long ts) {
        Map<String, String> out = new HashMap<>();
        for (Object[] r : rows.rows(view, ts)) {
            out.put((String) r[0], r[1] + "/" + r[2]);
        }
        return out;
    }

    private static long physicalMillis(long tso) {
        return tso >>> 18;
    }

    private static void await(String what, JobClient job, Callable<Boolean> done) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!done.call()) {
            alive(job);
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out waiting for " + what);
            }
            Thread.sleep(POLL_MS);
        }
    }

    /** Throws why the job ended, if it did: it should run until cancelled. */
    private static void alive(JobClient job) throws Exception {
        if (job.getJobStatus().get().isGloballyTerminalState()) {
            job.getJobExecutionResult().get();
            throw new IllegalStateException("the job ended");
        }
    }

    /** Cancels the job and waits for its end, so that the next one has the CPUs to itself. */
    private static void cancel(JobClient job) throws Exception {
        job.cancel().get();
        job.getJobExecutionResult().handle((result, cancelled) -> null).get();
    }

    /**
     * MaterializedViewITCase's random transactions, and the view they call for: orders placed,
     * changed and cancelled, customers moving to another city, and a move with an order in one
     * transaction (touching both tables).
     */
    private final class Workload {
        private final TableInfo customers;
        private final TableInfo orders;
        private final Random random;
        private final String[] cityOf = new String[CUSTOMERS];
        private final Map<Long, long[]> orderRows = new HashMap<>(); // id → customer, amount
        private final List<Long> orderIds = new ArrayList<>(); // to pick one at random
        private long nextOrder;
        long changes;
        long lastCommit;

        Workload(String db, long seed) {
            this.customers = table(db, "customers");
            this.orders = table(db, "orders");
            this.random = new Random(seed);
        }

        /** The customers and a few orders, in one transaction. */
        void load() {
            MiniClusterRows.Txn txn = rows.txn(customers);
            for (int id = 0; id < CUSTOMERS; id++) {
                cityOf[id] = CITIES[id % CITIES.length];
                txn.insert((long) id, cityOf[id]);
                changes++;
            }
            for (int i = 0; i < 20; i++) {
                placeOrder(txn);
            }
            lastCommit = txn.commit();
        }

        void step() {
            MiniClusterRows.Txn txn = rows.txn(orders);
            int kind = random.nextInt(5);
            if (kind == 0 || orderIds.isEmpty()) {
                placeOrder(txn);
            } else if (kind == 1) {
                long id = orderIds.get(random.nextInt(orderIds.size()));
                long[] row = orderRows.get(id);
                long amount = 1 + random.nextInt(100);
                txn.in(orders)
                        .update(
                                new Object[] {id, row[0], row[1]},
                                new Object[] {id, row[0], amount});
                row[1] = amount;
                changes++;
            } else if (kind == 2) {
                int i = random.nextInt(orderIds.size());
                long id = orderIds.get(i);
                orderIds.set(i, orderIds.get(orderIds.size() - 1));
                orderIds.remove(orderIds.size() - 1);
                long[] row = orderRows.remove(id);
                txn.in(orders).delete(id, row[0], row[1]);
                changes++;
            } else {
                moveCustomer(txn);
                if (kind == 4) {
                    placeOrder(txn);
                }
            }
            lastCommit = txn.commit();
        }

        private void placeOrder(MiniClusterRows.Txn txn) {
            long id = nextOrder++;
            long[] row = {random.nextInt(CUSTOMERS), 1 + random.nextInt(100)};
            txn.in(orders).insert(id, row[0], row[1]);
            orderRows.put(id, row);
            orderIds.add(id);
            changes++;
        }

        private void moveCustomer(MiniClusterRows.Txn txn) {
            int id = random.nextInt(CUSTOMERS);
            String city = CITIES[random.nextInt(CITIES.length)];
            txn.in(customers)
                    .update(new Object[] {(long) id, cityOf[id]}, new Object[] {(long) id, city});
            cityOf[id] = city;
            changes++;
        }

        /** The query over the tables as written so far: city → "total/orders". */
        Map<String, String> expected() {
            Map<String, long[]> sums = new HashMap<>();
            for (long[] o : orderRows.values()) {
                long[] s = sums.computeIfAbsent(cityOf[(int) o[0]], c -> new long[2]);
                s[0] += o[1];
                s[1]++;
            }
            Map<String, String> out = new HashMap<>();
            sums.forEach((city, s) -> out.put(city, s[0] + "/" + s[1]));
            return out;
        }
    }
}
