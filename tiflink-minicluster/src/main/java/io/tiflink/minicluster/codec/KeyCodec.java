package io.tiflink.minicluster.codec;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Comparator;

/**
 * Byte-key helpers: unsigned order, and the memcomparable bytes encoding that TiKV and PD use for
 * region boundaries in API V1 (8-byte groups, each followed by a marker {@code 0xFF - padding}).
 */
public final class KeyCodec {
    public static final Comparator<byte[]> ORDER = Arrays::compareUnsigned;

    private static final int GROUP_SIZE = 8;
    private static final int MARKER = 0xFF;
    private static final byte PAD = 0;

    private KeyCodec() {}

    public static int compare(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, b);
    }

    /** Whether {@code key} lies in {@code [start, end)}, where an empty end means unbounded. */
    public static boolean inRange(byte[] key, byte[] start, byte[] end) {
        return compare(key, start) >= 0 && (end.length == 0 || compare(key, end) < 0);
    }

    public static byte[] encodeBytes(byte[] raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream((raw.length / GROUP_SIZE + 1) * 9);
        for (int i = 0; i <= raw.length; i += GROUP_SIZE) {
            int remain = raw.length - i;
            int padCount = 0;
            if (remain >= GROUP_SIZE) {
                out.write(raw, i, GROUP_SIZE);
            } else {
                padCount = GROUP_SIZE - remain;
                out.write(raw, i, remain);
                for (int p = 0; p < padCount; p++) {
                    out.write(PAD);
                }
            }
            out.write((byte) (MARKER - padCount));
        }
        return out.toByteArray();
    }

    /** Encodes a raw region boundary: the empty key stays empty (unbounded). */
    public static byte[] encodeBoundary(byte[] raw) {
        return raw.length == 0 ? raw : encodeBytes(raw);
    }

    /**
     * Decodes a memcomparable-encoded key.
     *
     * @throws IllegalArgumentException if {@code encoded} is not a complete, valid encoding
     */
    public static byte[] decodeBytes(byte[] encoded) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(encoded.length);
        int i = 0;
        while (true) {
            if (i + GROUP_SIZE + 1 > encoded.length) {
                throw new IllegalArgumentException("insufficient bytes to decode key");
            }
            int marker = encoded[i + GROUP_SIZE] & 0xFF;
            int padCount = MARKER - marker;
            if (padCount > GROUP_SIZE) {
                throw new IllegalArgumentException("invalid marker byte " + marker);
            }
            int realLen = GROUP_SIZE - padCount;
            out.write(encoded, i, realLen);
            for (int p = realLen; p < GROUP_SIZE; p++) {
                if (encoded[i + p] != PAD) {
                    throw new IllegalArgumentException("invalid padding byte");
                }
            }
            i += GROUP_SIZE + 1;
            if (padCount != 0) {
                if (i != encoded.length) {
                    throw new IllegalArgumentException("trailing bytes after encoded key");
                }
                return out.toByteArray();
            }
        }
    }

    /** The smallest key greater than every key that has {@code key} as a prefix. */
    public static byte[] prefixNext(byte[] key) {
        byte[] next = Arrays.copyOf(key, key.length);
        for (int i = next.length - 1; i >= 0; i--) {
            if (next[i] != (byte) 0xFF) {
                next[i]++;
                return Arrays.copyOf(next, i + 1);
            }
        }
        // All 0xFF: append a zero byte to get the immediate successor.
        return Arrays.copyOf(key, key.length + 1);
    }

    /** The immediate successor of {@code key} in byte order. */
    public static byte[] next(byte[] key) {
        return Arrays.copyOf(key, key.length + 1);
    }

    public static String toHex(byte[] key) {
        StringBuilder sb = new StringBuilder(key.length * 2);
        for (byte b : key) {
            sb.append(Character.forDigit((b >> 4) & 0xF, 16))
                    .append(Character.forDigit(b & 0xF, 16));
        }
        return sb.toString();
    }
}
