package io.tiflink.cdc.client;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Changes waiting for the resolved ts to pass them, in (commit ts, key) order. Those in memory are
 * sealed (at or below their feed's resolved ts). When memory is full and nothing can be released,
 * everything held is written to disk as a sorted run, sealed or not: a run's unsealed changes carry
 * their feed's request id, and those of a feed that failed above its resolved ts are skipped when
 * read back (its successor delivers them again). Rows come out of a merge of memory and runs.
 */
final class Sorter implements AutoCloseable {
    /** The feed tag of a sealed change. */
    static final long SEALED = 0;

    private static final int READ_BUFFER = 64 << 10;

    /** Fixed bytes of a change on disk: feed, commit ts, start ts, op, three lengths. */
    private static final int RECORD_BYTES = 8 + 8 + 8 + 1 + 3 * 4;

    private final Path directory;
    private final PriorityQueue<RowChange> memory = new PriorityQueue<>(RowChange.COMMIT_ORDER);
    private final PriorityQueue<Run> runs =
            new PriorityQueue<>(Comparator.comparing((Run r) -> r.head, RowChange.COMMIT_ORDER));

    /** Feeds that failed while some of their unsealed changes were on disk: their resolved ts. */
    private final Map<Long, Long> failedFeeds = new HashMap<>();

    private long memoryBytes;
    private int runCount;

    Sorter(Path directory) {
        this.directory = directory;
    }

    void add(RowChange sealed) {
        memory.add(sealed);
        memoryBytes += sealed.sizeBytes();
    }

    long memoryBytes() {
        return memoryBytes;
    }

    /** Bytes of changes still to be read from disk. */
    long spilledBytes() {
        long bytes = 0;
        for (Run r : runs) {
            bytes += r.unread;
        }
        return bytes;
    }

    /**
     * Writes everything in memory, and the given unsealed changes of live feeds, to a new run.
     *
     * @param unsealed changes by the request id of the feed that delivered them
     */
    void spill(Map<Long, List<RowChange>> unsealed) {
        List<Tagged> rows = new ArrayList<>();
        for (RowChange c : memory) {
            rows.add(new Tagged(c, SEALED));
        }
        unsealed.forEach((feed, changes) -> changes.forEach(c -> rows.add(new Tagged(c, feed))));
        if (rows.isEmpty()) {
            return;
        }
        rows.sort(Comparator.comparing((Tagged t) -> t.change, RowChange.COMMIT_ORDER));
        try {
            Files.createDirectories(directory);
            Path file = Files.createTempFile(directory, "tiflink-cdc-run-", ".bin");
            try (DataOutputStream out =
                    new DataOutputStream(
                            new BufferedOutputStream(Files.newOutputStream(file), READ_BUFFER))) {
                for (Tagged t : rows) {
                    write(out, t);
                }
            }
            runCount++;
            advance(new Run(file));
        } catch (IOException e) {
            throw new UncheckedIOException("spilling changes to " + directory + " failed", e);
        }
        memory.clear();
        memoryBytes = 0;
    }

    /** A feed failed at {@code resolvedTs}; its unsealed changes on disk are void. */
    void feedFailed(long requestId, long resolvedTs) {
        if (!runs.isEmpty()) {
            failedFeeds.put(requestId, resolvedTs);
        }
    }

    /** The next change at or below {@code upTo}, or null if there is none. */
    RowChange next(long upTo) {
        RowChange inMemory = memory.peek();
        Run run = validRun();
        boolean fromMemory =
                inMemory != null
                        && (run == null || RowChange.COMMIT_ORDER.compare(inMemory, run.head) < 0);
        RowChange next = fromMemory ? inMemory : run == null ? null : run.head;
        if (next == null || next.commitTs() > upTo) {
            return null;
        }
        if (fromMemory) {
            memory.poll();
            memoryBytes -= next.sizeBytes();
        } else {
            advance(runs.poll());
        }
        return next;
    }

    /** The run with the least head, skipping heads that became void since they were read. */
    private Run validRun() {
        Run run;
        while ((run = runs.peek()) != null && !isValid(run.headFeed, run.head.commitTs())) {
            advance(runs.poll());
        }
        return run;
    }

    private boolean isValid(long feed, long commitTs) {
        Long failedAt = feed == SEALED ? null : failedFeeds.get(feed);
        return failedAt == null || commitTs <= failedAt;
    }

    /** Reads a run's next change and puts it back in line, or deletes it at its end. */
    private void advance(Run run) {
        try {
            if (run.advance()) {
                runs.add(run);
                return;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading spilled changes from " + run.file, e);
        }
        run.delete();
        if (runs.isEmpty()) {
            failedFeeds.clear();
        }
    }

    /** Drops everything (the subscription reads again from its resolved ts). */
    void clear() {
        memory.clear();
        memoryBytes = 0;
        for (Run r : runs) {
            r.delete();
        }
        runs.clear();
        failedFeeds.clear();
    }

    /** Runs written so far. */
    int runCount() {
        return runCount;
    }

    @Override
    public void close() {
        clear();
    }

    private static final class Tagged {
        final RowChange change;
        final long feed;

        Tagged(RowChange change, long feed) {
            this.change = change;
            this.feed = feed;
        }
    }

    private static void write(DataOutputStream out, Tagged t) throws IOException {
        RowChange c = t.change;
        out.writeLong(t.feed);
        out.writeLong(c.commitTs());
        out.writeLong(c.startTs());
        out.writeBoolean(c.op() == RowChange.Op.DELETE);
        writeBytes(out, c.key());
        writeBytes(out, c.value());
        writeBytes(out, c.oldValue());
    }

    private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return b;
    }

    /** A sorted run on disk, read one change ahead. */
    private static final class Run {
        final Path file;
        final DataInputStream in;
        long unread;
        RowChange head;
        long headFeed;

        Run(Path file) throws IOException {
            this.file = file;
            this.unread = Files.size(file);
            this.in =
                    new DataInputStream(
                            new BufferedInputStream(Files.newInputStream(file), READ_BUFFER));
        }

        /** Reads the next change into {@link #head}; false at the end. */
        boolean advance() throws IOException {
            try {
                headFeed = in.readLong();
            } catch (EOFException end) {
                head = null;
                return false;
            }
            long commitTs = in.readLong();
            long startTs = in.readLong();
            RowChange.Op op = in.readBoolean() ? RowChange.Op.DELETE : RowChange.Op.PUT;
            byte[] key = readBytes(in);
            byte[] value = readBytes(in);
            byte[] oldValue = readBytes(in);
            unread -= RECORD_BYTES + key.length + value.length + oldValue.length;
            head = new RowChange(key, value, oldValue, op, startTs, commitTs);
            return true;
        }

        void delete() {
            try {
                in.close();
                Files.deleteIfExists(file);
            } catch (IOException e) {
                throw new UncheckedIOException("deleting spilled changes " + file, e);
            }
        }
    }
}
