package io.tiflink.connector.testutils;

import io.tiflink.connector.TiKVOptions;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.table.factories.Factory;
import org.apache.flink.util.TimeUtils;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Checks the hand-written option tables of {@code docs/} against the options in code. An option
 * table is a markdown table headed {@code | option | default | meaning |}; the keys in backticks in
 * its first column share the row's default, in the second column.
 */
public final class OptionsDocs {
    private static final String HEADER = "| option | default | meaning |";
    private static final Pattern KEY = Pattern.compile("`([^`]+)`");

    private OptionsDocs() {}

    /** The {@code public static final ConfigOption} fields of a class. */
    public static Set<ConfigOption<?>> declared(Class<?> optionsClass) {
        Set<ConfigOption<?>> options = new HashSet<>();
        for (Field f : optionsClass.getFields()) {
            int m = f.getModifiers();
            if (Modifier.isStatic(m) && Modifier.isFinal(m) && f.getType() == ConfigOption.class) {
                try {
                    options.add((ConfigOption<?>) f.get(null));
                } catch (IllegalAccessException e) {
                    throw new AssertionError(e);
                }
            }
        }
        return options;
    }

    /**
     * The options one doc file documents: those of {@code optionsClass}, and the others (Flink's)
     * that {@code factory} takes, but not the shared {@link TiKVOptions} of connector-options.md.
     */
    public static Set<ConfigOption<?>> ownOptions(Class<?> optionsClass, Factory factory) {
        Set<ConfigOption<?>> options = declared(optionsClass);
        options.addAll(factory.requiredOptions());
        options.addAll(factory.optionalOptions());
        options.removeAll(declared(TiKVOptions.class));
        return options;
    }

    /**
     * Asserts that the option tables of {@code docs/<file>} have a row for each of {@code options},
     * exactly once, with its {@link #documentedDefault}, and no other key (deprecated keys belong
     * in the meaning column).
     */
    public static void assertDocuments(
            String file, Collection<ConfigOption<?>> options, Set<ConfigOption<?>> required) {
        Set<String> requiredKeys = new TreeSet<>();
        required.forEach(o -> requiredKeys.add(o.key()));
        Set<String> expected = new TreeSet<>();
        for (ConfigOption<?> o : options) {
            expected.add(row(o.key(), documentedDefault(o, requiredKeys.contains(o.key()))));
        }
        assertThat(documentedRows(file))
                .as("option rows of docs/%s, as 'key | default'", file)
                .containsExactlyInAnyOrderElementsOf(expected);
    }

    /**
     * The default column of an option, the code's default as the docs write it: {@code (required)}
     * for an option without default that the factory requires, {@code (none)} for another without
     * default (what happens then goes in the meaning column), else in backticks: a Duration as
     * Flink's {@link TimeUtils#formatWithHighestUnit} ({@code 1 min}, {@code 200 ms}), anything
     * else as its {@code toString()} ({@code 16 mb}, enums as their option value {@code
     * exactly-once}), the empty string as {@code ''} (an empty code span cannot be written).
     */
    static String documentedDefault(ConfigOption<?> option, boolean required) {
        if (!option.hasDefaultValue()) {
            return required ? "(required)" : "(none)";
        }
        Object value = option.defaultValue();
        String text;
        if (value instanceof Duration) {
            text = TimeUtils.formatWithHighestUnit((Duration) value);
        } else if (value instanceof String
                || value instanceof Number
                || value instanceof Boolean
                || value instanceof Enum
                || value instanceof MemorySize) {
            text = value.toString().isEmpty() ? "''" : value.toString();
        } else {
            throw new AssertionError(
                    "no rule for writing the default of " + option.key() + ": " + value);
        }
        return "`" + text + "`";
    }

    /**
     * Each key of the first column of the option tables of {@code docs/<file>}, with its default.
     */
    static List<String> documentedRows(String file) {
        Path doc = Paths.get("..", "docs", file);
        List<String> lines;
        try {
            lines = Files.readAllLines(doc);
        } catch (IOException e) {
            throw new AssertionError("cannot read " + doc.toAbsolutePath(), e);
        }
        List<String> rows = new ArrayList<>();
        boolean inTable = false;
        for (String line : lines) {
            if (line.trim().equals(HEADER)) {
                inTable = true;
            } else if (!line.startsWith("|")) {
                inTable = false;
            } else if (inTable && !line.startsWith("|---")) {
                String[] cells = line.split("\\|");
                Matcher keys = KEY.matcher(cells[1]);
                boolean found = false;
                while (keys.find()) {
                    rows.add(row(keys.group(1), cells[2].trim()));
                    found = true;
                }
                if (!found) {
                    rows.add(row(cells[1].trim(), cells[2].trim())); // fails as not an option
                }
            }
        }
        return rows;
    }

    private static String row(String key, String documentedDefault) {
        return key + " | " + documentedDefault;
    }
}
