package io.tiflink.tidb.meta;

import io.tiflink.tidb.table.TableCodec;
import io.tiflink.tidb.types.MysqlType;
import io.tiflink.tidb.types.TimeFormat;
import io.tiflink.tikv.Keys;
import io.tiflink.tikv.txn.TxnClient;

import org.tikv.common.BytePairWrapper;
import org.tikv.common.ByteWrapper;
import org.tikv.common.TiSession;
import org.tikv.common.exception.TiBatchWriteException;
import org.tikv.common.util.ConcreteBackOffer;
import org.tikv.txn.TwoPhaseCommitter;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * DDL for clusters without a TiDB (the minicluster): writes the meta keys the way TiDB's DDL leaves
 * them. Each schema change is one Percolator transaction that allocates ids from {@code
 * NextGlobalID}, stores the schema objects, bumps {@code SchemaVersionKey} and writes the {@link
 * SchemaDiff} of the new version, so TiDB-reading tools (tikv-client-java's Catalog, CDC) see an
 * ordinary schema change. Databases, tables and columns skip TiDB's intermediate states (they
 * appear public at once); indexes go through them, one schema version per state, with the backfill
 * of ADD INDEX ({@link #startAddIndex}, {@link #startDropIndex}). CREATE TABLE splits a region for
 * the new table (each partition) as TiDB's {@code split-table} does.
 */
public final class SchemaWriter {
    private static final Logger LOG = LoggerFactory.getLogger(SchemaWriter.class);
    private static final int BACKOFF_MS = 20_000;
    private static final int MAX_ATTEMPTS = 10;

    /** TiDB's default {@code tidb_ddl_reorg_batch_size}. */
    public static final int DEFAULT_BACKFILL_BATCH_ROWS = 256;

    private final TiSession session;
    private final TxnClient txnClient;
    private final IndexReorg reorg;

    public SchemaWriter(TiSession session) {
        this(session, DEFAULT_BACKFILL_BATCH_ROWS);
    }

    /**
     * @param backfillBatchRows how many rows (or index entries, when an index is dropped) one
     *     transaction of an index's reorganization reads at most
     */
    public SchemaWriter(TiSession session, int backfillBatchRows) {
        if (backfillBatchRows < 1) {
            throw new IllegalArgumentException(
                    "backfillBatchRows must be positive, not " + backfillBatchRows);
        }
        this.session = session;
        this.txnClient = new TxnClient(session);
        this.reorg = new IndexReorg(session, backfillBatchRows);
    }

    /** One DDL transaction: reads at its start ts, collects writes, then commits them. */
    private final class Txn {
        final MetaReader reader;
        final Map<String, byte[]> keysByHex = new LinkedHashMap<>();
        final Map<String, byte[]> valuesByHex = new LinkedHashMap<>();
        long nextId;
        final long startTs;

        /** The schema version this transaction wrote, once committed. */
        long version;

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
            version = reader.schemaVersion() + 1;
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
                // As TiDB: a commit a reader refused (it pushed min_commit_ts past the commit ts)
                // is retried with a fresh ts, which tikv-client-java's committer does not do.
                long commitTs = txnClient.commitPrimary(primary, startTs);
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
                    DBInfo db = existingDb(txn.reader, name);
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
        TableInfo created =
                ddl(
                        txn -> {
                            DBInfo db = existingDb(txn.reader, database);
                            if (txn.reader.table(database, table.name.o) != null) {
                                throw new IllegalArgumentException(
                                        "table '"
                                                + database
                                                + "."
                                                + table.name.o
                                                + "' already exists");
                            }
                            TableInfo t = MetaJson.copy(table, TableInfo.class);
                            t.id = txn.allocateId();
                            if (t.partition != null) {
                                for (PartitionInfo.PartitionDefinition d :
                                        t.partition.definitions) {
                                    d.id = txn.allocateId();
                                }
                                t.partition.num = t.partition.definitions.size();
                            }
                            assignIds(t);
                            t.state = SchemaState.PUBLIC;
                            t.updateTimestamp = txn.startTs;
                            txn.put(
                                    MetaKeys.hashField(
                                            MetaKeys.dbKey(db.id), MetaKeys.tableField(t.id)),
                                    MetaJson.bytes(t));
                            SchemaDiff diff = new SchemaDiff();
                            diff.type = SchemaDiff.CREATE_TABLE;
                            diff.schemaId = db.id;
                            diff.tableId = t.id;
                            txn.commit(diff);
                            return t;
                        });
        splitTableRegions(created);
        return created;
    }

    /**
     * TiDB's {@code split-table} (on by default): once a table exists, each of its physical tables
     * gets a region of its own, split at its prefix {@code t<physicalId>}
     * (pkg/ddl/split_region.go). As in TiDB, a failed split does not fail the DDL: the rows go to
     * the region holding the prefix, which TiKV splits once it grows.
     */
    private void splitTableRegions(TableInfo t) {
        List<byte[]> keys = new ArrayList<>();
        for (long id : t.physicalIds()) {
            keys.add(TableCodec.tablePrefix(id));
        }
        try {
            // No wait for the scatter: TiDB's default (tidb_scatter_region off) does not scatter.
            session.splitRegionAndScatter(keys, BACKOFF_MS, BACKOFF_MS, 0);
        } catch (RuntimeException e) {
            LOG.warn("splitting the region of table {} (id {}) failed", t.name.o, t.id, e);
        }
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
                    DBInfo db = existingDb(txn.reader, database);
                    TableInfo t = existingTable(txn.reader, database, table);
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
                    DBInfo db = existingDb(txn.reader, database);
                    TableInfo t = existingTable(txn.reader, database, table);
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
                    DBInfo db = existingDb(txn.reader, database);
                    TableInfo t = existingTable(txn.reader, database, table);
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

    /**
     * ALTER TABLE ADD [UNIQUE] INDEX {@code name} ({@code columns}), run to the end: see {@link
     * #startAddIndex}.
     */
    public TableInfo addIndex(
            String database, String table, String name, boolean unique, String... columns) {
        return addIndex(database, table, IndexInfo.of(name, unique, columns));
    }

    /** ALTER TABLE ADD INDEX, run to the end with no pause between the states. */
    public TableInfo addIndex(String database, String table, IndexInfo index) {
        return startAddIndex(database, table, index).finish();
    }

    /**
     * ALTER TABLE ADD INDEX as TiDB's DDL owner runs it, one state at a time: none → delete-only →
     * write-only → write reorganization → (backfill) public, each state a schema version whose diff
     * is {@link SchemaDiff#ADD_INDEX}. Nothing is written until {@link IndexChange#next()}.
     *
     * @param index its name, columns (by name; a prefix length or -1), {@code unique}, comment and
     *     invisibility; its id and state are assigned
     * @throws IllegalArgumentException if the table cannot have this index (as TiDB refuses it)
     */
    public IndexChange startAddIndex(String database, String table, IndexInfo index) {
        MetaReader meta = MetaReader.latest(session);
        existingDb(meta, database);
        newIndex(existingTable(meta, database, table), index, database);
        return IndexChange.adding(this, database, table, index);
    }

    /** ALTER TABLE DROP INDEX, run to the end with no pause between the states. */
    public TableInfo dropIndex(String database, String table, String name) {
        return startDropIndex(database, table, name).finish();
    }

    /**
     * ALTER TABLE DROP INDEX as TiDB runs it, one state at a time: public → write-only →
     * delete-only → delete reorganization → none (removed, then its entries deleted), each state a
     * schema version whose diff is {@link SchemaDiff#DROP_INDEX}.
     *
     * @throws IllegalArgumentException if the table has no such public index, or it is the primary
     *     key
     */
    public IndexChange startDropIndex(String database, String table, String name) {
        MetaReader meta = MetaReader.latest(session);
        existingDb(meta, database);
        TableInfo t = existingTable(meta, database, table);
        IndexInfo idx = t.index(name);
        if (idx == null || idx.state != SchemaState.PUBLIC) {
            throw new IllegalArgumentException(
                    "Can't DROP '"
                            + name
                            + "'; check that column/key exists: table '"
                            + database
                            + "."
                            + t.name.o
                            + "' has no "
                            + (idx == null ? "" : "public ")
                            + "index of that name");
        }
        if (idx.primary) {
            throw new IllegalArgumentException(
                    "dropping the primary key of table '"
                            + database
                            + "."
                            + t.name.o
                            + "' is not supported");
        }
        return IndexChange.dropping(this, database, t.name.o, idx);
    }

    /** A table as one schema version left it. */
    static final class Version {
        final TableInfo table;
        final long version;

        Version(TableInfo table, long version) {
            this.table = table;
            this.version = version;
        }
    }

    /** The table now, or null. */
    TableInfo currentTable(String database, String table) {
        return MetaReader.latest(session).table(database, table);
    }

    /** The first step of an ADD INDEX: the index, with a fresh id, in delete-only state. */
    Version createIndex(String database, String table, IndexInfo spec) {
        return ddl(
                txn -> {
                    DBInfo db = existingDb(txn.reader, database);
                    TableInfo t = existingTable(txn.reader, database, table);
                    newIndex(t, spec, database).state = SchemaState.DELETE_ONLY;
                    return new Version(alter(txn, db, t, SchemaDiff.ADD_INDEX), txn.version);
                });
    }

    /**
     * One state change of an index: from {@code from} to {@code to} ({@link SchemaState#NONE}
     * removes it), with the column flags TiDB sets once an index is public and clears once it is
     * gone.
     *
     * @throws IllegalStateException if the index is gone or not in state {@code from} (another DDL
     *     changed it)
     */
    Version changeIndexState(
            String database, String table, long indexId, int from, int to, int action) {
        return ddl(
                txn -> {
                    DBInfo db = existingDb(txn.reader, database);
                    TableInfo t = existingTable(txn.reader, database, table);
                    IndexInfo idx = null;
                    for (IndexInfo i : t.indices) {
                        idx = i.id == indexId ? i : idx;
                    }
                    if (idx == null || idx.state != from) {
                        throw new IllegalStateException(
                                "index "
                                        + indexId
                                        + " of table '"
                                        + database
                                        + "."
                                        + table
                                        + "' is "
                                        + (idx == null ? "gone" : "in state " + idx.state)
                                        + ", not in state "
                                        + from
                                        + ": another DDL changed it");
                    }
                    idx.state = to;
                    if (to == SchemaState.PUBLIC) {
                        addIndexColumnFlag(t, idx);
                    } else if (to == SchemaState.NONE) {
                        t.indices.remove(idx);
                        dropIndexColumnFlag(t, idx);
                    }
                    return new Version(alter(txn, db, t, action), txn.version);
                });
    }

    IndexReorg reorg() {
        return reorg;
    }

    /**
     * Checks {@code spec} against {@code t} as TiDB's ADD INDEX does, and adds a copy of it (state
     * none, a fresh id, column offsets) to {@code t}.
     */
    private static IndexInfo newIndex(TableInfo t, IndexInfo spec, String database) {
        String where = "table '" + database + "." + t.name.o + "'";
        if (t.isView()) {
            throw new IllegalArgumentException(where + " is a view");
        }
        if (spec.name == null || spec.name.o.isEmpty()) {
            throw new IllegalArgumentException("an index of " + where + " needs a name");
        }
        if (t.index(spec.name.o) != null) {
            throw new IllegalArgumentException(
                    "Duplicate key name '" + spec.name.o + "': " + where + " has that index");
        }
        if (spec.primary || spec.global || spec.mvIndex) {
            throw new IllegalArgumentException(
                    "adding "
                            + (spec.primary
                                    ? "a primary key"
                                    : spec.global ? "a global index" : "a multi-valued index")
                            + " to "
                            + where
                            + " is not supported");
        }
        if (spec.columns.isEmpty()) {
            throw new IllegalArgumentException(
                    "index '" + spec.name.o + "' of " + where + " has no columns");
        }
        for (IndexInfo.IndexColumn ic : spec.columns) {
            checkIndexColumn(t.column(ic.name.o), ic, where);
        }
        if (spec.unique && t.partition != null) {
            for (String c : partitionColumns(t)) {
                if (spec.columns.stream().noneMatch(ic -> ic.name.l.equals(c))) {
                    throw new IllegalArgumentException(
                            "A UNIQUE INDEX must include all columns in the table's partitioning"
                                    + " function: index '"
                                    + spec.name.o
                                    + "' of "
                                    + where
                                    + " lacks column '"
                                    + c
                                    + "'");
                }
            }
        }
        IndexInfo idx = MetaJson.copy(spec, IndexInfo.class);
        idx.id = 0;
        idx.state = SchemaState.NONE;
        t.indices.add(idx);
        assignIds(t);
        return idx;
    }

    private static void checkIndexColumn(ColumnInfo c, IndexInfo.IndexColumn ic, String where) {
        if (c == null || c.state != SchemaState.PUBLIC) {
            throw new IllegalArgumentException(
                    "Key column '" + ic.name.o + "' doesn't exist in " + where);
        }
        if (c.hidden || c.isVirtualGenerated()) {
            throw new IllegalArgumentException(
                    "column '"
                            + c.name()
                            + "' of "
                            + where
                            + " is generated: SchemaWriter does not evaluate expressions to"
                            + " backfill an index");
        }
        if (c.type.tp == MysqlType.JSON) {
            throw new IllegalArgumentException(
                    "JSON column '" + c.name() + "' cannot be used in key specification");
        }
        boolean blob =
                MysqlType.isString(c.type.tp)
                        && c.type.tp >= MysqlType.TINY_BLOB
                        && c.type.tp <= MysqlType.BLOB;
        if (blob && ic.length < 0) {
            throw new IllegalArgumentException(
                    "BLOB/TEXT column '"
                            + c.name()
                            + "' used in key specification without a key length");
        }
    }

    /** The columns a partitioned table's partitioning reads (lower case). */
    private static List<String> partitionColumns(TableInfo t) {
        List<String> out = new ArrayList<>();
        for (CIStr c : t.partition.columns) {
            out.add(c.l);
        }
        String expr = t.partition.expr == null ? "" : t.partition.expr.toLowerCase(Locale.ROOT);
        for (ColumnInfo c : t.columns) {
            if (Pattern.compile("(?<![\\w$])`?" + Pattern.quote(c.name.l) + "`?(?![\\w$])")
                    .matcher(expr)
                    .find()) {
                out.add(c.name.l);
            }
        }
        return out;
    }

    /**
     * {@code AddIndexColumnFlag}: a public index marks its first column (all, for a primary key).
     */
    private static void addIndexColumnFlag(TableInfo t, IndexInfo idx) {
        if (idx.primary) {
            for (IndexInfo.IndexColumn ic : idx.columns) {
                t.columns.get(ic.offset).type.flag |= MysqlType.PRI_KEY_FLAG;
            }
            return;
        }
        t.columns.get(idx.columns.get(0).offset).type.flag |=
                idx.unique && idx.columns.size() == 1
                        ? MysqlType.UNIQUE_KEY_FLAG
                        : MysqlType.MULTIPLE_KEY_FLAG;
    }

    /**
     * {@code DropIndexColumnFlag}: the flag of a removed index goes, then the indexes left that
     * start with the same column set theirs again.
     */
    private static void dropIndexColumnFlag(TableInfo t, IndexInfo removed) {
        ColumnInfo first = t.columns.get(removed.columns.get(0).offset);
        first.type.flag &=
                ~(removed.unique && removed.columns.size() == 1
                        ? MysqlType.UNIQUE_KEY_FLAG
                        : MysqlType.MULTIPLE_KEY_FLAG);
        for (IndexInfo idx : t.indices) {
            if (idx.columns.get(0).name.equals(first.name)) {
                addIndexColumnFlag(t, idx);
            }
        }
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

    private static DBInfo existingDb(MetaReader reader, String name) {
        DBInfo db = reader.database(name);
        if (db == null) {
            throw new IllegalArgumentException("database '" + name + "' does not exist");
        }
        return db;
    }

    private static TableInfo existingTable(MetaReader reader, String database, String table) {
        TableInfo t = reader.table(database, table);
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
