package io.tiflink.connector.sink.writer;

import io.tiflink.tidb.write.RowWrite;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/** The row writes a subtask holds until it writes them, in order, with their estimated memory. */
final class WriteBuffer {
    private List<RowWrite> writes = new ArrayList<>();
    private long bytes;
    private long oldestMillis;

    void add(RowWrite w) {
        if (writes.isEmpty()) {
            oldestMillis = System.currentTimeMillis();
        }
        writes.add(w);
        bytes += estimateBytes(w.row());
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
