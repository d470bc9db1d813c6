package io.tiflink.tidb.codec;

/** A cursor over a byte array, failing with a clear message when the bytes run out. */
public final class BytesReader {
    private final byte[] buf;
    private final int end;
    private int pos;

    public BytesReader(byte[] buf) {
        this(buf, 0, buf.length);
    }

    public BytesReader(byte[] buf, int off, int end) {
        this.buf = buf;
        this.pos = off;
        this.end = end;
    }

    public byte[] array() {
        return buf;
    }

    public int position() {
        return pos;
    }

    public void position(int p) {
        pos = p;
    }

    public int remaining() {
        return end - pos;
    }

    public boolean hasRemaining() {
        return pos < end;
    }

    public void need(int n) {
        if (end - pos < n) {
            throw new CodecException(
                    "truncated data: need "
                            + n
                            + " bytes at offset "
                            + pos
                            + ", have "
                            + (end - pos));
        }
    }

    public int readUnsignedByte() {
        need(1);
        return buf[pos++] & 0xFF;
    }

    public byte[] read(int n) {
        need(n);
        byte[] out = new byte[n];
        System.arraycopy(buf, pos, out, 0, n);
        pos += n;
        return out;
    }

    public void skip(int n) {
        need(n);
        pos += n;
    }

    public long readLongBE() {
        need(8);
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (buf[pos + i] & 0xFF);
        }
        pos += 8;
        return v;
    }
}
