package io.tiflink.tidb.meta;

import io.tiflink.tidb.codec.BytesReader;
import io.tiflink.tidb.codec.BytesWriter;
import io.tiflink.tidb.codec.Codec;

import java.nio.charset.StandardCharsets;

/**
 * TiDB's meta keys ({@code pkg/meta/meta.go} over {@code pkg/structure}): strings are {@code m +
 * EncodeBytes(key) + u64('s')}, hash fields {@code m + EncodeBytes(key) + u64('h') +
 * EncodeBytes(field)}.
 */
public final class MetaKeys {
    public static final String SCHEMA_VERSION = "SchemaVersionKey";
    public static final String NEXT_GLOBAL_ID = "NextGlobalID";
    public static final String DBS = "DBs";

    private static final long STRING_TYPE = 's';
    private static final long HASH_TYPE = 'h';

    private MetaKeys() {}

    public static byte[] string(String key) {
        BytesWriter out = new BytesWriter(32);
        out.write('m');
        Codec.writeBytes(out, Codec.utf8(key));
        Codec.writeComparableUint(out, STRING_TYPE);
        return out.toByteArray();
    }

    /** The prefix of every field of a hash. */
    public static byte[] hashPrefix(String key) {
        BytesWriter out = new BytesWriter(32);
        out.write('m');
        Codec.writeBytes(out, Codec.utf8(key));
        Codec.writeComparableUint(out, HASH_TYPE);
        return out.toByteArray();
    }

    public static byte[] hashField(String key, String field) {
        BytesWriter out = new BytesWriter(48);
        out.write(hashPrefix(key));
        Codec.writeBytes(out, Codec.utf8(field));
        return out.toByteArray();
    }

    /** The field name of a hash field key with this prefix. */
    public static String fieldOf(byte[] prefix, byte[] key) {
        return new String(
                Codec.readBytes(new BytesReader(key, prefix.length, key.length)),
                StandardCharsets.UTF_8);
    }

    public static String dbKey(long dbId) {
        return "DB:" + dbId;
    }

    public static String tableField(long tableId) {
        return "Table:" + tableId;
    }

    public static String diffKey(long version) {
        return "Diff:" + version;
    }
}
