package io.tiflink.tidb.meta;

import io.tiflink.tidb.types.TimeFormat;
import io.tiflink.tikv.Keys;

import org.tikv.common.BytePairWrapper;
import org.tikv.common.ByteWrapper;
import org.tikv.common.TiSession;
import org.tikv.common.exception.TiBatchWriteException;
import org.tikv.common.util.ConcreteBackOffer;
import org.tikv.txn.TwoPhaseCommitter;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * DDL for clusters without a TiDB (the minicluster): writes the meta keys the way TiDB's DDL leaves
 * them once a job is done. Each statement is one Percolator transaction that allocates ids from
 * {@code NextGlobalID}, stores the schema objects, bumps {@code SchemaVersionKey} and writes the
 * {@link SchemaDiff} of the new version, so TiDB-reading tools (tikv-client-java's Catalog, CDC)
 * see an ordinary schema change. TiDB's intermediate states (delete-only, write-only) are skipped:
 * objects appear public at once.
 */
public final class SchemaWriter {
    private static final int BACKOFF_MS = 20_000;
    private static final int MAX_ATTEMPTS = 10;

    private final TiSession session;

    public SchemaWriter(TiSession session) {
        this.session = session;
    }

    /** One DDL transaction: reads at its start ts, collects writes, then commits them. */
    private final class Txn {
        final MetaReader reader;
        final Map<String, byte[]> keysByHex = new LinkedHashMap<>();
        final Map<String, byte[]> valuesByHex = new LinkedHashMap<>();
        long nextId;
        final long startTs;

        Txn(long startTs) {
            this.startTs = startTs;
            this.reader = new MetaReader(session, startTs);
            this.nextId = reader.nextGlobalId();
        }

        long allocateId() {
            return ++nextId;
        }

        void put(byte[] key, byte[] value) {
            String k = Keys.hex(key);
            keysByHex.put(k, key);
            valuesByHex.put(k, value);
        }

        void delete(byte[] key) {
            put(key, new byte[0]);
        }

        /** Bumps the schema version with this diff and commits. */
        void commit(SchemaDiff diff) {
            long version = reader.schemaVersion() + 1;
            diff.version = version;
            put(MetaKeys.string(MetaKeys.NEXT_GLOBAL_ID), ascii(nextId));
            put(MetaKeys.string(MetaKeys.diffKey(version)), MetaJson.bytes(diff));
            // The schema version key is the primary: concurrent DDLs conflict on it.
            byte[] primary = MetaKeys.string(MetaKeys.SCHEMA_VERSION);
            List<BytePairWrapper> secondaries = new ArrayList<>();
            for (Map.Entry<String, byte[]> e : keysByHex.entrySet()) {
                secondaries.add(new BytePairWrapper(e.getValue(), valuesByHex.get(e.getKey())));
            }
            try (TwoPhaseCommitter c = new TwoPhaseCommitter(session, startTs)) {
                c.prewritePrimaryKey(
                        ConcreteBackOffer.newCustomBackOff(BACKOFF_MS), primary, ascii(version));
                c.prewriteSecondaryKeys(primary, secondaries.iterator(), BACKOFF_MS);
                long commitTs = session.getTimestamp().getVersion();
                c.commitPrimaryKey(
                        ConcreteBackOffer.newCustomBackOff(BACKOFF_MS), primary, commitTs);
                List<ByteWrapper> keys = new ArrayList<>();
                for (BytePairWrapper p : secondaries) {
                    keys.add(new ByteWrapper(p.getKey()));
                }
                c.commitSecondaryKeys(keys.iterator(), commitTs, BACKOFF_MS);
            } catch (TiBatchWriteException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("closing the DDL transaction failed", e);
            }
        }
    }

    private interface Ddl<T> {
        T run(Txn txn);
    }

    /** Runs a DDL, retrying when another DDL committed first (a write conflict). */
    private synchronized <T> T ddl(Ddl<T> ddl) {
        for (int attempt = 1; ; attempt++) {
            Txn txn = new Txn(session.getTimestamp().getVersion());
            try {
                return ddl.run(txn);
            } catch (TiBatchWriteException e) {
                if (attempt >= MAX_ATTEMPTS) {
                    throw new IllegalStateException(
                            "DDL failed after " + attempt + " attempts: " + e.getMessage(), e);
                }
            }
        }
    }

    private static byte[] ascii(long v) {
        return Long.toString(v).getBytes(StandardCharsets.US_ASCII);
    }

    /** The schema version after the last DDL. */
    public long schemaVersion() {
        return MetaReader.latest(session).schemaVersion();
    }

    public DBInfo createDatabase(String name) {
        return createDatabase(name, "utf8mb4", "utf8mb4_bin");
    }

    /**
     * CREATE DATABASE.
     *
     * @throws IllegalArgumentException if a database of that name exists
     */
    public DBInfo createDatabase(String name, String charset, String collate) {
        return ddl(
                txn -> {
                    if (txn.reader.database(name) != null) {
                        throw new IllegalArgumentException(
                                "database '" + name + "' already exists");
                    }
                    DBInfo db = new DBInfo();
                    db.id = txn.allocateId();
                    db.name = CIStr.of(name);
                    db.charset = charset;
                    db.collate = collate;
                    txn.put(
                            MetaKeys.hashField(MetaKeys.DBS, MetaKeys.dbKey(db.id)),
                            MetaJson.bytes(db));
                    SchemaDiff diff = new SchemaDiff();
                    diff.type = SchemaDiff.CREATE_SCHEMA;
                    diff.schemaId = db.id;
                    txn.commit(diff);
                    return db;
                });
    }

    /** DROP DATABASE, with its tables. */
    public void dropDatabase(String name) {
        ddl(
                txn -> {
                    DBInfo db = existingDb(txn, name);
                    for (TableInfo t : txn.reader.tables(db.id)) {
                        txn.delete(
                                MetaKeys.hashField(
                                        MetaKeys.dbKey(db.id), MetaKeys.tableField(t.id)));
                    }
                    txn.delete(MetaKeys.hashField(MetaKeys.DBS, MetaKeys.dbKey(db.id)));
                    SchemaDiff diff = new SchemaDiff();
                    diff.type = SchemaDiff.DROP_SCHEMA;
                    diff.schemaId = db.id;
                    txn.commit(diff);
                    return null;
                });
    }

    /**
     * CREATE TABLE: stores {@code table} with fresh ids for the table and its partitions, and
     * column and index ids where they are 0.
     *
     * @return the stored table
     * @throws IllegalArgumentException if the database is missing or the table exists
     */
    public TableInfo createTable(String database, TableInfo table) {
        return ddl(
                txn -> {
                    DBInfo db = existingDb(txn, database);
                    if (txn.reader.table(database, table.name.o) != null) {
                        throw new IllegalArgumentException(
                                "table '" + database + "." + table.name.o + "' already exists");
                    }
                    TableInfo t = MetaJson.copy(table, TableInfo.class);
                    t.id = txn.allocateId();
                    if (t.partition != null) {
                        for (PartitionInfo.PartitionDefinition d : t.partition.definitions) {
                            d.id = txn.allocateId();
                        }
                        t.partition.num = t.partition.definitions.size();
                    }
                    assignIds(t);
                    t.state = SchemaState.PUBLIC;
                    t.updateTimestamp = txn.startTs;
                    txn.put(
                            MetaKeys.hashField(MetaKeys.dbKey(db.id), MetaKeys.tableField(t.id)),
                            MetaJson.bytes(t));
                    SchemaDiff diff = new SchemaDiff();
                    diff.type = SchemaDiff.CREATE_TABLE;
                    diff.schemaId = db.id;
                    diff.tableId = t.id;
                    txn.commit(diff);
                    return t;
                });
    }

    private static void assignIds(TableInfo t) {
        for (int i = 0; i < t.columns.size(); i++) {
            ColumnInfo c = t.columns.get(i);
            c.offset = i;
            if (c.id == 0) {
                c.id = ++t.maxColumnId;
            }
            t.maxColumnId = Math.max(t.maxColumnId, c.id);
        }
        for (IndexInfo idx : t.indices) {
            if (idx.id == 0) {
                idx.id = ++t.maxIndexId;
            }
            t.maxIndexId = Math.max(t.maxIndexId, idx.id);
            for (IndexInfo.IndexColumn ic : idx.columns) {
                ColumnInfo c = t.column(ic.name.o);
                if (c == null) {
                    throw new IllegalArgumentException(
                            "index '"
                                    + idx.name.o
                                    + "' of table '"
                                    + t.name.o
                                    + "' names column '"
                                    + ic.name.o
                                    + "', which the table does not have");
                }
                ic.offset = c.offset;
            }
        }
    }

    /** DROP TABLE. */
    public void dropTable(String database, String table) {
        ddl(
                txn -> {
                    DBInfo db = existingDb(txn, database);
                    TableInfo t = existingTable(txn, database, table);
                    txn.delete(
                            MetaKeys.hashField(MetaKeys.dbKey(db.id), MetaKeys.tableField(t.id)));
                    SchemaDiff diff = new SchemaDiff();
                    diff.type = SchemaDiff.DROP_TABLE;
                    diff.schemaId = db.id;
                    diff.tableId = t.id;
                    txn.commit(diff);
                    return null;
                });
    }

    /**
     * ALTER TABLE ADD COLUMN (at the end): rows written before read the column's {@code
     * origin_default}, which is set to its default.
     */
    public TableInfo addColumn(String database, String table, ColumnInfo column) {
        return ddl(
                txn -> {
                    DBInfo db = existingDb(txn, database);
                    TableInfo t = existingTable(txn, database, table);
                    if (t.column(column.name.o) != null) {
                        throw new IllegalArgumentException(
                                "table '"
                                        + database
                                        + "."
                                        + table
                                        + "' already has column '"
                                        + column.name.o
                                        + "'");
                    }
                    ColumnInfo c = MetaJson.copy(column, ColumnInfo.class);
                    c.id = ++t.maxColumnId;
                    c.offset = t.columns.size();
                    c.state = SchemaState.PUBLIC;
                    // Old rows read the default as of this DDL, as TiDB evaluates it once.
                    c.originDefault =
                            "CURRENT_TIMESTAMP".equals(c.defaultValue)
                                    ? TimeFormat.datetime(
                                            LocalDateTime.ofInstant(
                                                    Instant.ofEpochMilli(txn.startTs >> 18),
                                                    ZoneOffset.UTC),
                                            Math.max(c.type.decimal, 0))
                                    : c.defaultValue;
                    c.originDefaultBit = c.defaultBit;
                    t.columns.add(c);
                    return alter(txn, db, t, SchemaDiff.ADD_COLUMN);
                });
    }

    /** ALTER TABLE DROP COLUMN; a column in an index cannot be dropped. */
    public TableInfo dropColumn(String database, String table, String column) {
        return ddl(
                txn -> {
                    DBInfo db = existingDb(txn, database);
                    TableInfo t = existingTable(txn, database, table);
                    ColumnInfo c = t.column(column);
                    if (c == null) {
                        throw new IllegalArgumentException(
                                "table '"
                                        + database
                                        + "."
                                        + table
                                        + "' has no column '"
                                        + column
                                        + "'");
                    }
                    for (IndexInfo idx : t.indices) {
                        for (IndexInfo.IndexColumn ic : idx.columns) {
                            if (ic.offset == c.offset) {
                                throw new IllegalArgumentException(
                                        "column '" + column + "' is in index '" + idx.name.o + "'");
                            }
                        }
                    }
                    t.columns.remove(c.offset);
                    for (int i = 0; i < t.columns.size(); i++) {
                        t.columns.get(i).offset = i;
                    }
                    for (IndexInfo idx : t.indices) {
                        for (IndexInfo.IndexColumn ic : idx.columns) {
                            ic.offset = t.column(ic.name.o).offset;
                        }
                    }
                    return alter(txn, db, t, SchemaDiff.DROP_COLUMN);
                });
    }

    private TableInfo alter(Txn txn, DBInfo db, TableInfo t, int action) {
        t.updateTimestamp = txn.startTs;
        txn.put(
                MetaKeys.hashField(MetaKeys.dbKey(db.id), MetaKeys.tableField(t.id)),
                MetaJson.bytes(t));
        SchemaDiff diff = new SchemaDiff();
        diff.type = action;
        diff.schemaId = db.id;
        diff.tableId = t.id;
        txn.commit(diff);
        return t;
    }

    private static DBInfo existingDb(Txn txn, String name) {
        DBInfo db = txn.reader.database(name);
        if (db == null) {
            throw new IllegalArgumentException("database '" + name + "' does not exist");
        }
        return db;
    }

    private static TableInfo existingTable(Txn txn, String database, String table) {
        TableInfo t = txn.reader.table(database, table);
        if (t == null) {
            throw new IllegalArgumentException(
                    "table '"
                            + database
                            + "."
                            + table.toLowerCase(Locale.ROOT)
                            + "' does not exist");
        }
        return t;
    }
}
