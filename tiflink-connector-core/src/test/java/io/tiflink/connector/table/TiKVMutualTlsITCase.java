package io.tiflink.connector.table;

import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.tls.TestCertificates;

import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeout;

/** The SQL source and the exactly-once sink against a cluster that serves mutual TLS only. */
@Timeout(180)
class TiKVMutualTlsITCase {
    private static final TestCertificates CERTS = TestCertificates.createTemporary();

    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(
                    b ->
                            b.stores(2)
                                    .cdcResolvedTsInterval(Duration.ofMillis(50))
                                    .tls(CERTS.serverTls()));

    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(2);

    // A failing job fails once (no restarts): after the PD probe (5 s at most).
    // (Not preemptive: the planner keeps state in the test thread.)
    private static final Duration FAILS_WITHIN = Duration.ofSeconds(60);

    private static TiDBTables tables;

    @BeforeAll
    static void schema(MiniTiKVCluster cluster) {
        tables =
                new TiDBTables(
                        cluster, CERTS.clientConfiguration(cluster.pdAddress(), CERTS.client()));
        tables.ddl(
                "CREATE DATABASE tls; USE tls;"
                        + " CREATE TABLE src (id BIGINT PRIMARY KEY, name VARCHAR(16));"
                        + " CREATE TABLE dst (id BIGINT PRIMARY KEY, name VARCHAR(16));");
        tables.txn("tls", "src").insert(1L, "one").insert(2L, "two").commit();
    }

    @AfterAll
    static void close() throws Exception {
        tables.close();
    }

    private static StreamTableEnvironment sql() {
        return StreamTableEnvironment.create(FlinkClusters.noRestartEnv(1, 200));
    }

    private static String tls(TestCertificates.Issued client) {
        return tls(CERTS.ca(), client.certificate(), client.key());
    }

    private static String tls(Path ca, Path chain, Path key) {
        return ", 'tikv.tls_enable' = 'true', 'tikv.trust_cert_collection' = '"
                + ca
                + "', 'tikv.key_cert_chain' = '"
                + chain
                + "', 'tikv.key_file' = '"
                + key
                + "'";
    }

    private static void createTable(
            StreamTableEnvironment t, String table, String mode, String options) {
        t.executeSql(
                "CREATE TABLE "
                        + table
                        + " (id BIGINT, name STRING, PRIMARY KEY (id) NOT ENFORCED) WITH ("
                        + " 'connector' = 'tikv', 'pd-addresses' = '"
                        + TIKV.cluster().pdAddress()
                        + "', 'database-name' = 'tls', 'table-name' = '"
                        + table
                        + "', 'scan.startup.mode' = '"
                        + mode
                        + "'"
                        + options
                        + ")");
    }

    @Test
    void theSourceReadsTheSnapshotAndAChange() throws Exception {
        StreamTableEnvironment t = sql();
        createTable(t, "src", "initial", tls(CERTS.client()));
        try (CloseableIterator<Row> it = t.executeSql("SELECT id, name FROM src").collect()) {
            assertThat(next(it, 2)).containsExactlyInAnyOrder("+I[1, one]", "+I[2, two]");
            tables.txn("tls", "src").insert(3L, "three").commit();
            assertThat(next(it, 1)).containsExactly("+I[3, three]");
        }
    }

    @Test
    void theExactlyOnceSinkWrites(MiniTiKVCluster cluster) throws Exception {
        StreamTableEnvironment t = sql();
        createTable(t, "src", "snapshot", tls(CERTS.client()));
        createTable(
                t,
                "dst",
                "snapshot",
                tls(CERTS.client()) + ", 'sink.delivery-guarantee' = 'exactly-once'");
        t.executeSql("INSERT INTO dst SELECT id, UPPER(name) FROM src WHERE id <= 2").await();
        List<String> rows = new ArrayList<>();
        for (Object[] r : tables.rows("tls", "dst", cluster.currentTs())) {
            rows.add(Arrays.toString(r));
        }
        assertThat(rows).containsExactlyInAnyOrder("[1, ONE]", "[2, TWO]");
    }

    @Test
    void aCertificateOfAnotherCaFailsTheJobNamingTheHandshake() {
        StreamTableEnvironment t = sql();
        createTable(t, "src", "snapshot", tls(CERTS.otherClient()));
        assertTimeout(
                FAILS_WITHIN,
                () ->
                        assertThatThrownBy(() -> t.executeSql("SELECT * FROM src").await())
                                .hasStackTraceContaining(
                                        "TLS handshake failed with PD at "
                                                + TIKV.cluster().pdAddress()
                                                + ": Received fatal alert: bad_certificate"));
    }

    @Test
    void withoutTlsTheJobFailsSayingHowToTurnItOn() {
        StreamTableEnvironment t = sql();
        t.getConfig().set("table.exec.sink.require-on-conflict", "false"); // Flink 2.3, VALUES
        createTable(t, "dst", "snapshot", "");
        assertTimeout(
                FAILS_WITHIN,
                () ->
                        assertThatThrownBy(
                                        () ->
                                                t.executeSql("INSERT INTO dst VALUES (9, 'nine')")
                                                        .await())
                                .hasStackTraceContaining(
                                        "cannot reach PD at " + TIKV.cluster().pdAddress())
                                .hasStackTraceContaining(
                                        "if the cluster serves TLS, set tikv.tls_enable"));
    }

    @Test
    void aMissingKeyFileFailsThePlanNamingTheOptionAndTheFile() {
        StreamTableEnvironment t = sql();
        Path missing = CERTS.ca().resolveSibling("missing-key.pem");
        createTable(t, "src", "snapshot", tls(CERTS.ca(), CERTS.client().certificate(), missing));
        assertThatThrownBy(() -> t.executeSql("SELECT * FROM src"))
                .hasStackTraceContaining(
                        "option 'tikv.key_file': file '" + missing + "' does not exist");
    }

    private static List<String> next(CloseableIterator<Row> it, int n) {
        List<String> out = new ArrayList<>();
        while (out.size() < n && it.hasNext()) {
            out.add(it.next().toString());
        }
        return out;
    }
}
