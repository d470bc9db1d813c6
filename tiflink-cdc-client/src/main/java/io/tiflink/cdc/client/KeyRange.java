package io.tiflink.cdc.client;

import io.tiflink.tikv.Keys;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/** A range of raw keys {@code [start, end)}; an empty end means unbounded. */
public final class KeyRange {
    private final byte[] start;
    private final byte[] end;

    private KeyRange(byte[] start, byte[] end) {
        this.start = start;
        this.end = end;
    }

    public static KeyRange of(byte[] start, byte[] end) {
        if (end.length > 0 && Arrays.compareUnsigned(start, end) >= 0) {
            throw new IllegalArgumentException("key range start must be below its end");
        }
        return new KeyRange(start.clone(), end.clone());
    }

    /** Every key. */
    public static KeyRange all() {
        return new KeyRange(new byte[0], new byte[0]);
    }

    public byte[] start() {
        return start.clone();
    }

    public byte[] end() {
        return end.clone();
    }

    public boolean contains(byte[] key) {
        return Arrays.compareUnsigned(key, start) >= 0
                && (end.length == 0 || Arrays.compareUnsigned(key, end) < 0);
    }

    /** The overlap of the two ranges, or null if they do not overlap. */
    public KeyRange intersect(KeyRange other) {
        byte[] s = Arrays.compareUnsigned(start, other.start) >= 0 ? start : other.start;
        byte[] e = compareEnds(end, other.end) <= 0 ? end : other.end;
        if (e.length > 0 && Arrays.compareUnsigned(s, e) >= 0) {
            return null;
        }
        return new KeyRange(s, e);
    }

    /** Orders end keys, an empty (unbounded) end above every other. */
    static int compareEnds(byte[] a, byte[] b) {
        if (a.length == 0 || b.length == 0) {
            return Boolean.compare(a.length == 0, b.length == 0);
        }
        return Arrays.compareUnsigned(a, b);
    }

    /** Whether {@code key} lies at or beyond the end key {@code end}. */
    static boolean atOrAfterEnd(byte[] key, byte[] end) {
        return end.length > 0 && Arrays.compareUnsigned(key, end) >= 0;
    }

    /** The ranges sorted by start, with overlapping and adjacent ones joined. */
    static List<KeyRange> normalize(Collection<KeyRange> ranges) {
        List<KeyRange> sorted = new ArrayList<>(ranges);
        sorted.sort(Comparator.comparing(r -> r.start, Arrays::compareUnsigned));
        List<KeyRange> out = new ArrayList<>();
        for (KeyRange r : sorted) {
            KeyRange last = out.isEmpty() ? null : out.get(out.size() - 1);
            boolean joins =
                    last != null
                            && (last.end.length == 0
                                    || Arrays.compareUnsigned(r.start, last.end) <= 0);
            if (joins) {
                byte[] end = compareEnds(last.end, r.end) >= 0 ? last.end : r.end;
                out.set(out.size() - 1, new KeyRange(last.start, end));
            } else {
                out.add(r);
            }
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KeyRange
                && Arrays.equals(start, ((KeyRange) o).start)
                && Arrays.equals(end, ((KeyRange) o).end);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(start) * 31 + Arrays.hashCode(end);
    }

    @Override
    public String toString() {
        return "[" + Keys.hex(start) + ", " + (end.length == 0 ? "+inf" : Keys.hex(end)) + ")";
    }
}
