package io.tiflink.connector.table;

import io.tiflink.connector.testutils.FlinkClusters;

import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeout;

/**
 * A table whose 'pd-addresses' point where no PD listens: the query fails at planning (the source
 * and the sink check their TiDB table's schema then) with the option, the address and why it cannot
 * be reached in the error the client gets, not only in the log.
 */
@Timeout(180)
class TiKVUnreachablePdITCase {
    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(2);

    // The probe refuses at once.
    // (Not preemptive: the planner keeps state in the test thread.)
    private static final Duration FAILS_WITHIN = Duration.ofSeconds(60);

    private static String address;

    @BeforeAll
    static void closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            address = "127.0.0.1:" + s.getLocalPort();
        }
    }

    private static StreamTableEnvironment sql() {
        StreamTableEnvironment t =
                StreamTableEnvironment.create(FlinkClusters.noRestartEnv(1, 200));
        t.getConfig().set("table.exec.sink.require-on-conflict", "false"); // Flink 2.3, VALUES
        t.executeSql(
                "CREATE TABLE t (id BIGINT, name STRING, PRIMARY KEY (id) NOT ENFORCED) WITH ("
                        + " 'connector' = 'tikv', 'pd-addresses' = '"
                        + address
                        + "', 'database-name' = 'd', 'table-name' = 't',"
                        + " 'scan.startup.mode' = 'snapshot')");
        return t;
    }

    private String expected() {
        return "'pd-addresses' = '"
                + address
                + "': cannot reach PD at "
                + address
                + ": connection refused";
    }

    @Test
    void aSourceFailsNamingTheOptionAndTheAddress() {
        StreamTableEnvironment t = sql();
        assertTimeout(
                FAILS_WITHIN,
                () ->
                        assertThatThrownBy(() -> t.executeSql("SELECT * FROM t").await())
                                .hasStackTraceContaining(expected()));
    }

    @Test
    void aSinkFailsNamingTheOptionAndTheAddress() {
        StreamTableEnvironment t = sql();
        assertTimeout(
                FAILS_WITHIN,
                () ->
                        assertThatThrownBy(
                                        () -> t.executeSql("INSERT INTO t VALUES (1, 'a')").await())
                                .hasStackTraceContaining(expected()));
    }
}
