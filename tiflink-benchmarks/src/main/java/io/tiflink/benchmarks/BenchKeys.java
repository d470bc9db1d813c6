package io.tiflink.benchmarks;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Keys of the CDC benchmarks: {@code <prefix><slot>/<seq, 10 digits>}, where the slot is {@code seq
 * % regions}. Split at {@link #splitKeys} the prefix's key space is exactly {@code regions}
 * regions, and every multi-key transaction of consecutive sequence numbers touches all of them.
 */
final class BenchKeys {
    static final int MAX_REGIONS = 10;
    private static final int DIGITS = 10;

    private BenchKeys() {}

    /** The key of sequence number {@code seq}. */
    static byte[] key(byte[] prefix, int regions, long seq) {
        byte[] key = new byte[prefix.length + 2 + DIGITS];
        System.arraycopy(prefix, 0, key, 0, prefix.length);
        key[prefix.length] = (byte) ('0' + (int) (seq % regions));
        key[prefix.length + 1] = '/';
        long v = seq;
        for (int i = key.length - 1; i >= prefix.length + 2; i--) {
            key[i] = (byte) ('0' + (int) (v % 10));
            v /= 10;
        }
        return key;
    }

    /** The sequence number a key was made from. */
    static long seq(byte[] key) {
        long v = 0;
        for (int i = key.length - DIGITS; i < key.length; i++) {
            v = v * 10 + (key[i] - '0');
        }
        return v;
    }

    /** The keys to split at so that {@code [prefix, end(prefix))} is {@code regions} regions. */
    static byte[][] splitKeys(byte[] prefix, int regions) {
        if (regions < 1 || regions > MAX_REGIONS) {
            throw new IllegalArgumentException("regions must be 1.." + MAX_REGIONS);
        }
        List<byte[]> keys = new ArrayList<>();
        keys.add(prefix);
        for (int slot = 1; slot < regions; slot++) {
            byte[] k = Arrays.copyOf(prefix, prefix.length + 1);
            k[prefix.length] = (byte) ('0' + slot);
            keys.add(k);
        }
        keys.add(end(prefix));
        return keys.toArray(new byte[0][]);
    }

    /** The first key after every key starting with {@code prefix} (which ends below 0xFF). */
    static byte[] end(byte[] prefix) {
        byte[] end = prefix.clone();
        end[end.length - 1]++;
        return end;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
