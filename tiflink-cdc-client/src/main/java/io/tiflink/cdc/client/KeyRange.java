package io.tiflink.cdc.client;

import java.util.Arrays;

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
}
