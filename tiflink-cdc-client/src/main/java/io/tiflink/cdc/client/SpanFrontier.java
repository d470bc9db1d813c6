package io.tiflink.cdc.client;

import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The resolved ts of every part of a subscription's key ranges. A part's ts only moves forward, and
 * the minimum over all parts is the subscription's resolved ts: every change at or below it,
 * anywhere in the ranges, has been received.
 */
final class SpanFrontier {
    private static final class Part {
        byte[] end;
        long ts;

        Part(byte[] end, long ts) {
            this.end = end;
            this.ts = ts;
        }
    }

    /** Disjoint parts by start key. */
    private final TreeMap<byte[], Part> parts = new TreeMap<>(Arrays::compareUnsigned);

    /** How many parts have each ts, for the minimum. */
    private final TreeMap<Long, Integer> tsCounts = new TreeMap<>();

    /** A frontier at {@code ts} over normalized (sorted, disjoint) ranges. */
    SpanFrontier(List<KeyRange> ranges, long ts) {
        for (KeyRange r : ranges) {
            add(r.start(), new Part(r.end(), ts));
        }
    }

    /** The minimum ts over all parts. */
    long min() {
        return tsCounts.firstKey();
    }

    /** The ts of the part holding {@code key}; {@code Long.MAX_VALUE} outside the ranges. */
    long tsAt(byte[] key) {
        Map.Entry<byte[], Part> e = parts.floorEntry(key);
        if (e == null || KeyRange.atOrAfterEnd(key, e.getValue().end)) {
            return Long.MAX_VALUE;
        }
        return e.getValue().ts;
    }

    /** The minimum ts over {@code piece}, which lies within one of the ranges. */
    long min(KeyRange piece) {
        long min = Long.MAX_VALUE;
        for (Part p : overlapping(piece).values()) {
            min = Math.min(min, p.ts);
        }
        return min;
    }

    /** Raises every part of {@code piece} (within one of the ranges) to at least {@code ts}. */
    void advance(KeyRange piece, long ts) {
        splitAt(piece.start());
        if (piece.end().length > 0) {
            splitAt(piece.end());
        }
        for (Part p : overlapping(piece).values()) {
            if (p.ts < ts) {
                decrement(p.ts);
                p.ts = ts;
                increment(ts);
            }
        }
        // Join with the neighbours on both sides too, so parts do not pile up.
        byte[] before = parts.lowerKey(piece.start());
        byte[] from = before != null ? before : piece.start();
        coalesce(
                piece.end().length == 0
                        ? parts.tailMap(from, true)
                        : parts.subMap(from, true, piece.end(), true));
    }

    int size() {
        return parts.size();
    }

    private NavigableMap<byte[], Part> overlapping(KeyRange piece) {
        byte[] from = parts.floorKey(piece.start());
        if (from == null || KeyRange.atOrAfterEnd(piece.start(), parts.get(from).end)) {
            from = piece.start();
        }
        return piece.end().length == 0
                ? parts.tailMap(from, true)
                : parts.subMap(from, true, piece.end(), false);
    }

    private void splitAt(byte[] key) {
        Map.Entry<byte[], Part> e = parts.floorEntry(key);
        if (e == null || Arrays.equals(e.getKey(), key)) {
            return;
        }
        Part p = e.getValue();
        if (KeyRange.atOrAfterEnd(key, p.end)) {
            return;
        }
        add(key, new Part(p.end, p.ts));
        p.end = key;
    }

    /** Joins neighbouring parts of {@code view} that touch and have the same ts. */
    private void coalesce(NavigableMap<byte[], Part> view) {
        Iterator<Map.Entry<byte[], Part>> it = view.entrySet().iterator();
        Part previous = null;
        while (it.hasNext()) {
            Map.Entry<byte[], Part> e = it.next();
            Part p = e.getValue();
            if (previous != null
                    && previous.ts == p.ts
                    && Arrays.equals(previous.end, e.getKey())) {
                previous.end = p.end;
                decrement(p.ts);
                it.remove();
            } else {
                previous = p;
            }
        }
    }

    private void add(byte[] start, Part p) {
        parts.put(start, p);
        increment(p.ts);
    }

    private void increment(long ts) {
        tsCounts.merge(ts, 1, Integer::sum);
    }

    private void decrement(long ts) {
        tsCounts.computeIfPresent(ts, (t, n) -> n == 1 ? null : n - 1);
    }
}
