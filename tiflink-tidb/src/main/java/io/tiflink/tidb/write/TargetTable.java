package io.tiflink.tidb.write;

import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.meta.DBInfo;
import io.tiflink.tidb.meta.IndexInfo;
import io.tiflink.tidb.meta.MetaJson;
import io.tiflink.tidb.meta.MetaReader;
import io.tiflink.tidb.meta.SchemaState;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.table.ColumnKind;
import io.tiflink.tidb.table.TableCodec;
import io.tiflink.tidb.types.MysqlType;

import org.tikv.common.TiSession;

import java.util.Arrays;

/**
 * The TiDB table a sink writes, read from TiDB's schema at a TSO, with what the sink needs of it.
 * Tables the sink cannot write as TiDB would are refused here, with the reason.
 */
public final class TargetTable {
    private final String name;
    private final long dbId;
    private final TableInfo info;
    private final TableCodec codec;
    private final ColumnInfo autoIncrement;

    private TargetTable(String name, long dbId, TableInfo info) {
        this.name = name;
        this.dbId = dbId;
        this.info = info;
        this.codec = new TableCodec(info);
        ColumnInfo auto = null;
        for (ColumnInfo c : info.columns) {
            if (c.type.hasFlag(MysqlType.AUTO_INCREMENT_FLAG)) {
                auto = c;
            }
        }
        this.autoIncrement = auto;
    }

    /**
     * The table {@code database.table} at {@code ts}.
     *
     * @throws IllegalArgumentException if it does not exist, or the sink cannot write it
     */
    public static TargetTable load(TiSession session, long ts, String database, String table) {
        String name = database + "." + table;
        MetaReader meta = new MetaReader(session, ts);
        DBInfo db = meta.database(database);
        TableInfo t = db == null ? null : meta.table(database, table);
        if (t == null) {
            throw new IllegalArgumentException(
                    "TiDB table "
                            + name
                            + " does not exist"
                            + (db == null ? " (no database " + database + ")" : ""));
        }
        refuseUnsupported(name, t);
        return new TargetTable(name, db.id, t);
    }

    private static void refuseUnsupported(String name, TableInfo t) {
        if (t.isView()) {
            throw unsupported(name, "it is a view");
        }
        if (t.partition != null && !t.partition.definitions.isEmpty()) {
            throw unsupported(
                    name,
                    "it is partitioned, and the sink does not evaluate partition expressions to"
                            + " place rows");
        }
        if (t.autoRandomBits > 0) {
            throw unsupported(
                    name,
                    "its primary key is AUTO_RANDOM, whose ids only TiDB allocates; write through"
                            + " TiDB, or use AUTO_INCREMENT");
        }
        for (ColumnInfo c : t.columns) {
            if (c.generatedExprString != null && !c.generatedExprString.isEmpty()) {
                throw unsupported(
                        name,
                        "column '"
                                + c.name()
                                + "' is generated, and the sink does not evaluate expressions");
            }
            if (c.state != SchemaState.PUBLIC) {
                throw unsupported(name, "column '" + c.name() + "' is being added or dropped");
            }
            ColumnKind.of(c);
        }
        for (IndexInfo idx : t.indices) {
            if (idx.global || idx.mvIndex) {
                throw unsupported(
                        name,
                        "index '"
                                + idx.name.o
                                + "' is "
                                + (idx.global ? "global" : "multi-valued")
                                + ", which the sink cannot write");
            }
        }
        if (t.autoIdCache == 1 && hasAutoId(t)) {
            throw unsupported(
                    name,
                    "it has AUTO_ID_CACHE 1, whose ids TiDB's auto-id service allocates; the sink"
                            + " allocates from the table's id key only");
        }
    }

    private static boolean hasAutoId(TableInfo t) {
        if (!t.pkIsHandle && !t.isCommonHandle) {
            return true;
        }
        for (ColumnInfo c : t.columns) {
            if (c.type.hasFlag(MysqlType.AUTO_INCREMENT_FLAG)) {
                return true;
            }
        }
        return false;
    }

    private static IllegalArgumentException unsupported(String name, String why) {
        return new IllegalArgumentException(
                "the TiKV sink cannot write TiDB table " + name + ": " + why);
    }

    /** {@code database.table}. */
    public String name() {
        return name;
    }

    public long dbId() {
        return dbId;
    }

    public TableInfo info() {
        return info;
    }

    public TableCodec codec() {
        return codec;
    }

    /** The physical table the rows go to (the sink writes no partitioned tables). */
    public long physicalId() {
        return info.id;
    }

    /** The AUTO_INCREMENT column, or null. */
    public ColumnInfo autoIncrement() {
        return autoIncrement;
    }

    /** Whether rows are keyed by the hidden {@code _tidb_rowid}, which the sink allocates. */
    public boolean rowIdHandle() {
        return !info.pkIsHandle && !info.isCommonHandle;
    }

    /** {@code t<id>}: every record and index key of the table starts with it. */
    public byte[] keyPrefix() {
        return TableCodec.tablePrefix(info.id);
    }

    /** The first key after the table's keys. */
    public byte[] keyEnd() {
        return TableCodec.tablePrefix(info.id + 1);
    }

    /** Whether the table's schema at {@code ts} is still the one this was loaded with. */
    public boolean unchangedAt(TiSession session, long ts) {
        return sameSchema(info, new MetaReader(session, ts).table(dbId, info.id));
    }

    /**
     * Whether the table's schema is the same at {@code from} and at {@code to}: no DDL (not even a
     * step of one, such as an index entering write-only) became visible in between.
     */
    public boolean unchangedBetween(TiSession session, long from, long to) {
        return sameSchema(
                new MetaReader(session, from).table(dbId, info.id),
                new MetaReader(session, to).table(dbId, info.id));
    }

    private static boolean sameSchema(TableInfo a, TableInfo b) {
        return a != null && b != null && Arrays.equals(MetaJson.bytes(a), MetaJson.bytes(b));
    }
}
