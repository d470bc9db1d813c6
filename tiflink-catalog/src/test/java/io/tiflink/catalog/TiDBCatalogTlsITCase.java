package io.tiflink.catalog;

import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.tls.TestCertificates;

import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeout;

/** The catalog, and the tables it hands out, over a cluster that serves mutual TLS only. */
class TiDBCatalogTlsITCase {
    private static final TestCertificates CERTS = TestCertificates.createTemporary();

    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(1).tls(CERTS.serverTls()));

    @BeforeAll
    static void schema(MiniTiKVCluster cluster) throws Exception {
        try (TiDBTables tables =
                new TiDBTables(
                        cluster, CERTS.clientConfiguration(cluster.pdAddress(), CERTS.client()))) {
            tables.ddl(
                    "CREATE DATABASE shop; USE shop;"
                            + " CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(16));");
            tables.txn("shop", "items").insert(1L, "one").insert(2L, "two").commit();
        }
    }

    private static String catalog(TestCertificates.Issued client) {
        return "CREATE CATALOG tidb WITH ('type' = 'tidb', 'pd-addresses' = '"
                + TIKV.cluster().pdAddress()
                + "', 'default-database' = 'shop', 'tikv.tls_enable' = 'true',"
                + " 'tikv.trust_cert_collection' = '"
                + CERTS.ca()
                + "', 'tikv.key_cert_chain' = '"
                + client.certificate()
                + "', 'tikv.key_file' = '"
                + client.key()
                + "')";
    }

    @Test
    void listsAndReadsTablesOverTls() throws Exception {
        TableEnvironment env = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        env.executeSql(catalog(CERTS.client()));
        env.executeSql("USE CATALOG tidb");
        assertThat(rows(env, "SHOW TABLES")).containsExactly("+I[items]");
        // The catalog's tables carry its TLS options.
        assertThat(
                        rows(
                                env,
                                "SELECT id, name FROM items"
                                        + " /*+ OPTIONS('scan.startup.mode' = 'snapshot') */"))
                .containsExactlyInAnyOrder("+I[1, one]", "+I[2, two]");
    }

    @Test
    void aCertificateOfAnotherCaFailsCreateCatalogNamingTheHandshake() {
        TableEnvironment env = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        assertTimeout(
                Duration.ofSeconds(60),
                () ->
                        assertThatThrownBy(() -> env.executeSql(catalog(CERTS.otherClient())))
                                .hasStackTraceContaining(
                                        "catalog 'tidb': 'pd-addresses' = '"
                                                + TIKV.cluster().pdAddress()
                                                + "': TLS handshake failed with PD at "
                                                + TIKV.cluster().pdAddress()));
    }

    private static List<String> rows(TableEnvironment env, String query) throws Exception {
        List<String> out = new ArrayList<>();
        try (CloseableIterator<Row> it = env.executeSql(query).collect()) {
            it.forEachRemaining(r -> out.add(r.toString()));
        }
        return out;
    }
}
