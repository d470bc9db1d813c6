package io.tiflink.connector.consistency;

import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.tidb.MiniClusterRows;
import io.tiflink.tidb.meta.TableInfo;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A materialized view kept in TiDB by a Flink SQL join and aggregate over two TiDB tables, under
 * transactions that change both: at every TSO a reader reads the view and its progress row's cut
 * {@code T}, and the view equals the query over the tables read at {@code T}.
 */
class MaterializedViewITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(1).cdcResolvedTsInterval(Duration.ofMillis(50)));

    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(8);

    private static final String[] CITIES = {"berlin", "lima", "oslo", "pune"};
    private static final int CUSTOMERS = 8;

    @Test
    void readersSeeTheViewAsTheQueryOverTheSourcesAtItsCut(MiniTiKVCluster cluster)
            throws Exception {
        try (TiDBTables tables = new TiDBTables(cluster)) {
            String db = createTables(tables);
            Workload workload = new Workload(tables, db);
            workload.load();
            TableResult job = startView(cluster, db, null);
            Thread writer = workload.start();
            try {
                awaitCuts(cluster, tables, db, workload, job, 15);
            } finally {
                workload.stop(writer);
            }
            awaitLastTransaction(cluster, tables, db, workload);
            job.getJobClient().get().cancel().get();
        }
    }

    @Test
    void theViewStaysConsistentThroughFailuresAndASavepointRestoreAfterDowntime(
            MiniTiKVCluster cluster, @TempDir Path dir) throws Exception {
        try (TiDBTables tables = new TiDBTables(cluster)) {
            String db = createTables(tables);
            Workload workload = new Workload(tables, db);
            workload.load();
            FailingIdentity.failAt(List.of(300, 900));
            TableResult job = startView(cluster, db, null);
            Thread writer = workload.start();
            String savepoint;
            try {
                awaitCuts(cluster, tables, db, workload, job, 10);
                await().atMost(Duration.ofMinutes(1)).until(() -> FailingIdentity.failures() >= 2);
                awaitCuts(cluster, tables, db, workload, job, 5);
                JobClient client = job.getJobClient().get();
                savepoint =
                        client.triggerSavepoint(
                                        dir.resolve("savepoints").toString(),
                                        SavepointFormatType.CANONICAL)
                                .get();
                client.cancel().get();
                await().atMost(Duration.ofMinutes(1))
                        .until(() -> client.getJobStatus().get().isGloballyTerminalState());
                // Down, while the sources change; the view stays at its last cut.
                long down = System.currentTimeMillis();
                while (System.currentTimeMillis() - down < 3_000) {
                    check(cluster, tables, db);
                    Thread.sleep(100);
                }
                job = startView(cluster, db, savepoint);
                awaitCuts(cluster, tables, db, workload, job, 10);
            } finally {
                workload.stop(writer);
            }
            awaitLastTransaction(cluster, tables, db, workload);
            job.getJobClient().get().cancel().get();
        }
    }

    private static int nextDatabase;

    private static String createTables(TiDBTables tables) {
        String db = "mv" + nextDatabase++;
        tables.ddl(
                "CREATE DATABASE "
                        + db
                        + "; USE "
                        + db
                        + "; CREATE TABLE customers (id BIGINT PRIMARY KEY, city VARCHAR(16));"
                        + " CREATE TABLE orders (id BIGINT PRIMARY KEY, customer BIGINT,"
                        + " amount BIGINT);"
                        + " CREATE TABLE revenue (city VARCHAR(16), total BIGINT,"
                        + " orders BIGINT, PRIMARY KEY (city) NONCLUSTERED);"
                        + " CREATE TABLE tiflink_progress (view_name VARCHAR(255),"
                        + " cut_ts BIGINT NOT NULL, checkpoint_id BIGINT NOT NULL,"
                        + " PRIMARY KEY (view_name) NONCLUSTERED);");
        return db;
    }

    /** Checks the view at fresh TSOs until readers saw {@code n} more cuts. */
    private static void awaitCuts(
            MiniTiKVCluster cluster,
            TiDBTables tables,
            String db,
            Workload workload,
            TableResult job,
            int n)
            throws Exception {
        Set<Long> cuts = new HashSet<>();
        long deadline = System.currentTimeMillis() + Duration.ofMinutes(2).toMillis();
        while (cuts.size() < n && System.currentTimeMillis() < deadline) {
            assertThat(workload.failure.get()).isNull();
            JobClient client = job.getJobClient().get();
            if (client.getJobStatus().get().isGloballyTerminalState()) {
                client.getJobExecutionResult().get(); // throws why it failed
            }
            long cut = check(cluster, tables, db);
            if (cut > 0) {
                cuts.add(cut);
            }
            Thread.sleep(50);
        }
        assertThat(cuts).as("cuts seen by readers").hasSizeGreaterThanOrEqualTo(n);
    }

    /** The cuts go on past the last transaction; the view follows them. */
    private static void awaitLastTransaction(
            MiniTiKVCluster cluster, TiDBTables tables, String db, Workload workload) {
        assertThat(workload.failure.get()).isNull();
        long last = workload.lastCommit;
        await().atMost(Duration.ofMinutes(1)).until(() -> check(cluster, tables, db) >= last);
    }

    /**
     * Reads the view and its cut at a fresh TSO, and compares it with the query over the sources
     * read at the cut. Returns the cut, or 0 while the view has none (its snapshot is loading).
     */
    private static long check(MiniTiKVCluster cluster, TiDBTables tables, String db) {
        long readTs = cluster.currentTs();
        List<Object[]> progress = tables.rows(db, "tiflink_progress", readTs);
        if (progress.isEmpty()) {
            return 0;
        }
        assertThat(progress).hasSize(1);
        assertThat(progress.get(0)[0]).isEqualTo(db + ".revenue");
        long cut = (Long) progress.get(0)[1];
        assertThat(cut).isLessThan(readTs);
        Map<String, String> view = new HashMap<>();
        for (Object[] r : tables.rows(db, "revenue", readTs)) {
            view.put((String) r[0], r[1] + "/" + r[2]);
        }
        Map<Long, String> cityOf = new HashMap<>();
        for (Object[] c : tables.rows(db, "customers", cut)) {
            cityOf.put((Long) c[0], (String) c[1]);
        }
        Map<String, long[]> sums = new HashMap<>();
        for (Object[] o : tables.rows(db, "orders", cut)) {
            String city = cityOf.get((Long) o[1]);
            if (city != null) {
                long[] s = sums.computeIfAbsent(city, k -> new long[2]);
                s[0] += (Long) o[2];
                s[1]++;
            }
        }
        Map<String, String> expected = new HashMap<>();
        sums.forEach((city, s) -> expected.put(city, s[0] + "/" + s[1]));
        assertThat(view).as("the view at %d, whose cut is %d", readTs, cut).isEqualTo(expected);
        return cut;
    }

    /** Starts the view's job, from {@code savepoint} if not null. */
    private static TableResult startView(MiniTiKVCluster cluster, String db, String savepoint) {
        TableEnvironment env = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        env.getConfig().set("execution.checkpointing.interval", "200ms");
        env.getConfig().set("parallelism.default", "2");
        env.getConfig().set("restart-strategy.type", "fixed-delay");
        env.getConfig().set("restart-strategy.fixed-delay.attempts", "10");
        env.getConfig().set("restart-strategy.fixed-delay.delay", "100ms");
        if (savepoint != null) {
            env.getConfig().set("execution.state-recovery.path", savepoint);
        }
        env.createTemporarySystemFunction("failing_identity", FailingIdentity.class);
        String with =
                "'pd-addresses' = '"
                        + cluster.pdAddress()
                        + "', 'database-name' = '"
                        + db
                        + "', 'consistency' = 'snapshot'";
        env.executeSql(
                "CREATE TABLE customers (id BIGINT, city STRING, PRIMARY KEY (id) NOT ENFORCED)"
                        + " WITH ('connector' = 'tikv', 'table-name' = 'customers', "
                        + with
                        + ")");
        env.executeSql(
                "CREATE TABLE orders (id BIGINT, customer BIGINT, amount BIGINT,"
                        + " PRIMARY KEY (id) NOT ENFORCED)"
                        + " WITH ('connector' = 'tikv', 'table-name' = 'orders', "
                        + with
                        + ")");
        env.executeSql(
                "CREATE TABLE revenue (city STRING, total BIGINT, orders BIGINT,"
                        + " PRIMARY KEY (city) NOT ENFORCED)"
                        + " WITH ('connector' = 'tikv', 'table-name' = 'revenue', "
                        + with
                        + ")");
        return env.executeSql(
                "INSERT INTO revenue SELECT c.city, SUM(failing_identity(o.amount)), COUNT(*)"
                        + " FROM orders o JOIN customers c ON o.customer = c.id GROUP BY c.city");
    }

    /**
     * Random transactions: orders placed, changed and cancelled, customers moving to another city,
     * and a customer's move together with an order in one transaction.
     */
    private static final class Workload implements Runnable {
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        volatile long lastCommit;

        private final TiDBTables tables;
        private final TableInfo customers;
        private final TableInfo orders;
        private final Random random = new Random(11);
        private final Map<Long, String> cityOf = new HashMap<>();
        private final Map<Long, long[]> orderRows = new HashMap<>();
        private long nextOrder;

        Workload(TiDBTables tables, String db) {
            this.tables = tables;
            this.customers = tables.table(db, "customers");
            this.orders = tables.table(db, "orders");
        }

        Thread start() {
            Thread writer = new Thread(this, "orders-and-customers");
            writer.start();
            return writer;
        }

        void stop(Thread writer) throws InterruptedException {
            running.set(false);
            writer.join();
        }

        void load() {
            MiniClusterRows.Txn txn = tables.txn(customers);
            for (long id = 0; id < CUSTOMERS; id++) {
                String city = CITIES[(int) (id % CITIES.length)];
                txn.insert(id, city);
                cityOf.put(id, city);
            }
            txn.in(orders);
            for (int i = 0; i < 20; i++) {
                placeOrder(txn);
            }
            lastCommit = txn.commit();
        }

        private void placeOrder(MiniClusterRows.Txn txn) {
            long id = nextOrder++;
            long[] row = {random.nextInt(CUSTOMERS), 1 + random.nextInt(100)};
            txn.in(orders).insert(id, row[0], row[1]);
            orderRows.put(id, row);
        }

        private void moveCustomer(MiniClusterRows.Txn txn) {
            long id = random.nextInt(CUSTOMERS);
            String city = CITIES[random.nextInt(CITIES.length)];
            txn.in(customers).update(new Object[] {id, cityOf.get(id)}, new Object[] {id, city});
            cityOf.put(id, city);
        }

        @Override
        public void run() {
            try {
                while (running.get()) {
                    MiniClusterRows.Txn txn = tables.txn(orders);
                    List<Long> ids = new ArrayList<>(orderRows.keySet());
                    int kind = random.nextInt(5);
                    if (kind == 0 || ids.isEmpty()) {
                        placeOrder(txn);
                    } else if (kind == 1) {
                        long id = ids.get(random.nextInt(ids.size()));
                        long[] row = orderRows.get(id);
                        long amount = 1 + random.nextInt(100);
                        txn.update(
                                new Object[] {id, row[0], row[1]},
                                new Object[] {id, row[0], amount});
                        row[1] = amount;
                    } else if (kind == 2) {
                        long id = ids.get(random.nextInt(ids.size()));
                        long[] row = orderRows.remove(id);
                        txn.delete(id, row[0], row[1]);
                    } else if (kind == 3) {
                        moveCustomer(txn);
                    } else {
                        moveCustomer(txn);
                        placeOrder(txn);
                    }
                    lastCommit = txn.commit();
                    Thread.sleep(5);
                }
            } catch (Throwable t) {
                failure.set(t);
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
