package io.tiflink.tidb.table;

import io.tiflink.tidb.codec.BytesWriter;
import io.tiflink.tidb.codec.CodecException;

/**
 * Row format v2 ({@code pkg/util/rowcodec}): {@code 0x80 | flags | notNullCount u16 | nullCount u16
 * | column ids (not-null ascending, then null ascending; u8, or u32 if large) | end offsets of the
 * not-null values (u16, or u32 if large) | values}, little endian. "Large" (flag bit 0) when a
 * column id exceeds 255 or the values exceed 65535 bytes. Flag bit 1 marks a checksum after the
 * values, which readers ignore.
 */
final class RowV2 {
    static final int CODEC_VER = 128;
    static final int FLAG_LARGE = 1;

    final boolean large;
    final int notNull;
    final int nulls;
    private final byte[] b;
    private final int idsOff;
    private final int offsetsOff;
    private final int dataOff;

    /** Parses the header of a row format v2 value. */
    RowV2(byte[] b) {
        if (b.length < 6 || (b[0] & 0xFF) != CODEC_VER) {
            throw new CodecException("not a row format v2 value");
        }
        this.b = b;
        this.large = (b[1] & FLAG_LARGE) != 0;
        this.notNull = (b[2] & 0xFF) | (b[3] & 0xFF) << 8;
        this.nulls = (b[4] & 0xFF) | (b[5] & 0xFF) << 8;
        this.idsOff = 6;
        int idSize = large ? 4 : 1;
        this.offsetsOff = idsOff + idSize * (notNull + nulls);
        this.dataOff = offsetsOff + (large ? 4 : 2) * notNull;
        if (dataOff > b.length || (notNull > 0 && dataOff + end(notNull - 1) > b.length)) {
            throw new CodecException("truncated row format v2 value");
        }
    }

    long id(int i) {
        if (large) {
            int p = idsOff + 4 * i;
            return (b[p] & 0xFFL)
                    | (b[p + 1] & 0xFFL) << 8
                    | (b[p + 2] & 0xFFL) << 16
                    | (b[p + 3] & 0xFFL) << 24;
        }
        return b[idsOff + i] & 0xFF;
    }

    private int end(int i) {
        if (large) {
            int p = offsetsOff + 4 * i;
            return (b[p] & 0xFF)
                    | (b[p + 1] & 0xFF) << 8
                    | (b[p + 2] & 0xFF) << 16
                    | (b[p + 3] & 0xFF) << 24;
        }
        int p = offsetsOff + 2 * i;
        return (b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8;
    }

    int valueStart(int i) {
        return dataOff + (i == 0 ? 0 : end(i - 1));
    }

    int valueLength(int i) {
        return end(i) - (i == 0 ? 0 : end(i - 1));
    }

    byte[] bytes() {
        return b;
    }

    /** Index of {@code id} among the not-null columns, or -1. */
    int findNotNull(long id) {
        return search(0, notNull, id);
    }

    boolean isNull(long id) {
        return search(notNull, notNull + nulls, id) >= 0;
    }

    private int search(int lo, int hi, long id) {
        hi--;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            long v = id(mid);
            if (v < id) {
                lo = mid + 1;
            } else if (v > id) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    /**
     * Assembles a row from column ids in ascending order and their payloads (null for SQL NULL). An
     * empty row is {@code 80 00 0000 0000}, never empty bytes (an empty value is a delete).
     */
    static void write(BytesWriter out, long[] ids, byte[][] payloads) {
        int notNull = 0;
        int dataLen = 0;
        boolean large = false;
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] > 255) {
                large = true;
            }
            if (payloads[i] != null) {
                notNull++;
                dataLen += payloads[i].length;
            }
        }
        if (dataLen > 0xFFFF) {
            large = true;
        }
        int nulls = ids.length - notNull;
        out.write(CODEC_VER).write(large ? FLAG_LARGE : 0);
        out.writeLE(notNull, 2).writeLE(nulls, 2);
        int idSize = large ? 4 : 1;
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < ids.length; i++) {
                if ((payloads[i] != null) == (pass == 0)) {
                    out.writeLE(ids[i], idSize);
                }
            }
        }
        int end = 0;
        for (int i = 0; i < ids.length; i++) {
            if (payloads[i] != null) {
                end += payloads[i].length;
                out.writeLE(end, large ? 4 : 2);
            }
        }
        for (byte[] p : payloads) {
            if (p != null) {
                out.write(p);
            }
        }
    }
}
