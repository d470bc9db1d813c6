package io.tiflink.tidb.table;

import io.tiflink.tikv.Keys;

/** A key and its value as TiKV stores them (raw, not memcomparable-wrapped). */
public final class KeyValue {
    private final byte[] key;
    private final byte[] value;

    public KeyValue(byte[] key, byte[] value) {
        this.key = key;
        this.value = value;
    }

    public byte[] key() {
        return key;
    }

    public byte[] value() {
        return value;
    }

    @Override
    public String toString() {
        return Keys.hex(key) + " => " + Keys.hex(value);
    }
}
