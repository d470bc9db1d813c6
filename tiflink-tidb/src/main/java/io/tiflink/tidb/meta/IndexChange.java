package io.tiflink.tidb.meta;

import java.time.Duration;

/**
 * An ADD INDEX or DROP INDEX that {@link SchemaWriter} runs one schema state at a time, as TiDB's
 * DDL owner runs the job ({@code onCreateIndex} and {@code onDropIndex} of pkg/ddl/index.go): each
 * {@link #next()} writes one schema version, with its {@link SchemaDiff}.
 *
 * <ul>
 *   <li>ADD INDEX: none → delete-only → write-only → write reorganization → public. The step out of
 *       write reorganization first backfills the entries of the rows stored (see {@link
 *       #backfilled()}). If a unique index meets two rows with the same key, that step rolls the
 *       index back to delete-only instead, as TiDB does; the next steps take it to delete
 *       reorganization and then remove it (deleting the entries written), and the last one throws
 *       TiDB's error, {@code Duplicate entry '<value>' for key '<table>.<index>'}. Every version's
 *       diff is {@link SchemaDiff#ADD_INDEX}, the rollback's too.
 *   <li>DROP INDEX: public → write-only → delete-only → delete reorganization → none: the index is
 *       removed, then its entries deleted. Every diff is {@link SchemaDiff#DROP_INDEX}.
 * </ul>
 *
 * <p>After each version TiDB waits until every TiDB server has loaded it, so that writers use at
 * most two adjacent states at once. SchemaWriter knows no servers: its caller paces the steps,
 * letting the writers it knows of reload the schema between two {@code next()} (a {@code
 * TableWriter} opened anew, the sink's next epoch), or calling {@link #finish(Duration)} with a
 * pause. A step that fails (a write conflict it gave up on, say) writes no schema version: {@code
 * next()} runs it again; if deleting the entries of a removed index failed, {@code next()} deletes
 * them. Not thread-safe.
 */
public final class IndexChange {
    private final SchemaWriter writer;
    private final String database;
    private final String table;
    private final boolean adding;
    private final IndexInfo spec;
    private long indexId;
    private int state;
    private boolean done;
    private TableInfo info;
    private long version;
    private long backfilled;
    private IllegalStateException failure;

    private IndexChange(
            SchemaWriter writer,
            String database,
            String table,
            boolean adding,
            IndexInfo index,
            int state) {
        this.writer = writer;
        this.database = database;
        this.table = table;
        this.adding = adding;
        this.spec = index;
        this.indexId = adding ? 0 : index.id;
        this.state = state;
    }

    static IndexChange adding(SchemaWriter w, String database, String table, IndexInfo spec) {
        return new IndexChange(w, database, table, true, spec, SchemaState.NONE);
    }

    static IndexChange dropping(SchemaWriter w, String database, String table, IndexInfo index) {
        return new IndexChange(w, database, table, false, index, SchemaState.PUBLIC);
    }

    /** The index's name. */
    public String index() {
        return spec.name.o;
    }

    /** The index's id; 0 before the first step of an ADD INDEX. */
    public long indexId() {
        return indexId;
    }

    /** The index's state ({@link SchemaState}) as the last step left it. */
    public int state() {
        return state;
    }

    /** Whether the last step was the last one: the index is public, or gone. */
    public boolean done() {
        return done;
    }

    /** Whether an ADD UNIQUE INDEX met a duplicate and is taking the index away again. */
    public boolean rollingBack() {
        return failure != null;
    }

    /** The schema version the last step wrote; 0 before the first. */
    public long schemaVersion() {
        return version;
    }

    /** The table as the last step left it; null before the first. */
    public TableInfo table() {
        return info;
    }

    /** How many index entries the backfill wrote (rows whose entry a writer wrote are skipped). */
    public long backfilled() {
        return backfilled;
    }

    /**
     * Runs the next state change: one schema version (the step out of write reorganization
     * backfills first).
     *
     * @return the index's state now ({@link SchemaState#NONE} once a DROP or a rollback removed it)
     * @throws IllegalStateException if the change is done, another DDL changed the index, or (from
     *     the last step of a rollback) the duplicate entry that failed the ADD INDEX
     */
    public int next() {
        if (done) {
            throw new IllegalStateException(
                    (adding ? "ADD" : "DROP") + " INDEX '" + index() + "' is done");
        }
        boolean dropping = !adding || failure != null;
        switch (state) {
            case SchemaState.NONE:
                if (indexId != 0) {
                    deleteEntries(); // removed, but deleting its entries failed: again
                    break;
                }
                wrote(writer.createIndex(database, table, spec), SchemaState.DELETE_ONLY);
                indexId = info.index(index()).id;
                break;
            case SchemaState.DELETE_ONLY:
                to(dropping ? SchemaState.DELETE_REORGANIZATION : SchemaState.WRITE_ONLY);
                break;
            case SchemaState.WRITE_ONLY:
                to(dropping ? SchemaState.DELETE_ONLY : SchemaState.WRITE_REORGANIZATION);
                break;
            case SchemaState.WRITE_REORGANIZATION:
                backfill();
                break;
            case SchemaState.DELETE_REORGANIZATION:
                to(SchemaState.NONE);
                deleteEntries();
                break;
            default: // public: a DROP INDEX starts
                to(SchemaState.WRITE_ONLY);
        }
        return state;
    }

    /** The end of a DROP or a rollback: the removed index's entries go. */
    private void deleteEntries() {
        writer.reorg().deleteEntries(info, indexId);
        done = true;
        if (failure != null) {
            throw failure;
        }
    }

    private void backfill() {
        TableInfo t = writer.currentTable(database, table);
        IndexInfo idx = t == null ? null : t.index(index());
        if (idx == null || idx.id != indexId || idx.state != SchemaState.WRITE_REORGANIZATION) {
            throw new IllegalStateException(
                    this + ": the index is gone or in another state: another DDL changed it");
        }
        try {
            backfilled = writer.reorg().backfill(t, idx);
        } catch (IndexReorg.DuplicateEntryException e) {
            failure =
                    new IllegalStateException(
                            e.getMessage()
                                    + "; ADD UNIQUE INDEX '"
                                    + index()
                                    + "' of table '"
                                    + database
                                    + "."
                                    + table
                                    + "' was rolled back",
                            e);
            // convertAddIdxJob2RollbackJob: write reorganization → delete-only.
            to(SchemaState.DELETE_ONLY);
            return;
        }
        to(SchemaState.PUBLIC);
        done = true;
    }

    private void to(int next) {
        wrote(
                writer.changeIndexState(
                        database,
                        table,
                        indexId,
                        state,
                        next,
                        adding ? SchemaDiff.ADD_INDEX : SchemaDiff.DROP_INDEX),
                next);
    }

    private void wrote(SchemaWriter.Version v, int newState) {
        info = v.table;
        version = v.version;
        state = newState;
    }

    /** Runs the steps left back to back. */
    public TableInfo finish() {
        return finish(Duration.ZERO);
    }

    /**
     * Runs the steps left, pausing {@code pause} after each but the last, for writers to load the
     * new schema version.
     *
     * @return the table as the last step left it
     * @throws IllegalStateException as {@link #next()}
     */
    public TableInfo finish(Duration pause) {
        while (!done) {
            next();
            if (!done && !pause.isZero()) {
                try {
                    Thread.sleep(pause.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted between the steps of " + this, e);
                }
            }
        }
        return info;
    }

    @Override
    public String toString() {
        return (adding ? "ADD" : "DROP")
                + " INDEX '"
                + index()
                + "' of table '"
                + database
                + "."
                + table
                + "' (state "
                + state
                + (failure != null ? ", rolling back" : "")
                + ")";
    }
}
