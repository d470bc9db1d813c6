package io.tiflink.tikv;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** TiKV keys (raw bytes, ordered as unsigned bytes) in messages and ranges. */
public final class Keys {
    private Keys() {}

    /** Lower-case hex, as TiKV and TiDB print keys. */
    public static String hex(byte[] key) {
        StringBuilder sb = new StringBuilder(key.length * 2);
        for (byte b : key) {
            sb.append(Character.forDigit((b >> 4) & 0xF, 16))
                    .append(Character.forDigit(b & 0xF, 16));
        }
        return sb.toString();
    }

    /** A key for messages: printable ASCII as is (TiFlink's own keys), else hex. */
    public static String printable(byte[] key) {
        for (byte b : key) {
            if (b < 0x20 || b > 0x7e) {
                return hex(key);
            }
        }
        return new String(key, StandardCharsets.US_ASCII);
    }

    /** The first key after {@code key}. */
    public static byte[] next(byte[] key) {
        return Arrays.copyOf(key, key.length + 1);
    }

    /** The first key after every key starting with {@code prefix}; empty if there is none. */
    public static byte[] prefixEnd(byte[] prefix) {
        byte[] end = prefix.clone();
        for (int i = end.length - 1; i >= 0; i--) {
            if (end[i] != (byte) 0xFF) {
                end[i]++;
                return Arrays.copyOf(end, i + 1);
            }
        }
        return new byte[0];
    }
}
