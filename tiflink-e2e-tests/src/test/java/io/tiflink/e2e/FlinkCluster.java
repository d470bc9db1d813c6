package io.tiflink.e2e;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint;
import org.apache.flink.runtime.jobmanager.JobManagerProcessSpec;
import org.apache.flink.runtime.jobmanager.JobManagerProcessUtils;
import org.apache.flink.runtime.taskexecutor.TaskManagerRunner;
import org.apache.flink.runtime.util.config.memory.ProcessMemoryUtils;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A standalone Flink session cluster as {@code start-cluster.sh} starts one, from the Flink
 * installation the build assembles from Maven Central ({@code tiflink.flinkInstallation}): a
 * JobManager JVM and TaskManager JVMs on {@code lib/*} alone, with a {@code config.yaml} of free
 * loopback ports, small memory and heartbeats short enough that a killed TaskManager is noticed in
 * seconds. A JUnit extension for a test class: every process is stopped after it, and a failed test
 * prints the tails of their logs.
 */
final class FlinkCluster implements BeforeAllCallback, AfterAllCallback, TestWatcher {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final int taskManagers;
    private final int slotsPerTaskManager;
    private final Map<String, Process> processes = new LinkedHashMap<>();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Thread stopOnExit = new Thread(this::stopAll, "flink-cluster-stop");
    private Path dir;
    private int restPort;

    FlinkCluster(int taskManagers, int slotsPerTaskManager) {
        this.taskManagers = taskManagers;
        this.slotsPerTaskManager = slotsPerTaskManager;
    }

    /** The Flink installation: {@code lib/} for every process, {@code opt/} the SQL client's. */
    static Path installation() {
        String path = System.getProperty("tiflink.flinkInstallation");
        assertThat(path)
                .as("system property tiflink.flinkInstallation (set by the pom)")
                .isNotNull();
        Path home = Path.of(path);
        assertThat(home.resolve("lib")).as("the assembled Flink installation").isDirectory();
        // The connector must reach the cluster in the shaded jar alone.
        try (Stream<Path> jars = Stream.of("lib", "opt").flatMap(d -> list(home.resolve(d)))) {
            assertThat(jars.map(j -> j.getFileName().toString()))
                    .as("jars of the Flink installation %s", home)
                    .noneMatch(j -> j.contains("tiflink") || j.contains("tikv"));
        }
        return home;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        dir = Path.of("target", "flink-cluster", context.getRequiredTestClass().getSimpleName());
        deleteRecursively(dir);
        Path conf = Files.createDirectories(dir.resolve("conf"));
        restPort = freePort();
        Map<String, String> config = new LinkedHashMap<>();
        config.put("jobmanager.rpc.address", "localhost");
        config.put("jobmanager.rpc.port", String.valueOf(freePort()));
        config.put("jobmanager.bind-host", "localhost");
        config.put("rest.address", "localhost");
        config.put("rest.bind-address", "localhost");
        config.put("rest.port", String.valueOf(restPort));
        config.put("taskmanager.host", "localhost");
        config.put("taskmanager.bind-host", "localhost");
        config.put("jobmanager.memory.process.size", "768m");
        config.put("taskmanager.memory.process.size", "1280m");
        // Heap state: no managed memory needed, more for the task heap.
        config.put("taskmanager.memory.managed.size", "64m");
        config.put("taskmanager.numberOfTaskSlots", String.valueOf(slotsPerTaskManager));
        // A job's slots spread over the TaskManagers, so that killing one hits it.
        config.put("taskmanager.load-balance.mode", "SLOTS");
        // A killed TaskManager is declared lost after two failed heartbeat RPCs, within seconds;
        // the timeout only covers one that hangs, generous for a loaded machine.
        config.put("heartbeat.interval", "1000");
        config.put("heartbeat.timeout", "20000");
        config.put("heartbeat.rpc-failure-threshold", "2");
        config.put("restart-strategy.type", "fixed-delay");
        config.put("restart-strategy.fixed-delay.attempts", "100");
        config.put("restart-strategy.fixed-delay.delay", "1000");
        config.put("execution.checkpointing.dir", dir.resolve("checkpoints").toUri().toString());
        config.put("metrics.fetcher.update-interval", "1000");
        // Working, blob, I/O and web directories here rather than in /tmp: SIGKILLed processes
        // leave them behind.
        String tmp = Files.createDirectories(dir.resolve("tmp")).toAbsolutePath().toString();
        config.put("io.tmp.dirs", tmp);
        config.put("web.tmpdir", tmp);
        Files.write(
                conf.resolve("config.yaml"),
                config.entrySet().stream()
                        .map(e -> e.getKey() + ": " + e.getValue())
                        .collect(Collectors.toList()));
        Files.writeString(
                conf.resolve("log4j.properties"),
                "rootLogger.level = INFO\n"
                        + "rootLogger.appenderRef.file.ref = file\n"
                        + "appender.file.name = file\n"
                        + "appender.file.type = File\n"
                        + "appender.file.fileName = ${sys:log.file}\n"
                        + "appender.file.layout.type = PatternLayout\n"
                        + "appender.file.layout.pattern ="
                        + " %d{HH:mm:ss,SSS} %-5p %-40c{1} [%t] %m%n\n");
        Runtime.getRuntime().addShutdownHook(stopOnExit);

        Configuration flinkConfig = Configuration.fromMap(config);
        JobManagerProcessSpec jm =
                JobManagerProcessUtils.createDefaultJobManagerProcessSpec(
                        flinkConfig.get(JobManagerOptions.TOTAL_PROCESS_MEMORY).getMebiBytes());
        start(
                "jobmanager",
                JobManagerProcessUtils.generateJvmParametersStr(jm, flinkConfig),
                StandaloneSessionClusterEntrypoint.class.getName(),
                JobManagerProcessUtils.generateDynamicConfigsStr(jm));
        // What taskmanager.sh has BashJavaUtils compute: JVM sizes and the memory options that a
        // TaskManager requires to be set explicitly.
        TaskExecutorProcessSpec tm = TaskExecutorProcessUtils.processSpecFromConfig(flinkConfig);
        for (int i = 0; i < taskManagers; i++) {
            start(
                    taskManager(i),
                    ProcessMemoryUtils.generateJvmParametersStr(tm),
                    TaskManagerRunner.class.getName(),
                    TaskExecutorProcessUtils.generateDynamicConfigsStr(tm)
                            + " -D taskmanager.resource-id="
                            + taskManager(i));
        }
        await("the cluster's REST API reporting " + taskManagers + " TaskManagers")
                .atMost(Duration.ofMinutes(2))
                .pollInterval(Duration.ofMillis(500))
                .ignoreExceptions()
                .failFast("a cluster process exited", this::anyExited)
                .until(() -> get("/taskmanagers").path("taskmanagers").size() == taskManagers);
    }

    /** The resource id of TaskManager {@code i}, its process's name. */
    static String taskManager(int i) {
        return "taskmanager-" + i;
    }

    private void start(String name, String jvmParams, String mainClass, String dynamicConfigs)
            throws IOException {
        Path lib = installation().resolve("lib");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(words(jvmParams));
        cmd.addAll(words(System.getProperty("tiflink.flinkJvmOpens", "")));
        cmd.add("-Dlog.file=" + dir.resolve(name + ".log").toAbsolutePath());
        cmd.add("-Dlog4j.configurationFile=" + log4jConfig().toAbsolutePath().toUri());
        cmd.add("-cp");
        cmd.add(lib.toAbsolutePath() + File.separator + "*");
        cmd.add(mainClass);
        cmd.add("--configDir");
        cmd.add(dir.resolve("conf").toAbsolutePath().toString());
        cmd.addAll(words(dynamicConfigs));
        Process p =
                new ProcessBuilder(cmd)
                        .redirectErrorStream(true)
                        .redirectOutput(dir.resolve(name + ".out").toFile())
                        .start();
        processes.put(name, p);
    }

    private static List<String> words(String s) {
        return Arrays.stream(s.trim().split("\\s+"))
                .filter(w -> !w.isEmpty())
                .collect(Collectors.toList());
    }

    private boolean anyExited() {
        return processes.values().stream().anyMatch(p -> !p.isAlive());
    }

    int restPort() {
        return restPort;
    }

    /** log4j's configuration of the cluster's processes: INFO to the file {@code -Dlog.file}. */
    Path log4jConfig() {
        return dir.resolve("conf/log4j.properties");
    }

    /** The directory of the cluster's logs, config and checkpoints. */
    Path dir() {
        return dir;
    }

    /** GET of a REST API path, such as {@code /jobs/<id>}; fails on a status other than 200. */
    JsonNode get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    /** Cancels a job. */
    void cancel(String jobId) throws IOException, InterruptedException {
        send(
                HttpRequest.newBuilder(uri("/jobs/" + jobId + "?mode=cancel"))
                        .method("PATCH", HttpRequest.BodyPublishers.noBody()));
    }

    private URI uri(String path) {
        return URI.create("http://localhost:" + restPort + path);
    }

    private JsonNode send(HttpRequest.Builder request) throws IOException, InterruptedException {
        HttpResponse<String> response =
                http.send(
                        request.timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode())
                .as("%s: %s", response.uri(), response.body())
                .isBetween(200, 299);
        return JSON.readTree(response.body());
    }

    /**
     * Kills a TaskManager's JVM with SIGKILL (what {@link Process#destroyForcibly()} sends on
     * Linux; its exit status, 128 + 9, shows it), as a crashed machine would vanish.
     */
    void kill(String taskManager) throws InterruptedException {
        Process p = processes.get(taskManager);
        assertThat(p).as("a TaskManager named %s", taskManager).isNotNull();
        assertThat(p.destroyForcibly().waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("exit status of %s", taskManager).isEqualTo(137);
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        System.err.println(logTails());
    }

    /** The last lines of every process's log and output. */
    String logTails() {
        StringBuilder out = new StringBuilder();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f :
                    files.filter(
                                    f ->
                                            f.toString().endsWith(".log")
                                                    || f.toString().endsWith(".out"))
                            .sorted(Comparator.naturalOrder())
                            .collect(Collectors.toList())) {
                List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
                out.append("==== ")
                        .append(f.toAbsolutePath())
                        .append(" (last 60 lines) ====\n")
                        .append(
                                String.join(
                                        "\n",
                                        lines.subList(
                                                Math.max(0, lines.size() - 60), lines.size())))
                        .append('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        stopAll();
        Runtime.getRuntime().removeShutdownHook(stopOnExit);
    }

    private void stopAll() {
        for (Process p : processes.values()) {
            p.destroyForcibly();
        }
        for (Process p : processes.values()) {
            try {
                p.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static Stream<Path> list(Path dir) {
        try {
            return Files.list(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteRecursively(Path path) throws IOException {
        if (Files.exists(path)) {
            try (Stream<Path> all = Files.walk(path)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
                    Files.delete(p);
                }
            }
        }
    }
}
