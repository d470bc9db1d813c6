package io.tiflink.minicluster.storage;

/** TSO layout helpers: 46 bits of physical milliseconds, 18 bits of logical counter. */
public final class TimeStamps {
    public static final int LOGICAL_BITS = 18;

    /** u64::MAX on the wire; Java sees it as -1 and we normalise it to this value. */
    public static final long MAX = Long.MAX_VALUE;

    private TimeStamps() {}

    public static long compose(long physicalMillis, long logical) {
        return (physicalMillis << LOGICAL_BITS) | logical;
    }

    public static long physical(long ts) {
        return ts >>> LOGICAL_BITS;
    }

    public static long logical(long ts) {
        return ts & ((1L << LOGICAL_BITS) - 1);
    }

    /** Maps a wire timestamp (unsigned u64) to the signed domain the engine works in. */
    public static long fromWire(long ts) {
        return ts < 0 ? MAX : ts;
    }

    public static boolean isMax(long ts) {
        return ts == MAX;
    }
}
