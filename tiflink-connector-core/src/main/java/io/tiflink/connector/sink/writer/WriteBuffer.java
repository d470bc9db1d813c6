package io.tiflink.connector.sink.writer;

import io.tiflink.tidb.write.RowWrite;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The row writes a subtask holds until it writes them, in order, with their estimated memory and
 * where each came in the subtask's input (to name a row the table refuses).
 */
final class WriteBuffer {
    private List<RowWrite> writes = new ArrayList<>();

    /**
     * Where each write came in the input, as {@link #writes}; null for a restored or deferred one.
     */
    private List<Position> positions = new ArrayList<>();

    private long bytes;
    private long oldestMillis;

    /**
     * Adds {@code w}, which came at {@code position} in the input; a {@link RowWrite#retraction}
     * just before it of the same primary key ({@code key} gives a row's) is dropped: {@code w}
     * replaces it.
     */
    void add(RowWrite w, Position position, Function<Object[], List<Object>> key) {
        if (writes.isEmpty()) {
            oldestMillis = System.currentTimeMillis();
        }
        RowWrite last = writes.isEmpty() ? null : writes.get(writes.size() - 1);
        if (last != null
                && last.isRetraction()
                && w.kind() != RowWrite.Kind.DELETE
                && key.apply(last.row()).equals(key.apply(w.row()))) {
            writes.remove(writes.size() - 1);
            positions.remove(positions.size() - 1);
            bytes -= estimateBytes(last.row());
        }
        writes.add(w);
        positions.add(position);
        bytes += estimateBytes(w.row());
    }

    /** Puts {@code later} after the buffered writes. */
    void addAll(List<RowWrite> later) {
        if (writes.isEmpty()) {
            oldestMillis = System.currentTimeMillis();
        }
        writes.addAll(later);
        for (RowWrite w : later) {
            positions.add(null);
            bytes += estimateBytes(w.row());
        }
    }

    /** Puts {@code earlier} before the buffered writes. */
    void addFirst(List<RowWrite> earlier) {
        if (earlier.isEmpty()) {
            return;
        }
        if (writes.isEmpty()) {
            oldestMillis = System.currentTimeMillis();
        }
        List<RowWrite> all = new ArrayList<>(earlier);
        all.addAll(writes);
        writes = all;
        List<Position> allPositions = new ArrayList<>(earlier.size() + positions.size());
        for (RowWrite w : earlier) {
            allPositions.add(null);
            bytes += estimateBytes(w.row());
        }
        allPositions.addAll(positions);
        positions = allPositions;
    }

    boolean isEmpty() {
        return writes.isEmpty();
    }

    /** Whether it holds {@code maxRows} writes or {@code maxBytes} of them. */
    boolean isFull(int maxRows, long maxBytes) {
        return writes.size() >= maxRows || bytes >= maxBytes;
    }

    /** When the oldest buffered write came (meaningless when empty). */
    long oldestMillis() {
        return oldestMillis;
    }

    /** The buffered writes, in order (not a copy). */
    List<RowWrite> writes() {
        return writes;
    }

    /** Where {@code w} (this very write) came in the input, or null if not known. */
    Position positionOf(RowWrite w) {
        for (int i = 0; i < writes.size(); i++) {
            if (writes.get(i) == w) {
                return positions.get(i);
            }
        }
        return null;
    }

    /** Where a write came in the subtask's input: its count since a checkpoint. */
    static final class Position {
        /** The checkpoint taken or restored before it, or -1: none since the subtask started. */
        final long checkpoint;

        /** 1 for the first row received since then. */
        final long row;

        Position(long checkpoint, long row) {
            this.checkpoint = checkpoint;
            this.row = row;
        }

        @Override
        public String toString() {
            return "row "
                    + row
                    + " received since "
                    + (checkpoint < 0 ? "the subtask started" : "checkpoint " + checkpoint);
        }
    }

    void clear() {
        writes = new ArrayList<>();
        positions = new ArrayList<>();
        bytes = 0;
    }

    private static long estimateBytes(Object[] row) {
        long bytes = 32 + 8L * row.length;
        for (Object v : row) {
            if (v instanceof String) {
                bytes += 40 + 2L * ((String) v).length();
            } else if (v instanceof byte[]) {
                bytes += 16 + ((byte[]) v).length;
            } else if (v instanceof BigDecimal || v instanceof BigInteger) {
                bytes += 48;
            } else if (v != null) {
                bytes += 16;
            }
        }
        return bytes;
    }
}
