package io.tiflink.connector.testutils;

import org.apache.flink.core.io.SimpleVersionedSerializer;

import org.assertj.core.api.recursive.comparison.RecursiveComparisonConfiguration;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Checked-in serialized samples of the connector's checkpointed state, so that a format change that
 * would break restoring an older checkpoint or savepoint fails a test. A sample is the bytes one
 * serializer version wrote for one object, in {@code
 * src/test/resources/serializer-snapshots/<sample>/v<version>.bin}; the serializer's tests read
 * every version's sample back and compare it with the object it was written from.
 *
 * <p>Samples are written once, on request only: a test run with {@code
 * -Dserializer.snapshots.write=true} writes the sample of the serializer's current version where it
 * is missing, never over an existing file. Without it, a missing sample fails. See "State
 * compatibility" in docs/source.md.
 */
public final class SerializerSnapshots {
    /** The system property that lets a test run write missing samples. */
    public static final String WRITE_PROPERTY = "serializer.snapshots.write";

    private static final Path DIR =
            Path.of(System.getProperty("basedir", "."))
                    .resolve("src/test/resources/serializer-snapshots");

    private static final Pattern FILE = Pattern.compile("v(\\d+)\\.bin");

    private SerializerSnapshots() {}

    /**
     * Every checked-in sample of {@code sample}, by version, as {@code serializer} reads it now.
     * Fails unless the newest is of the serializer's current version, whose sample is written from
     * {@code current} when the test run asks for it.
     */
    public static <T> SortedMap<Integer, T> restoreAll(
            String sample, SimpleVersionedSerializer<T> serializer, T current) throws IOException {
        Path dir = DIR.resolve(sample);
        int version = serializer.getVersion();
        Path file = dir.resolve("v" + version + ".bin");
        if (Boolean.getBoolean(WRITE_PROPERTY) && !Files.exists(file)) {
            Files.createDirectories(dir);
            Files.write(file, serializer.serialize(current));
        }
        SortedMap<Integer, T> restored = new TreeMap<>();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Matcher m = FILE.matcher(f.getFileName().toString());
                    if (m.matches()) {
                        int v = Integer.parseInt(m.group(1));
                        restored.put(v, serializer.deserialize(v, Files.readAllBytes(f)));
                    }
                }
            }
        }
        assertThat(restored.isEmpty() ? 0 : restored.lastKey())
                .as(
                        "the newest sample in %s must be of the serializer's version %d: write it"
                                + " by running the test once with -D%s=true, and commit it",
                        dir, version, WRITE_PROPERTY)
                .isEqualTo(version);
        return restored;
    }

    /** What {@code serializer} reads back of its own bytes for {@code value}. */
    public static <T> T roundTrip(SimpleVersionedSerializer<T> serializer, T value)
            throws IOException {
        return serializer.deserialize(serializer.getVersion(), serializer.serialize(value));
    }

    /** Asserts that {@code value} comes back from its bytes equal field by field. */
    public static <T> void assertRoundTrips(
            SimpleVersionedSerializer<T> serializer,
            T value,
            RecursiveComparisonConfiguration comparison)
            throws IOException {
        assertThat(roundTrip(serializer, value))
                .usingRecursiveComparison(comparison)
                .isEqualTo(value);
    }

    /**
     * Asserts that {@code serializer} refuses the bytes of {@code value} as of {@code version} with
     * an IOException saying {@code message}.
     */
    public static <T> void assertRefusesVersion(
            SimpleVersionedSerializer<T> serializer, T value, int version, String message)
            throws IOException {
        byte[] bytes = serializer.serialize(value);
        assertThatThrownBy(() -> serializer.deserialize(version, bytes))
                .isInstanceOf(IOException.class)
                .hasMessage(message);
    }
}
