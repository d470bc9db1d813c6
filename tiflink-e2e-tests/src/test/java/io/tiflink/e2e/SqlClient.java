package io.tiflink.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real Flink SQL client ({@code SqlClient -f script}) in a child JVM on this module's test
 * classpath, as {@code sql-client.sh} would run it with the connector jars added. It exits 0 even
 * when a statement fails, so callers check the output for {@code [ERROR]}.
 */
final class SqlClient {
    private SqlClient() {}

    /** Runs the script and returns what the client printed. */
    static String run(Path dir, String script) throws Exception {
        Process p = start(dir, "script", script);
        assertThat(p.waitFor(3, TimeUnit.MINUTES)).as("the SQL client finished").isTrue();
        return output(dir, "script");
    }

    /**
     * Starts the client on a script ({@code name.sql} in {@code dir}) without waiting for it, for
     * scripts whose jobs run until stopped; it prints to {@code name.out} (see {@link #output}).
     */
    static Process start(Path dir, String name, String script) throws Exception {
        Path file = dir.resolve(name + ".sql");
        Files.writeString(file, script);
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx1g");
        cmd.addAll(List.of(System.getProperty("tiflink.flinkJvmOpens", "").split(" ")));
        cmd.removeIf(String::isEmpty);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(org.apache.flink.table.client.SqlClient.class.getName());
        cmd.add("-f");
        cmd.add(file.toString());
        cmd.add("-Dexecution.target=local"); // a Flink mini cluster per job, in the client's JVM
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
