package io.tiflink.connector.consistency;

import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.region.Region;
import io.tiflink.minicluster.tidb.MiniClusterRows;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.table.Handle;
import io.tiflink.tidb.table.TableCodec;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Materialized views kept in TiDB by one Flink SQL job over three TiDB tables (a filter, a
 * two-table and a three-table join, a join with an aggregate, a left join with an aggregate), under
 * transactions that change several tables at once: at fresh TSOs a reader reads each view and its
 * progress row's cut {@code T}, and the view equals its query over the tables read at {@code T};
 * through task failures, region splits and leader moves, and a savepoint restore after downtime.
 * Without consistency the same reads find a view that is the query at no source snapshot.
 */
class MaterializedViewITCase {
    private static final Logger LOG = LoggerFactory.getLogger(MaterializedViewITCase.class);

    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(3).cdcResolvedTsInterval(Duration.ofMillis(50)));

    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(8);

    private static final String[] CITIES = {"berlin", "lima", "oslo", "pune"};
    private static final String[] REGIONS = {"north", "south", "east", "west"};
    private static final int CUSTOMERS = 8;

    /** Each view: its table's DDL in TiDB and Flink, its query, and the query in Java. */
    private enum View {
        BIG_ORDERS(
                "id BIGINT PRIMARY KEY, customer BIGINT, amount BIGINT",
                "id BIGINT, customer BIGINT, amount BIGINT, PRIMARY KEY (id) NOT ENFORCED",
                "SELECT id, customer, amount FROM orders WHERE amount > 50",
                s -> {
                    Map<Object, String> v = new HashMap<>();
                    s.orders.forEach(
                            (id, o) -> {
                                if (o[1] > 50) {
                                    v.put(id, o[0] + "/" + o[1]);
                                }
                            });
                    return v;
                }),
        ORDER_CITIES(
                "id BIGINT PRIMARY KEY, city VARCHAR(16)",
                "id BIGINT, city STRING, PRIMARY KEY (id) NOT ENFORCED",
                "SELECT o.id, c.city FROM orders o JOIN customers c ON o.customer = c.id",
                s -> {
                    Map<Object, String> v = new HashMap<>();
                    s.orders.forEach(
                            (id, o) -> {
                                String city = s.cityOf.get(o[0]);
                                if (city != null) {
                                    v.put(id, city);
                                }
                            });
                    return v;
                }),
        ORDER_REGIONS(
                "id BIGINT PRIMARY KEY, city VARCHAR(16), region VARCHAR(16)",
                "id BIGINT, city STRING, region STRING, PRIMARY KEY (id) NOT ENFORCED",
                "SELECT o.id, c.city, r.region FROM orders o JOIN customers c ON o.customer = c.id"
                        + " JOIN cities r ON c.city = r.city",
                s -> {
                    Map<Object, String> v = new HashMap<>();
                    s.orders.forEach(
                            (id, o) -> {
                                String city = s.cityOf.get(o[0]);
                                String region = city == null ? null : s.regionOf.get(city);
                                if (region != null) {
                                    v.put(id, city + "/" + region);
                                }
                            });
                    return v;
                }),
        REVENUE(
                "city VARCHAR(16), total BIGINT, orders BIGINT, PRIMARY KEY (city) NONCLUSTERED",
                "city STRING, total BIGINT, orders BIGINT, PRIMARY KEY (city) NOT ENFORCED",
                "SELECT c.city, SUM(failing_identity(o.amount)), COUNT(*)"
                        + " FROM orders o JOIN customers c ON o.customer = c.id GROUP BY c.city",
                s -> {
                    Map<Object, long[]> sums = new HashMap<>();
                    s.orders.forEach(
                            (id, o) -> {
                                String city = s.cityOf.get(o[0]);
                                if (city != null) {
                                    long[] sum = sums.computeIfAbsent(city, k -> new long[2]);
                                    sum[0] += o[1];
                                    sum[1]++;
                                }
                            });
                    Map<Object, String> v = new HashMap<>();
                    sums.forEach((city, sum) -> v.put(city, sum[0] + "/" + sum[1]));
                    return v;
                }),
        CUSTOMER_ORDERS(
                "id BIGINT PRIMARY KEY, orders BIGINT",
                "id BIGINT, orders BIGINT, PRIMARY KEY (id) NOT ENFORCED",
                "SELECT c.id, COUNT(o.id) FROM customers c LEFT JOIN orders o"
                        + " ON o.customer = c.id GROUP BY c.id",
                s -> {
                    Map<Object, String> v = new HashMap<>();
                    s.cityOf.keySet().forEach(id -> v.put(id, "0"));
                    s.orders.forEach(
                            (id, o) ->
                                    v.computeIfPresent(
                                            o[0], (c, n) -> (Long.parseLong(n) + 1) + ""));
                    return v;
                });

        final String tidbColumns;
        final String flinkColumns;
        final String query;
        final Function<Sources, Map<Object, String>> expected;

        View(
                String tidbColumns,
                String flinkColumns,
                String query,
                Function<Sources, Map<Object, String>> expected) {
            this.tidbColumns = tidbColumns;
            this.flinkColumns = flinkColumns;
            this.query = query;
            this.expected = expected;
        }

        String table() {
            return name().toLowerCase();
        }
    }

    private static int nextDatabase;

    @Test
    void readersSeeEachViewAsItsQueryOverTheSourcesAtItsCut(MiniTiKVCluster cluster)
            throws Exception {
        try (TiDBTables tables = new TiDBTables(cluster)) {
            Views views = new Views(cluster, tables);
            Workload workload = new Workload(tables, views.db);
            workload.load();
            TableResult job = views.start(null, true);
            Thread writer = workload.start();
            try {
                views.awaitCuts(workload, job, 15);
            } finally {
                workload.stop(writer);
            }
            views.awaitLastTransaction(workload);
            views.logLag();
            job.getJobClient().get().cancel().get();
        }
    }

    @Test
    void theViewsStayConsistentThroughFailuresRegionChaosAndASavepointRestoreAfterDowntime(
            MiniTiKVCluster cluster, @TempDir Path dir) throws Exception {
        try (TiDBTables tables = new TiDBTables(cluster)) {
            Views views = new Views(cluster, tables);
            Workload workload = new Workload(tables, views.db);
            workload.load();
            FailingIdentity.failAt(List.of(300, 900));
            TableResult job = views.start(null, true);
            Thread writer = workload.start();
            Chaos chaos = new Chaos(cluster, views.infos.get("orders").id);
            Thread chaosThread = new Thread(chaos, "region-chaos");
            chaosThread.start();
            try {
                views.awaitCuts(workload, job, 10);
                await().atMost(Duration.ofMinutes(1)).until(() -> FailingIdentity.failures() >= 2);
                views.awaitCuts(workload, job, 5);
                JobClient client = job.getJobClient().get();
                String savepoint =
                        client.triggerSavepoint(
                                        dir.resolve("savepoints").toString(),
                                        SavepointFormatType.CANONICAL)
                                .get();
                client.cancel().get();
                await().atMost(Duration.ofMinutes(1))
                        .until(() -> client.getJobStatus().get().isGloballyTerminalState());
                // Down, while the sources change: the views stay at their last cut.
                long down = System.currentTimeMillis();
                while (System.currentTimeMillis() - down < 3_000) {
                    views.check();
                    Thread.sleep(100);
                }
                job = views.start(savepoint, true);
                views.awaitCuts(workload, job, 10);
            } finally {
                workload.stop(writer);
                chaos.running.set(false);
                chaosThread.join();
            }
            assertThat(chaos.moves.get()).as("region splits and leader moves").isPositive();
            views.awaitLastTransaction(workload);
            views.logLag();
            job.getJobClient().get().cancel().get();
        }
    }

    @Test
    void withoutConsistencyAReaderSeesAViewThatIsTheQueryAtNoSnapshot(MiniTiKVCluster cluster)
            throws Exception {
        try (TiDBTables tables = new TiDBTables(cluster)) {
            Views views = new Views(cluster, tables);
            Workload workload = new Workload(tables, views.db);
            workload.load();
            TableResult job = views.start(null, false);
            Thread writer = workload.start();
            try {
                // Once the snapshot is in, the revenue view read at a TSO should be its query at
                // some source commit before that TSO; without cuts, one is not.
                await().atMost(Duration.ofMinutes(1))
                        .until(() -> views.matchingSnapshot(workload) != null);
                await().atMost(Duration.ofMinutes(2))
                        .until(
                                () -> {
                                    assertThat(workload.failure.get()).isNull();
                                    return views.matchingSnapshot(workload) == null;
                                });
            } finally {
                workload.stop(writer);
                job.getJobClient().get().cancel().get();
            }
        }
    }

    /** The source tables' rows at one ts. */
    private static final class Sources {
        final Map<Long, String> cityOf = new HashMap<>();
        final Map<String, String> regionOf = new HashMap<>();
        final Map<Long, long[]> orders = new HashMap<>();

        static Sources read(TiDBTables tables, Map<String, TableInfo> infos, long ts) {
            Sources s = new Sources();
            for (Object[] r : tables.rows(infos.get("customers"), ts)) {
                s.cityOf.put((Long) r[0], (String) r[1]);
            }
            for (Object[] r : tables.rows(infos.get("cities"), ts)) {
                s.regionOf.put((String) r[0], (String) r[1]);
            }
            for (Object[] r : tables.rows(infos.get("orders"), ts)) {
                s.orders.put((Long) r[0], new long[] {(Long) r[1], (Long) r[2]});
            }
            return s;
        }
    }

    /** The views of one test: their tables, job and checks. */
    private static final class Views {
        final MiniTiKVCluster cluster;
        final TiDBTables tables;
        final String db = "mv" + nextDatabase++;
        final List<Long> lagMillis = Collections.synchronizedList(new ArrayList<>());

        /** The tables, looked up once: reads go through the engine, not a region cache. */
        final Map<String, TableInfo> infos = new HashMap<>();

        /** The sources at the last cuts read. */
        private final Map<Long, Sources> sourcesAt = new HashMap<>();

        Views(MiniTiKVCluster cluster, TiDBTables tables) {
            this.cluster = cluster;
            this.tables = tables;
            StringBuilder ddl =
                    new StringBuilder(
                            "CREATE DATABASE "
                                    + db
                                    + "; USE "
                                    + db
                                    + "; CREATE TABLE customers (id BIGINT PRIMARY KEY,"
                                    + " city VARCHAR(16));"
                                    + " CREATE TABLE cities (city VARCHAR(16), region VARCHAR(16),"
                                    + " PRIMARY KEY (city) CLUSTERED);"
                                    + " CREATE TABLE orders (id BIGINT PRIMARY KEY, customer BIGINT,"
                                    + " amount BIGINT);"
                                    + " CREATE TABLE tiflink_progress (view_name VARCHAR(255),"
                                    + " cut_ts BIGINT NOT NULL, checkpoint_id BIGINT NOT NULL,"
                                    + " PRIMARY KEY (view_name) NONCLUSTERED);");
            for (View v : View.values()) {
                ddl.append(" CREATE TABLE ")
                        .append(v.table())
                        .append(" (")
                        .append(v.tidbColumns)
                        .append(");");
            }
            tables.ddl(ddl.toString());
            for (String t : List.of("customers", "cities", "orders", "tiflink_progress")) {
                infos.put(t, tables.table(db, t));
            }
            for (View v : View.values()) {
                infos.put(v.table(), tables.table(db, v.table()));
            }
        }

        /** Starts the views' job, from {@code savepoint} if not null. */
        TableResult start(String savepoint, boolean consistent) {
            TableEnvironment env = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
            env.getConfig().set("execution.checkpointing.interval", "200ms");
            env.getConfig().set("parallelism.default", "2");
            env.getConfig().set("restart-strategy.type", "fixed-delay");
            env.getConfig().set("restart-strategy.fixed-delay.attempts", "10");
            env.getConfig().set("restart-strategy.fixed-delay.delay", "100ms");
            // Flink 2.3 asks joins whose upsert key is not the views' key for ON CONFLICT; the
            // default of earlier (and later) versions: the latest row wins.
            env.getConfig().set("table.exec.sink.require-on-conflict", "false");
            if (savepoint != null) {
                env.getConfig().set("execution.state-recovery.path", savepoint);
            }
            env.createTemporarySystemFunction("failing_identity", FailingIdentity.class);
            String with =
                    "'connector' = 'tikv', 'pd-addresses' = '"
                            + cluster.pdAddress()
                            + "', 'database-name' = '"
                            + db
                            + "', 'consistency' = '"
                            + (consistent ? "snapshot" : "none")
                            + "', 'table-name' = ";
            env.executeSql(
                    "CREATE TABLE customers (id BIGINT, city STRING, PRIMARY KEY (id) NOT"
                            + " ENFORCED) WITH ("
                            + with
                            + "'customers')");
            env.executeSql(
                    "CREATE TABLE cities (city STRING, region STRING, PRIMARY KEY (city) NOT"
                            + " ENFORCED) WITH ("
                            + with
                            + "'cities')");
            env.executeSql(
                    "CREATE TABLE orders (id BIGINT, customer BIGINT, amount BIGINT,"
                            + " PRIMARY KEY (id) NOT ENFORCED) WITH ("
                            + with
                            + "'orders')");
            StatementSet views = env.createStatementSet();
            for (View v : View.values()) {
                env.executeSql(
                        "CREATE TABLE "
                                + v.table()
                                + " ("
                                + v.flinkColumns
                                + ") WITH ("
                                + with
                                + "'"
                                + v.table()
                                + "')");
                views.addInsertSql("INSERT INTO " + v.table() + " " + v.query);
            }
            return views.execute();
        }

        /**
         * Reads each view and its cut at a fresh TSO and compares it with its query over the
         * sources read at the cut; views that one checkpoint closed share its cut. Returns the
         * oldest cut, or 0 while a view has none (its snapshot is loading).
         */
        long check() {
            long readTs = cluster.currentTs();
            Map<String, Object[]> progress = new HashMap<>();
            for (Object[] p : tables.rows(infos.get("tiflink_progress"), readTs)) {
                progress.put((String) p[0], p);
            }
            long oldest = Long.MAX_VALUE;
            Map<Long, Long> cutOfCheckpoint = new HashMap<>();
            if (sourcesAt.size() > 8) {
                sourcesAt.clear();
            }
            for (View v : View.values()) {
                Object[] p = progress.get(db + "." + v.table());
                if (p == null) {
                    return 0;
                }
                long cut = (Long) p[1];
                assertThat(cut).isLessThan(readTs);
                Long sameCheckpoint = cutOfCheckpoint.putIfAbsent((Long) p[2], cut);
                assertThat(sameCheckpoint == null ? cut : sameCheckpoint)
                        .as("the cut of checkpoint %s in every view", p[2])
                        .isEqualTo(cut);
                Sources s = sourcesAt.computeIfAbsent(cut, ts -> Sources.read(tables, infos, ts));
                assertThat(read(v, readTs))
                        .as(
                                "view %s at %d, whose cut is %d (checkpoint %s)",
                                v.table(), readTs, cut, p[2])
                        .isEqualTo(v.expected.apply(s));
                oldest = Math.min(oldest, cut);
            }
            lagMillis.add((readTs >>> 18) - (oldest >>> 18));
            return oldest;
        }

        private Map<Object, String> read(View v, long ts) {
            Map<Object, String> rows = new HashMap<>();
            for (Object[] r : tables.rows(infos.get(v.table()), ts)) {
                List<String> rest = new ArrayList<>();
                for (int i = 1; i < r.length; i++) {
                    rest.add(String.valueOf(r[i]));
                }
                rows.put(r[0], String.join("/", rest));
            }
            return rows;
        }

        /**
         * The commit ts of a source snapshot at or before a fresh TSO whose revenue the revenue
         * view read at that TSO equals, or null.
         */
        Long matchingSnapshot(Workload workload) {
            long readTs = cluster.currentTs();
            Map<Object, String> view = read(View.REVENUE, readTs);
            for (Map.Entry<Long, Map<Object, String>> e :
                    workload.revenueAt.headMap(readTs, true).descendingMap().entrySet()) {
                if (e.getValue().equals(view)) {
                    return e.getKey();
                }
            }
            return null;
        }

        /** Checks the views at fresh TSOs until readers saw {@code n} more cuts. */
        void awaitCuts(Workload workload, TableResult job, int n) throws Exception {
            Set<Long> cuts = new HashSet<>();
            long deadline = System.currentTimeMillis() + Duration.ofMinutes(2).toMillis();
            while (cuts.size() < n && System.currentTimeMillis() < deadline) {
                assertThat(workload.failure.get()).isNull();
                JobClient client = job.getJobClient().get();
                if (client.getJobStatus().get().isGloballyTerminalState()) {
                    client.getJobExecutionResult().get(); // throws why it failed
                }
                long cut = check();
                if (cut > 0) {
                    cuts.add(cut);
                }
                Thread.sleep(50);
            }
            assertThat(cuts).as("cuts seen by readers").hasSizeGreaterThanOrEqualTo(n);
        }

        /** The cuts go on past the last transaction; the views follow them. */
        void awaitLastTransaction(Workload workload) {
            assertThat(workload.failure.get()).isNull();
            long last = workload.lastCommit;
            await().atMost(Duration.ofMinutes(1)).until(() -> check() >= last);
        }

        /** Freshness as readers saw it: the read's time minus the cut's, at 200 ms checkpoints. */
        void logLag() {
            List<Long> lags = new ArrayList<>(lagMillis);
            Collections.sort(lags);
            LOG.info(
                    "freshness lag over {} reads, 200 ms checkpoints, 50 ms resolved ts: p50 {} ms,"
                            + " p99 {} ms, max {} ms",
                    lags.size(),
                    lags.get(lags.size() / 2),
                    lags.get(lags.size() * 99 / 100),
                    lags.get(lags.size() - 1));
        }
    }

    /**
     * Random transactions: orders placed, changed and cancelled, customers moving to another city,
     * a city moving to another region, and a customer's move together with an order in one
     * transaction. Keeps, for the check without consistency, the revenue at each commit.
     */
    private static final class Workload implements Runnable {
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final ConcurrentSkipListMap<Long, Map<Object, String>> revenueAt =
                new ConcurrentSkipListMap<>();
        volatile long lastCommit;

        private final TiDBTables tables;
        private final TableInfo customers;
        private final TableInfo cities;
        private final TableInfo orders;
        private final Random random = new Random(11);
        private final Sources model = new Sources();
        private long nextOrder;

        Workload(TiDBTables tables, String db) {
            this.tables = tables;
            this.customers = tables.table(db, "customers");
            this.cities = tables.table(db, "cities");
            this.orders = tables.table(db, "orders");
        }

        void load() {
            MiniClusterRows.Txn txn = tables.txn(cities);
            for (int i = 0; i < CITIES.length; i++) {
                txn.insert(CITIES[i], REGIONS[i]);
                model.regionOf.put(CITIES[i], REGIONS[i]);
            }
            txn.in(customers);
            for (long id = 0; id < CUSTOMERS; id++) {
                String city = CITIES[(int) (id % CITIES.length)];
                txn.insert(id, city);
                model.cityOf.put(id, city);
            }
            for (int i = 0; i < 20; i++) {
                placeOrder(txn);
            }
            committed(txn.commit());
        }

        Thread start() {
            Thread writer = new Thread(this, "sources-writer");
            writer.start();
            return writer;
        }

        void stop(Thread writer) throws InterruptedException {
            running.set(false);
            writer.join();
        }

        private void committed(long commitTs) {
            lastCommit = commitTs;
            revenueAt.put(commitTs, new TreeMap<>(View.REVENUE.expected.apply(model)));
        }

        private void placeOrder(MiniClusterRows.Txn txn) {
            long id = nextOrder++;
            long[] row = {random.nextInt(CUSTOMERS), 1 + random.nextInt(100)};
            txn.in(orders).insert(id, row[0], row[1]);
            model.orders.put(id, row);
        }

        private void moveCustomer(MiniClusterRows.Txn txn) {
            long id = random.nextInt(CUSTOMERS);
            String city = CITIES[random.nextInt(CITIES.length)];
            txn.in(customers)
                    .update(new Object[] {id, model.cityOf.get(id)}, new Object[] {id, city});
            model.cityOf.put(id, city);
        }

        private void moveCity(MiniClusterRows.Txn txn) {
            String city = CITIES[random.nextInt(CITIES.length)];
            String region = REGIONS[random.nextInt(REGIONS.length)];
            txn.in(cities)
                    .update(
                            new Object[] {city, model.regionOf.get(city)},
                            new Object[] {city, region});
            model.regionOf.put(city, region);
        }

        @Override
        public void run() {
            try {
                while (running.get()) {
                    MiniClusterRows.Txn txn = tables.txn(orders);
                    List<Long> ids = new ArrayList<>(model.orders.keySet());
                    int kind = random.nextInt(10);
                    if (kind < 2 || ids.isEmpty()) {
                        placeOrder(txn);
                    } else if (kind < 4) {
                        long id = ids.get(random.nextInt(ids.size()));
                        long[] row = model.orders.get(id);
                        long amount = 1 + random.nextInt(100);
                        txn.update(
                                new Object[] {id, row[0], row[1]},
                                new Object[] {id, row[0], amount});
                        row[1] = amount;
                    } else if (kind < 5) {
                        long id = ids.get(random.nextInt(ids.size()));
                        long[] row = model.orders.remove(id);
                        txn.delete(id, row[0], row[1]);
                    } else if (kind < 7) {
                        moveCustomer(txn);
                    } else if (kind < 8) {
                        moveCity(txn);
                        moveCustomer(txn);
                    } else {
                        moveCustomer(txn);
                        placeOrder(txn);
                    }
                    committed(txn.commit());
                    Thread.sleep(5);
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        }
    }

    /** Splits the orders table's regions and moves leaders, at most every 100 ms. */
    private static final class Chaos implements Runnable {
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicInteger moves = new AtomicInteger();
        private final MiniTiKVCluster cluster;
        private final long ordersId;

        Chaos(MiniTiKVCluster cluster, long ordersId) {
            this.cluster = cluster;
            this.ordersId = ordersId;
        }

        @Override
        public void run() {
            Random random = new Random(5);
            while (running.get()) {
                if (random.nextBoolean()) {
                    cluster.split(
                            TableCodec.recordKey(ordersId, Handle.ofInt(random.nextInt(500))));
                } else {
                    List<Region> regions = cluster.regions().all();
                    Region r = regions.get(random.nextInt(regions.size()));
                    List<Long> stores = cluster.storeIds();
                    cluster.transferLeader(r.id, stores.get(random.nextInt(stores.size())));
                }
                moves.incrementAndGet();
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /**
     * The identity, failing its task at the given calls (counted over all its instances): the job
     * restarts from its last checkpoint.
     */
    public static final class FailingIdentity extends ScalarFunction {
        private static final AtomicInteger CALLS = new AtomicInteger();
        private static final AtomicInteger FAILURES = new AtomicInteger();
        private static volatile List<Integer> failAt = List.of();

        static void failAt(List<Integer> calls) {
            CALLS.set(0);
            FAILURES.set(0);
            failAt = calls;
        }

        static int failures() {
            return FAILURES.get();
        }

        public Long eval(Long value) {
            if (failAt.contains(CALLS.incrementAndGet())) {
                FAILURES.incrementAndGet();
                throw new IllegalStateException("failure injected by the test");
            }
            return value;
        }
    }
}
