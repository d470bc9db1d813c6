package io.tiflink.benchmarks;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A benchmark's settings: {@code name=value} arguments, else {@code -Dbench.name=value}, else the
 * default. Numbers may have {@code _} separators.
 */
final class BenchSettings {
    private final Map<String, String> args;

    private BenchSettings(Map<String, String> args) {
        this.args = args;
    }

    static BenchSettings parse(String[] argv) {
        Map<String, String> args = new HashMap<>();
        for (String a : argv) {
            int eq = a.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("arguments are name=value, got " + a);
            }
            args.put(a.substring(0, eq), a.substring(eq + 1));
        }
        return new BenchSettings(args);
    }

    String text(String name, String defaultValue) {
        return args.getOrDefault(name, System.getProperty("bench." + name, defaultValue));
    }

    long number(String name, long defaultValue) {
        String v = text(name, null);
        return v == null ? defaultValue : Long.parseLong(v.replace("_", ""));
    }

    /** A comma-separated list of integers, such as {@code parallelism=1,2}. */
    List<Integer> integers(String name, String defaultValue) {
        List<Integer> values = new ArrayList<>();
        for (String v : text(name, defaultValue).split(",")) {
            values.add(Integer.parseInt(v.trim()));
        }
        return values;
    }

    /** This JVM, for a run's header line: Java version, CPUs, max heap. */
    static String jvm() {
        Runtime rt = Runtime.getRuntime();
        return String.format(
                Locale.ROOT,
                "Java %s, %d CPUs, max heap %d MiB",
                System.getProperty("java.version"),
                rt.availableProcessors(),
                rt.maxMemory() >> 20);
    }

    /** The arguments given, for the run's header line. */
    @Override
    public String toString() {
        return args.toString();
    }
}
