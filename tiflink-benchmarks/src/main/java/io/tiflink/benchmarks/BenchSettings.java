package io.tiflink.benchmarks;

import java.util.HashMap;
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

    /** The arguments given, for the run's header line. */
    @Override
    public String toString() {
        return args.toString();
    }
}
