package io.tiflink.connector.testutils;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** The checkpoints a job retained in a directory, for tests that restore from them. */
public final class Checkpoints {
    private Checkpoints() {}

    /** The newest complete checkpoint ({@code <job>/chk-<n>} with its metadata) or null. */
    public static Path latest(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return null;
        }
        try (Stream<Path> files = Files.walk(dir, 3)) {
            return files.filter(f -> f.getFileName().toString().equals("_metadata"))
                    .map(Path::getParent)
                    .filter(d -> d.getFileName().toString().startsWith("chk-"))
                    .max(Comparator.comparingLong(Checkpoints::id))
                    .orElse(null);
        }
    }

    /** The id of the newest complete checkpoint, or -1. */
    public static long latestId(Path dir) throws IOException {
        Path latest = latest(dir);
        return latest == null ? -1 : id(latest);
    }

    private static long id(Path checkpoint) {
        return Long.parseLong(checkpoint.getFileName().toString().substring("chk-".length()));
    }
}
