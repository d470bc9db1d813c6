package io.tiflink.connector.source;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;

/**
 * The rows of a table whose integer primary key (when it is the row handle) lies in {@code [min,
 * max]}; what the source reads when a query filters on such a key.
 */
@PublicEvolving
public final class HandleRange implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final HandleRange ALL = new HandleRange(Long.MIN_VALUE, Long.MAX_VALUE);

    private final long min;
    private final long max;

    public HandleRange(long min, long max) {
        if (min > max) {
            throw new IllegalArgumentException("empty handle range [" + min + ", " + max + "]");
        }
        this.min = min;
        this.max = max;
    }

    public long min() {
        return min;
    }

    public long max() {
        return max;
    }

    public boolean isAll() {
        return min == Long.MIN_VALUE && max == Long.MAX_VALUE;
    }

    @Override
    public String toString() {
        return "[" + min + ", " + max + "]";
    }
}
