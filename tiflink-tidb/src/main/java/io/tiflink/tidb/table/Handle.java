package io.tiflink.tidb.table;

import io.tiflink.tikv.Keys;

import java.util.Arrays;

/**
 * A row's handle: an integer (an integer primary key or {@code _tidb_rowid}) or a common handle
 * (the key-encoded datums of a clustered primary key).
 */
public final class Handle {
    private final long intValue;
    private final byte[] encoded;

    private Handle(long intValue, byte[] encoded) {
        this.intValue = intValue;
        this.encoded = encoded;
    }

    public static Handle ofInt(long v) {
        return new Handle(v, null);
    }

    public static Handle ofCommon(byte[] encodedDatums) {
        return new Handle(0, encodedDatums.clone());
    }

    public boolean isInt() {
        return encoded == null;
    }

    public long intValue() {
        if (encoded != null) {
            throw new IllegalStateException("a common handle has no integer value");
        }
        return intValue;
    }

    /** The key-encoded primary key datums of a common handle. */
    public byte[] encoded() {
        if (encoded == null) {
            throw new IllegalStateException("an integer handle has no encoded datums");
        }
        return encoded.clone();
    }

    byte[] encodedUnsafe() {
        return encoded;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Handle)) {
            return false;
        }
        Handle h = (Handle) o;
        return intValue == h.intValue && Arrays.equals(encoded, h.encoded);
    }

    @Override
    public int hashCode() {
        return encoded == null ? Long.hashCode(intValue) : Arrays.hashCode(encoded);
    }

    @Override
    public String toString() {
        return encoded == null ? Long.toString(intValue) : "common:" + Keys.hex(encoded);
    }
}
