package io.tiflink.tidb.meta;

import org.tikv.common.Snapshot;
import org.tikv.common.TiSession;
import org.tikv.common.meta.TiTimestamp;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * Reads TiDB's schema from the meta keys at one TSO: a consistent view, as a TiDB at that snapshot
 * would see it. Only public objects are listed.
 */
public final class MetaReader {
    private final Snapshot snapshot;

    public MetaReader(TiSession session, long ts) {
        this.snapshot = new Snapshot(new TiTimestamp(ts >> 18, ts & 0x3FFFF), session);
    }

    /** A reader at a fresh timestamp. */
    public static MetaReader latest(TiSession session) {
        return new MetaReader(session, session.getTimestamp().getVersion());
    }

    public long ts() {
        return snapshot.getVersion();
    }

    private byte[] get(byte[] key) {
        byte[] v = snapshot.get(key);
        return v == null || v.length == 0 ? null : v;
    }

    /** The schema version; 0 before TiDB (or {@link SchemaWriter}) bootstrapped the cluster. */
    public long schemaVersion() {
        byte[] v = get(MetaKeys.string(MetaKeys.SCHEMA_VERSION));
        return v == null ? 0 : Long.parseLong(new String(v, StandardCharsets.US_ASCII));
    }

    /** The last id TiDB's global allocator handed out. */
    public long nextGlobalId() {
        byte[] v = get(MetaKeys.string(MetaKeys.NEXT_GLOBAL_ID));
        return v == null ? 0 : Long.parseLong(new String(v, StandardCharsets.US_ASCII));
    }

    /** The diff that produced {@code version}, or null. */
    public SchemaDiff schemaDiff(long version) {
        byte[] v = get(MetaKeys.string(MetaKeys.diffKey(version)));
        return v == null ? null : MetaJson.read(v, SchemaDiff.class);
    }

    public List<DBInfo> databases() {
        List<DBInfo> dbs = new ArrayList<>();
        for (byte[] v : hashValues(MetaKeys.DBS, "DB:")) {
            DBInfo db = MetaJson.read(v, DBInfo.class);
            if (db.state == SchemaState.PUBLIC) {
                dbs.add(db);
            }
        }
        return dbs;
    }

    /** The database of this name (case-insensitive), or null. */
    public DBInfo database(String name) {
        String l = name.toLowerCase(Locale.ROOT);
        for (DBInfo db : databases()) {
            if (db.name.l.equals(l)) {
                return db;
            }
        }
        return null;
    }

    public List<TableInfo> tables(long dbId) {
        List<TableInfo> tables = new ArrayList<>();
        for (byte[] v : hashValues(MetaKeys.dbKey(dbId), "Table:")) {
            TableInfo t = MetaJson.read(v, TableInfo.class);
            if (t.state == SchemaState.PUBLIC) {
                tables.add(t);
            }
        }
        return tables;
    }

    public TableInfo table(long dbId, long tableId) {
        byte[] v = get(MetaKeys.hashField(MetaKeys.dbKey(dbId), MetaKeys.tableField(tableId)));
        return v == null ? null : MetaJson.read(v, TableInfo.class);
    }

    /** The table of this name in this database (both case-insensitive), or null. */
    public TableInfo table(String database, String table) {
        DBInfo db = database(database);
        if (db == null) {
            return null;
        }
        String l = table.toLowerCase(Locale.ROOT);
        for (TableInfo t : tables(db.id)) {
            if (t.name.l.equals(l)) {
                return t;
            }
        }
        return null;
    }

    private List<byte[]> hashValues(String key, String fieldPrefix) {
        byte[] prefix = MetaKeys.hashPrefix(key);
        List<byte[]> values = new ArrayList<>();
        Iterator<Kvrpcpb.KvPair> it = snapshot.scanPrefix(ByteString.copyFrom(prefix));
        while (it.hasNext()) {
            Kvrpcpb.KvPair kv = it.next();
            String field = MetaKeys.fieldOf(prefix, kv.getKey().toByteArray());
            if (field.startsWith(fieldPrefix) && !kv.getValue().isEmpty()) {
                values.add(kv.getValue().toByteArray());
            }
        }
        return values;
    }
}
