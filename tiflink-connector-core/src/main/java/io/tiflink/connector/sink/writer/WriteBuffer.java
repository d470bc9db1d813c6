package io.tiflink.connector.sink.writer;

import io.tiflink.tidb.write.RowWrite;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** The row writes a subtask holds until it writes them, in order, with their estimated memory. */
final class WriteBuffer {
    private List<RowWrite> writes = new ArrayList<>();
    private long bytes;
    private long oldestMillis;

    /**
     * Adds {@code w}; a {@link RowWrite#retraction} just before it of the same primary key ({@code
     * key} gives a row's) is dropped: {@code w} replaces it.
     */
    void add(RowWrite w, Function<Object[], List<Object>> key) {
        if (writes.isEmpty()) {
            oldestMillis = System.currentTimeMillis();
        }
        RowWrite last = writes.isEmpty() ? null : writes.get(writes.size() - 1);
        if (last != null
                && last.isRetraction()
                && w.kind() != RowWrite.Kind.DELETE
                && key.apply(last.row()).equals(key.apply(w.row()))) {
            writes.remove(writes.size() - 1);
            bytes -= estimateBytes(last.row());
        }
        writes.add(w);
        bytes += estimateBytes(w.row());
    }

    /** Puts {@code later} after the buffered writes. */
    void addAll(List<RowWrite> later) {
        if (writes.isEmpty()) {
            oldestMillis = System.currentTimeMillis();
        }
        writes.addAll(later);
        for (RowWrite w : later) {
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
        for (RowWrite w : earlier) {
            bytes += estimateBytes(w.row());
        }
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

    void clear() {
        writes = new ArrayList<>();
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
