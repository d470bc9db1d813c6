package io.tiflink.e2e;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real Flink SQL client ({@code SqlClient -f script}) in a child JVM, as {@code sql-client.sh}
 * runs it. It exits 0 even when a statement fails, so callers check the output for {@code [ERROR]}.
 */
final class SqlClient {
    private final String classpath;
    private final List<String> options;

    /** log4j's configuration for the client, which logs to {@code name.log}; null: none. */
    private final Path log4jConfig;

    private SqlClient(String classpath, List<String> options, Path log4jConfig) {
        this.classpath = classpath;
        this.options = options;
        this.log4jConfig = log4jConfig;
    }

    /**
     * On this module's test classpath (the connector's modules unshaded), each job in a Flink mini
     * cluster in the client's JVM.
     */
    static SqlClient local() {
        return new SqlClient(
                System.getProperty("java.class.path"), List.of("-Dexecution.target=local"), null);
    }

    /**
     * On a Flink installation's {@code lib/} and {@code opt/} alone with the shaded connector jar
     * added ({@code -j}), submitting to the cluster over REST.
     */
    static SqlClient remote(FlinkCluster cluster) {
        Path home = FlinkCluster.installation().toAbsolutePath();
        String jar = System.getProperty("tiflink.sqlConnectorJar");
        assertThat(jar).as("system property tiflink.sqlConnectorJar (set by the pom)").isNotNull();
        assertThat(Path.of(jar)).as("the shaded connector jar").isRegularFile();
        return new SqlClient(
                home.resolve("lib")
                        + File.separator
                        + "*"
                        + File.pathSeparator
                        + home.resolve("opt")
                        + File.separator
                        + "*",
                List.of(
                        "-j",
                        jar,
                        "-Dexecution.target=remote",
                        "-Drest.address=localhost",
                        "-Drest.port=" + cluster.restPort()),
                cluster.log4jConfig());
    }

    /** Runs the script and returns what the client printed. */
    String run(Path dir, String script) throws Exception {
        Process p = start(dir, "script", script);
        assertThat(p.waitFor(3, TimeUnit.MINUTES)).as("the SQL client finished").isTrue();
        return output(dir, "script");
    }

    /**
     * Starts the client on a script ({@code name.sql} in {@code dir}) without waiting for it, for
     * scripts whose jobs run until stopped; it prints to {@code name.out} (see {@link #output}).
     */
    Process start(Path dir, String name, String script) throws Exception {
        Path file = dir.resolve(name + ".sql");
        Files.writeString(file, script);
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx1g");
        cmd.addAll(List.of(System.getProperty("tiflink.flinkJvmOpens", "").split(" ")));
        cmd.removeIf(String::isEmpty);
        if (log4jConfig != null) {
            cmd.add("-Dlog.file=" + dir.resolve(name + ".log").toAbsolutePath());
            cmd.add("-Dlog4j.configurationFile=" + log4jConfig.toAbsolutePath().toUri());
        }
        cmd.add("-cp");
        cmd.add(classpath);
        cmd.add(org.apache.flink.table.client.SqlClient.class.getName());
        cmd.add("-f");
        cmd.add(file.toString());
        cmd.addAll(options);
        ProcessBuilder pb =
                new ProcessBuilder(cmd)
                        .redirectErrorStream(true)
                        .redirectOutput(dir.resolve(name + ".out").toFile());
        // Surefire sets FLINK_CONF_DIR (an empty config.yaml is all the client needs).
        String confDir = System.getenv("FLINK_CONF_DIR");
        pb.environment()
                .put(
                        "FLINK_CONF_DIR",
                        confDir != null
                                ? confDir
                                : Path.of("src/test/flink-conf").toAbsolutePath().toString());
        return pb.start();
    }

    /** What the client started on script {@code name} printed so far. */
    static String output(Path dir, String name) throws IOException {
        return Files.readString(dir.resolve(name + ".out"), StandardCharsets.UTF_8);
    }
}
