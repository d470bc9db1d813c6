package io.tiflink.tidb.codec;

import java.util.Arrays;

/** A growable byte buffer for building keys and values without intermediate arrays. */
public final class BytesWriter {
    private byte[] buf;
    private int len;

    public BytesWriter() {
        this(64);
    }

    public BytesWriter(int capacity) {
        buf = new byte[Math.max(capacity, 16)];
    }

    private void ensure(int extra) {
        if (len + extra > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + extra));
        }
    }

    public int length() {
        return len;
    }

    /** Drops everything after the first {@code length} bytes. */
    public void truncate(int length) {
        len = length;
    }

    public BytesWriter write(int b) {
        ensure(1);
        buf[len++] = (byte) b;
        return this;
    }

    public BytesWriter write(byte[] b) {
        return write(b, 0, b.length);
    }

    public BytesWriter write(byte[] b, int off, int n) {
        ensure(n);
        System.arraycopy(b, off, buf, len, n);
        len += n;
        return this;
    }

    public BytesWriter writeZeros(int n) {
        ensure(n);
        Arrays.fill(buf, len, len + n, (byte) 0);
        len += n;
        return this;
    }

    public BytesWriter writeLongBE(long v) {
        ensure(8);
        for (int i = 7; i >= 0; i--) {
            buf[len + i] = (byte) v;
            v >>>= 8;
        }
        len += 8;
        return this;
    }

    /** Writes the low {@code n} bytes of {@code v}, little endian. */
    public BytesWriter writeLE(long v, int n) {
        ensure(n);
        for (int i = 0; i < n; i++) {
            buf[len++] = (byte) v;
            v >>>= 8;
        }
        return this;
    }

    /** Overwrites {@code n} little-endian bytes at {@code pos}. */
    public void putLE(int pos, long v, int n) {
        for (int i = 0; i < n; i++) {
            buf[pos + i] = (byte) v;
            v >>>= 8;
        }
    }

    public int get(int pos) {
        return buf[pos] & 0xFF;
    }

    public void put(int pos, int b) {
        buf[pos] = (byte) b;
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(buf, len);
    }
}
