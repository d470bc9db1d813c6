package io.tiflink.tidb.codec;

import java.nio.charset.StandardCharsets;

/**
 * TiDB's primitive encodings ({@code pkg/util/codec}): memcomparable integers, floats and bytes
 * used in keys, and the varints and compact bytes used in values.
 */
public final class Codec {
    private static final long SIGN_MASK = 0x8000000000000000L;
    private static final int GROUP_SIZE = 8;
    private static final int MARKER = 0xFF;

    private Codec() {}

    /** 8 bytes big endian with the sign bit flipped, so signed order is byte order. */
    public static void writeComparableInt(BytesWriter out, long v) {
        out.writeLongBE(v ^ SIGN_MASK);
    }

    public static long readComparableInt(BytesReader in) {
        return in.readLongBE() ^ SIGN_MASK;
    }

    public static void writeComparableUint(BytesWriter out, long v) {
        out.writeLongBE(v);
    }

    public static long readComparableUint(BytesReader in) {
        return in.readLongBE();
    }

    /** Sign-flipped IEEE bits: non-negative numbers get the sign bit set, negative ones invert. */
    public static void writeComparableFloat(BytesWriter out, double f) {
        long u = Double.doubleToRawLongBits(f);
        u = f >= 0 ? u | SIGN_MASK : ~u;
        out.writeLongBE(u);
    }

    public static double readComparableFloat(BytesReader in) {
        long u = in.readLongBE();
        u = (u & SIGN_MASK) != 0 ? u & ~SIGN_MASK : ~u;
        return Double.longBitsToDouble(u);
    }

    /** Memcomparable bytes: 8-byte groups, each followed by {@code 0xFF - padding}. */
    public static void writeBytes(BytesWriter out, byte[] raw) {
        for (int i = 0; i <= raw.length; i += GROUP_SIZE) {
            int remain = raw.length - i;
            if (remain >= GROUP_SIZE) {
                out.write(raw, i, GROUP_SIZE);
                out.write(MARKER);
            } else {
                int pad = GROUP_SIZE - remain;
                out.write(raw, i, remain);
                out.writeZeros(pad);
                out.write(MARKER - pad);
            }
        }
    }

    public static byte[] readBytes(BytesReader in) {
        BytesWriter out = new BytesWriter(32);
        byte[] buf = in.array();
        while (true) {
            in.need(GROUP_SIZE + 1);
            int p = in.position();
            int marker = buf[p + GROUP_SIZE] & 0xFF;
            int pad = MARKER - marker;
            if (pad > GROUP_SIZE) {
                throw new CodecException("invalid memcomparable marker " + marker + " at " + p);
            }
            int real = GROUP_SIZE - pad;
            out.write(buf, p, real);
            for (int i = real; i < GROUP_SIZE; i++) {
                if (buf[p + i] != 0) {
                    throw new CodecException("invalid memcomparable padding at " + (p + i));
                }
            }
            in.position(p + GROUP_SIZE + 1);
            if (pad != 0) {
                return out.toByteArray();
            }
        }
    }

    /** Go's {@code binary.PutUvarint}: 7 bits a byte, least significant first. */
    public static void writeUvarint(BytesWriter out, long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    public static long readUvarint(BytesReader in) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            int b = in.readUnsignedByte();
            v |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        throw new CodecException("varint overflows 64 bits at " + in.position());
    }

    /** Go's {@code binary.PutVarint}: zig-zag, then uvarint. */
    public static void writeVarint(BytesWriter out, long v) {
        writeUvarint(out, (v << 1) ^ (v >> 63));
    }

    public static long readVarint(BytesReader in) {
        long u = readUvarint(in);
        return (u >>> 1) ^ -(u & 1);
    }

    /** Varint length, then the bytes. */
    public static void writeCompactBytes(BytesWriter out, byte[] b) {
        writeVarint(out, b.length);
        out.write(b);
    }

    public static byte[] readCompactBytes(BytesReader in) {
        long n = readVarint(in);
        if (n < 0 || n > in.remaining()) {
            throw new CodecException("invalid compact bytes length " + n + " at " + in.position());
        }
        return in.read((int) n);
    }

    public static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] unhex(String s) {
        String h = s.replaceAll("\\s", "");
        byte[] out = new byte[h.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }
}
