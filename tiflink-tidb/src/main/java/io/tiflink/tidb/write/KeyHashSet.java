package io.tiflink.tidb.write;

import java.util.Arrays;

/**
 * The keys a subtask prewrote in the open transaction, as 64-bit hashes (8 to 16 bytes a key). A
 * collision only makes a change wait for the next transaction, which is harmless.
 */
final class KeyHashSet {
    private static final long EMPTY = 0;

    private long[] slots = new long[1024];
    private int size;

    static long hash(byte[] key) {
        long h = 0xcbf29ce484222325L; // FNV-1a, then a final mix (murmur3's fmix64)
        for (byte b : key) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h == EMPTY ? 1 : h;
    }

    boolean contains(byte[] key) {
        long h = hash(key);
        int mask = slots.length - 1;
        for (int i = (int) h & mask; slots[i] != EMPTY; i = (i + 1) & mask) {
            if (slots[i] == h) {
                return true;
            }
        }
        return false;
    }

    void add(byte[] key) {
        if ((size + 1) * 2 > slots.length) {
            grow();
        }
        if (insert(slots, hash(key))) {
            size++;
        }
    }

    private static boolean insert(long[] table, long h) {
        int mask = table.length - 1;
        int i = (int) h & mask;
        while (table[i] != EMPTY) {
            if (table[i] == h) {
                return false;
            }
            i = (i + 1) & mask;
        }
        table[i] = h;
        return true;
    }

    private void grow() {
        long[] bigger = new long[slots.length * 2];
        for (long h : slots) {
            if (h != EMPTY) {
                insert(bigger, h);
            }
        }
        slots = bigger;
    }

    void clear() {
        if (slots.length > 1024) {
            slots = new long[1024];
        } else {
            Arrays.fill(slots, EMPTY);
        }
        size = 0;
    }
}
