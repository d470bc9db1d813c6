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
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Changes waiting for the resolved ts to pass them, merged in (commit ts, key) order from sorted
 * runs: in memory, each batch a feed sealed (at or below its resolved ts); on disk, what memory
 * could not hold while nothing could be released. A disk run holds everything held at the time,
 * sealed or not: unsealed changes carry their feed's request id, and those of a feed that failed
 * above its resolved ts are skipped when read back (its successor delivers them again).
 */
final class Sorter implements AutoCloseable {
    /** The feed tag of a sealed change. */
    static final long SEALED = 0;

    private static final int READ_BUFFER = 64 << 10;

    /**
     * Fixed bytes of a change on disk: feed, commit ts, start ts, txn source, op, three lengths.
     */
    private static final int RECORD_BYTES = 8 + 8 + 8 + 8 + 1 + 3 * 4;

    private final Path directory;

    /** Every run with changes left, by its head. */
    private final PriorityQueue<Run> runs =
            new PriorityQueue<>(Comparator.comparing((Run r) -> r.head, KeyChange.COMMIT_ORDER));

    /** Feeds that failed while some of their unsealed changes were on disk: their resolved ts. */
    private final Map<Long, Long> failedFeeds = new HashMap<>();

    private long memoryBytes;

    /** Disk runs not yet read to their end, and written in all. */
    private int diskRuns;

    private int spills;

    Sorter(Path directory) {
        this.directory = directory;
    }

    /** Adds sealed changes, sorted in commit order. */
    void add(List<KeyChange> sorted) {
        if (!sorted.isEmpty()) {
            for (KeyChange c : sorted) {
                memoryBytes += c.sizeBytes();
            }
            advance(new MemoryRun(sorted));
        }
    }

    long memoryBytes() {
        return memoryBytes;
    }

    /** Bytes of changes still to be read from disk. */
    long spilledBytes() {
        long bytes = 0;
        for (Run r : runs) {
            if (r instanceof DiskRun) {
                bytes += ((DiskRun) r).unread;
            }
        }
        return bytes;
    }

    /**
     * Writes everything held in memory, and the given unsealed changes of live feeds, to a new run
     * on disk.
     *
     * @param unsealed changes by the request id of the feed that delivered them
     */
    void spill(Map<Long, List<KeyChange>> unsealed) {
        List<Tagged> tagged = new ArrayList<>();
        for (Iterator<Run> it = runs.iterator(); it.hasNext(); ) {
            Run r = it.next();
            if (r instanceof MemoryRun) {
                MemoryRun m = (MemoryRun) r;
                tagged.add(new Tagged(m.head, SEALED));
                for (int i = m.next; i < m.changes.size(); i++) {
                    tagged.add(new Tagged(m.changes.get(i), SEALED));
                }
                it.remove();
            }
        }
        unsealed.forEach((feed, changes) -> changes.forEach(c -> tagged.add(new Tagged(c, feed))));
        memoryBytes = 0;
        if (tagged.isEmpty()) {
            return;
        }
        tagged.sort(Comparator.comparing((Tagged t) -> t.change, KeyChange.COMMIT_ORDER));
        try {
            Files.createDirectories(directory);
            Path file = Files.createTempFile(directory, "tiflink-cdc-run-", ".bin");
            try (DataOutputStream out =
                    new DataOutputStream(
                            new BufferedOutputStream(Files.newOutputStream(file), READ_BUFFER))) {
                for (Tagged t : tagged) {
                    write(out, t);
                }
            }
            diskRuns++;
            spills++;
            advance(new DiskRun(file));
        } catch (IOException e) {
            throw new UncheckedIOException("spilling changes to " + directory + " failed", e);
        }
    }

    /** A feed failed at {@code resolvedTs}; its unsealed changes on disk are void. */
    void feedFailed(long requestId, long resolvedTs) {
        if (diskRuns > 0) {
            failedFeeds.put(requestId, resolvedTs);
        }
    }

    /** The next change at or below {@code upTo}, or null if there is none. */
    KeyChange next(long upTo) {
        Run run;
        // Skip heads that became void since they were read.
        while ((run = runs.peek()) != null && !isValid(run.headFeed, run.head.commitTs())) {
            advance(runs.poll());
        }
        if (run == null || run.head.commitTs() > upTo) {
            return null;
        }
        KeyChange next = run.head;
        if (run instanceof MemoryRun) {
            memoryBytes -= next.sizeBytes();
        }
        advance(runs.poll());
        return next;
    }

    private boolean isValid(long feed, long commitTs) {
        Long failedAt = feed == SEALED ? null : failedFeeds.get(feed);
        return failedAt == null || commitTs <= failedAt;
    }

    /** Reads a run's next change and puts it back in line, or drops it at its end. */
    private void advance(Run run) {
        try {
            if (run.advance()) {
                runs.add(run);
                return;
            }
            run.close();
        } catch (IOException e) {
            throw new UncheckedIOException("reading spilled changes from " + directory, e);
        }
        if (run instanceof DiskRun && --diskRuns == 0) {
            failedFeeds.clear();
        }
    }

    /** Drops everything. */
    void clear() {
        for (Run r : runs) {
            try {
                r.close();
            } catch (IOException e) {
                throw new UncheckedIOException("deleting spilled changes in " + directory, e);
            }
        }
        runs.clear();
        failedFeeds.clear();
        memoryBytes = 0;
        diskRuns = 0;
    }

    /** Disk runs written so far. */
    int runCount() {
        return spills;
    }

    @Override
    public void close() {
        clear();
    }

    private static final class Tagged {
        final KeyChange change;
        final long feed;

        Tagged(KeyChange change, long feed) {
            this.change = change;
            this.feed = feed;
        }
    }

    private static void write(DataOutputStream out, Tagged t) throws IOException {
        KeyChange c = t.change;
        out.writeLong(t.feed);
        out.writeLong(c.commitTs());
        out.writeLong(c.startTs());
        out.writeLong(c.txnSource());
        out.writeBoolean(c.op() == KeyChange.Op.DELETE);
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

    /** A sorted run, read one change ahead. */
    private abstract static class Run {
        KeyChange head;
        long headFeed = SEALED;

        /** Moves to the next change; false at the end. */
        abstract boolean advance() throws IOException;

        abstract void close() throws IOException;
    }

    private static final class MemoryRun extends Run {
        final List<KeyChange> changes;
        int next;

        MemoryRun(List<KeyChange> changes) {
            this.changes = changes;
        }

        @Override
        boolean advance() {
            head = next < changes.size() ? changes.get(next++) : null;
            return head != null;
        }

        @Override
        void close() {}
    }

    private static final class DiskRun extends Run {
        final Path file;
        final DataInputStream in;
        long unread;

        DiskRun(Path file) throws IOException {
            this.file = file;
            this.unread = Files.size(file);
            this.in =
                    new DataInputStream(
                            new BufferedInputStream(Files.newInputStream(file), READ_BUFFER));
        }

        @Override
        boolean advance() throws IOException {
            try {
                headFeed = in.readLong();
            } catch (EOFException end) {
                head = null;
                return false;
            }
            long commitTs = in.readLong();
            long startTs = in.readLong();
            long txnSource = in.readLong();
            KeyChange.Op op = in.readBoolean() ? KeyChange.Op.DELETE : KeyChange.Op.PUT;
            byte[] key = readBytes(in);
            byte[] value = readBytes(in);
            byte[] oldValue = readBytes(in);
            unread -= RECORD_BYTES + key.length + value.length + oldValue.length;
            head = new KeyChange(key, value, oldValue, op, startTs, commitTs, txnSource);
            return true;
        }

        @Override
        void close() throws IOException {
            in.close();
            Files.deleteIfExists(file);
        }
    }
}
