package io.tiflink.catalog;

import io.tiflink.minicluster.junit.MiniTiKVExtension;

import org.apache.flink.table.client.SqlClient;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real Flink SQL client, embedded, runs a script against the catalog. It exits 0 even when a
 * statement fails, so the output is checked for {@code [ERROR]}.
 */
class CatalogSqlClientTest {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(1));

    /**
     * Runs {@code SqlClient -f script} in a child JVM on this test's classpath, as the {@code
     * sql-client.sh} launcher would, and returns what it printed.
     */
    private static String runSqlClient(Path script) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx1g");
        cmd.addAll(List.of(System.getProperty("tiflink.flinkJvmOpens", "").split(" ")));
        cmd.removeIf(String::isEmpty);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(SqlClient.class.getName());
        cmd.add("-f");
        cmd.add(script.toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        // Surefire sets FLINK_CONF_DIR (an empty config.yaml is all the client needs).
        String confDir = System.getenv("FLINK_CONF_DIR");
        pb.environment()
                .put(
                        "FLINK_CONF_DIR",
                        confDir != null
                                ? confDir
                                : Path.of("src/test/flink-conf").toAbsolutePath().toString());
        Process p = pb.start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.getInputStream().transferTo(out);
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).as("the SQL client finished").isTrue();
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void showAndDescribeFromTheSqlClient(@TempDir Path dir) throws Exception {
        try (TiSession session =
                TiSession.create(TiConfiguration.createDefault(TIKV.cluster().pdAddress()))) {
            TiDBCatalogTest.writeSchema(session);
        }
        Path script = dir.resolve("catalog.sql");
        Files.writeString(
                script,
                "SET 'sql-client.execution.result-mode' = 'tableau';\n"
                        + "CREATE CATALOG tidb WITH ('type' = 'tidb', 'pd-addresses' = '"
                        + TIKV.cluster().pdAddress()
                        + "', 'default-database' = 'shop');\n"
                        + "USE CATALOG tidb;\n"
                        + "SHOW DATABASES;\n"
                        + "SHOW TABLES;\n"
                        + "DESCRIBE orders;\n");
        String out = runSqlClient(script);
        assertThat(out).doesNotContain("[ERROR]");
        assertThat(out)
                .containsPattern("\\|\\s+empty_db\\s+\\|")
                .containsPattern("\\|\\s+shop\\s+\\|");
        assertThat(out)
                .containsPattern("\\|\\s+events\\s+\\|")
                .containsPattern("\\|\\s+orders\\s+\\|");
        assertThat(out).containsPattern("\\|\\s+id \\|\\s+BIGINT \\|\\s+FALSE \\|\\s+PRI\\(id\\)");
        assertThat(out).containsPattern("\\|\\s+amount \\|\\s+DECIMAL\\(12, 2\\) \\|\\s+TRUE");
    }
}
