package io.tiflink.catalog;

import io.tiflink.connector.TiKVOptions;
import io.tiflink.connector.table.TypeMapping;
import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.meta.DBInfo;
import io.tiflink.tidb.meta.MetaReader;
import io.tiflink.tidb.meta.PartitionInfo;
import io.tiflink.tidb.meta.SchemaState;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.types.MysqlType;
import io.tiflink.tikv.Sessions;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.catalog.AbstractCatalog;
import org.apache.flink.table.catalog.CatalogBaseTable;
import org.apache.flink.table.catalog.CatalogDatabase;
import org.apache.flink.table.catalog.CatalogDatabaseImpl;
import org.apache.flink.table.catalog.CatalogFunction;
import org.apache.flink.table.catalog.CatalogPartition;
import org.apache.flink.table.catalog.CatalogPartitionSpec;
import org.apache.flink.table.catalog.CatalogTable;
import org.apache.flink.table.catalog.ObjectPath;
import org.apache.flink.table.catalog.ResolvedCatalogTable;
import org.apache.flink.table.catalog.exceptions.CatalogException;
import org.apache.flink.table.catalog.exceptions.DatabaseAlreadyExistException;
import org.apache.flink.table.catalog.exceptions.DatabaseNotEmptyException;
import org.apache.flink.table.catalog.exceptions.DatabaseNotExistException;
import org.apache.flink.table.catalog.exceptions.FunctionNotExistException;
import org.apache.flink.table.catalog.exceptions.PartitionNotExistException;
import org.apache.flink.table.catalog.exceptions.TableAlreadyExistException;
import org.apache.flink.table.catalog.exceptions.TableNotExistException;
import org.apache.flink.table.catalog.exceptions.TableNotPartitionedException;
import org.apache.flink.table.catalog.stats.CatalogColumnStatistics;
import org.apache.flink.table.catalog.stats.CatalogTableStatistics;
import org.apache.flink.table.expressions.Expression;
import org.apache.flink.table.types.DataType;

import org.tikv.common.TiSession;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * TiDB's databases and tables as a Flink catalog, read from the meta keys in TiKV (no TiDB server
 * needed to read). Tables carry the {@code tikv} connector's options, so {@code SELECT * FROM
 * tidb.db.t} needs nothing more. CREATE/DROP go to a TiDB server through JDBC when {@code
 * tidb.database.url} is set.
 */
@PublicEvolving
public class TiDBCatalog extends AbstractCatalog {
    /** Options of catalog tables, named like flink-cdc's tidb-cdc connector. */
    static final String CONNECTOR = "connector";

    static final String CONNECTOR_NAME = "tikv";
    static final String DATABASE_NAME = "database-name";
    static final String TABLE_NAME = "table-name";

    private final Configuration options;
    private final Map<String, String> tableOptions;
    private TiSession session;

    public TiDBCatalog(String name, String defaultDatabase, Configuration options) {
        super(name, defaultDatabase);
        this.options = options;
        this.tableOptions = new LinkedHashMap<>();
        tableOptions.put(CONNECTOR, CONNECTOR_NAME);
        for (Map.Entry<String, String> e : options.toMap().entrySet()) {
            if (e.getKey().equals(TiKVOptions.PD_ADDRESSES.key())
                    || e.getKey().startsWith("tikv.")) {
                tableOptions.put(e.getKey(), e.getValue());
            }
        }
    }

    @Override
    public void open() throws CatalogException {
        try {
            session =
                    TiKVOptions.connecting(
                            () -> Sessions.open(TiKVOptions.toTiConfiguration(options)));
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new CatalogException("catalog '" + getName() + "': " + e.getMessage(), e);
        }
    }

    @Override
    public void close() throws CatalogException {
        if (session != null) {
            try {
                session.close();
            } catch (Exception e) {
                throw new CatalogException("closing the TiKV session failed", e);
            }
            session = null;
        }
    }

    private MetaReader meta() {
        if (session == null) {
            throw new CatalogException("catalog '" + getName() + "' is not open");
        }
        return MetaReader.latest(session);
    }

    // ---- databases ----

    @Override
    public List<String> listDatabases() throws CatalogException {
        List<String> names = new ArrayList<>();
        for (DBInfo db : meta().databases()) {
            names.add(db.name());
        }
        Collections.sort(names);
        return names;
    }

    @Override
    public CatalogDatabase getDatabase(String databaseName)
            throws DatabaseNotExistException, CatalogException {
        DBInfo db = meta().database(databaseName);
        if (db == null) {
            throw new DatabaseNotExistException(getName(), databaseName);
        }
        Map<String, String> props = new HashMap<>();
        props.put("charset", db.charset);
        props.put("collate", db.collate);
        return new CatalogDatabaseImpl(props, null);
    }

    @Override
    public boolean databaseExists(String databaseName) throws CatalogException {
        return meta().database(databaseName) != null;
    }

    @Override
    public void createDatabase(String name, CatalogDatabase database, boolean ignoreIfExists)
            throws DatabaseAlreadyExistException, CatalogException {
        if (!ignoreIfExists && databaseExists(name)) {
            throw new DatabaseAlreadyExistException(getName(), name);
        }
        execute("CREATE DATABASE", TiDBDdl.createDatabase(name, ignoreIfExists));
    }

    @Override
    public void dropDatabase(String name, boolean ignoreIfNotExists, boolean cascade)
            throws DatabaseNotExistException, DatabaseNotEmptyException, CatalogException {
        MetaReader meta = meta();
        DBInfo db = meta.database(name);
        if (db == null) {
            if (ignoreIfNotExists) {
                return;
            }
            throw new DatabaseNotExistException(getName(), name);
        }
        if (!cascade && !meta.tables(db.id).isEmpty()) {
            throw new DatabaseNotEmptyException(getName(), name);
        }
        execute("DROP DATABASE", TiDBDdl.dropDatabase(name, ignoreIfNotExists));
    }

    @Override
    public void alterDatabase(String name, CatalogDatabase newDatabase, boolean ignoreIfNotExists) {
        throw new UnsupportedOperationException(
                "ALTER DATABASE is not supported by the TiDB catalog");
    }

    // ---- tables ----

    private List<TableInfo> tablesOf(String databaseName) throws DatabaseNotExistException {
        MetaReader meta = meta();
        DBInfo db = meta.database(databaseName);
        if (db == null) {
            throw new DatabaseNotExistException(getName(), databaseName);
        }
        return meta.tables(db.id);
    }

    @Override
    public List<String> listTables(String databaseName)
            throws DatabaseNotExistException, CatalogException {
        List<String> names = new ArrayList<>();
        for (TableInfo t : tablesOf(databaseName)) {
            if (!t.isView()) {
                names.add(t.name());
            }
        }
        Collections.sort(names);
        return names;
    }

    @Override
    public List<String> listViews(String databaseName)
            throws DatabaseNotExistException, CatalogException {
        // TiDB views are SQL over TiDB; Flink cannot run them.
        tablesOf(databaseName);
        return Collections.emptyList();
    }

    private TableInfo tableInfo(ObjectPath path) throws TableNotExistException {
        TableInfo t = meta().table(path.getDatabaseName(), path.getObjectName());
        if (t == null || t.isView()) {
            throw new TableNotExistException(getName(), path);
        }
        return t;
    }

    /** Whether an INSERT may leave the column out: it has a DEFAULT, or is AUTO_INCREMENT. */
    private static boolean hasDefault(ColumnInfo c) {
        return c.defaultValue != null
                || c.defaultIsExpr
                || (c.type.flag & MysqlType.AUTO_INCREMENT_FLAG) != 0;
    }

    @Override
    public CatalogBaseTable getTable(ObjectPath path)
            throws TableNotExistException, CatalogException {
        TableInfo t = tableInfo(path);
        return toCatalogTable(path, t);
    }

    CatalogTable toCatalogTable(ObjectPath path, TableInfo t) {
        Schema.Builder schema = Schema.newBuilder();
        List<String> pk = t.primaryKeyColumns();
        for (ColumnInfo c : t.columns) {
            if (c.state != SchemaState.PUBLIC || c.hidden) {
                continue;
            }
            DataType type = TypeMapping.toFlink(path.getFullName(), c);
            if (hasDefault(c) && !pk.contains(c.name())) {
                // Flink knows no DEFAULT: as NOT NULL, an INSERT's column list could not leave
                // the column out (the sink writes its DEFAULT then; an explicit NULL still fails).
                type = type.nullable();
            }
            schema.column(c.name(), type);
            if (c.comment != null && !c.comment.isEmpty()) {
                schema.withComment(c.comment);
            }
        }
        if (!pk.isEmpty()) {
            schema.primaryKey(pk);
        }
        Map<String, String> opts = new LinkedHashMap<>(tableOptions);
        opts.put(DATABASE_NAME, path.getDatabaseName());
        opts.put(TABLE_NAME, t.name());
        return CatalogTable.newBuilder()
                .schema(schema.build())
                .comment(t.comment == null ? "" : t.comment)
                .partitionKeys(Collections.emptyList())
                .options(opts)
                .build();
    }

    @Override
    public boolean tableExists(ObjectPath path) throws CatalogException {
        TableInfo t = meta().table(path.getDatabaseName(), path.getObjectName());
        return t != null && !t.isView();
    }

    @Override
    public void dropTable(ObjectPath path, boolean ignoreIfNotExists)
            throws TableNotExistException, CatalogException {
        if (!tableExists(path)) {
            if (ignoreIfNotExists) {
                return;
            }
            throw new TableNotExistException(getName(), path);
        }
        execute("DROP TABLE", TiDBDdl.dropTable(path, ignoreIfNotExists));
    }

    @Override
    public void renameTable(ObjectPath path, String newTableName, boolean ignoreIfNotExists) {
        throw new UnsupportedOperationException(
                "RENAME TABLE is not supported by the TiDB catalog");
    }

    @Override
    public void createTable(ObjectPath path, CatalogBaseTable table, boolean ignoreIfExists)
            throws TableAlreadyExistException, DatabaseNotExistException, CatalogException {
        if (!(table instanceof ResolvedCatalogTable)) {
            throw new CatalogException(
                    "the TiDB catalog creates tables only, not " + table.getTableKind());
        }
        if (!databaseExists(path.getDatabaseName())) {
            throw new DatabaseNotExistException(getName(), path.getDatabaseName());
        }
        if (!ignoreIfExists && tableExists(path)) {
            throw new TableAlreadyExistException(getName(), path);
        }
        execute(
                "CREATE TABLE",
                TiDBDdl.createTable(path, (ResolvedCatalogTable) table, ignoreIfExists));
    }

    @Override
    public void alterTable(ObjectPath path, CatalogBaseTable newTable, boolean ignoreIfNotExists) {
        throw new UnsupportedOperationException("ALTER TABLE is not supported by the TiDB catalog");
    }

    /** Runs DDL on the TiDB server of {@code tidb.database.url}. */
    private void execute(String what, String sql) {
        String url = options.getOptional(TiDBCatalogOptions.TIDB_DATABASE_URL).orElse(null);
        if (url == null || url.trim().isEmpty()) {
            throw new CatalogException(
                    what
                            + " in catalog '"
                            + getName()
                            + "' needs a TiDB server: set option '"
                            + TiDBCatalogOptions.TIDB_DATABASE_URL.key()
                            + "' (e.g. jdbc:mysql://127.0.0.1:4000), with '"
                            + TiDBCatalogOptions.TIDB_USERNAME.key()
                            + "' and '"
                            + TiDBCatalogOptions.TIDB_PASSWORD.key()
                            + "'");
        }
        try (Connection c =
                        DriverManager.getConnection(
                                url,
                                options.get(TiDBCatalogOptions.TIDB_USERNAME),
                                options.get(TiDBCatalogOptions.TIDB_PASSWORD));
                Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new CatalogException(
                    what + " through " + url + " failed: " + e.getMessage() + " (SQL: " + sql + ")",
                    e);
        }
    }

    // ---- partitions: TiDB partitions, listed by name ----

    private PartitionInfo partitioning(ObjectPath path)
            throws TableNotExistException, TableNotPartitionedException {
        TableInfo t = tableInfo(path);
        if (t.partition == null || t.partition.definitions.isEmpty()) {
            throw new TableNotPartitionedException(getName(), path);
        }
        return t.partition;
    }

    /** Each TiDB partition as the spec {@code partition=<name>}. */
    @Override
    public List<CatalogPartitionSpec> listPartitions(ObjectPath path)
            throws TableNotExistException, TableNotPartitionedException, CatalogException {
        List<CatalogPartitionSpec> specs = new ArrayList<>();
        for (PartitionInfo.PartitionDefinition d : partitioning(path).definitions) {
            specs.add(new CatalogPartitionSpec(Collections.singletonMap("partition", d.name.o)));
        }
        return specs;
    }

    @Override
    public List<CatalogPartitionSpec> listPartitions(ObjectPath path, CatalogPartitionSpec spec)
            throws TableNotExistException, TableNotPartitionedException, CatalogException {
        List<CatalogPartitionSpec> out = new ArrayList<>();
        for (CatalogPartitionSpec s : listPartitions(path)) {
            if (s.getPartitionSpec().entrySet().containsAll(spec.getPartitionSpec().entrySet())) {
                out.add(s);
            }
        }
        return out;
    }

    @Override
    public List<CatalogPartitionSpec> listPartitionsByFilter(
            ObjectPath path, List<Expression> filters) {
        throw new UnsupportedOperationException(
                "partition filters are not supported by the TiDB catalog");
    }

    @Override
    public CatalogPartition getPartition(ObjectPath path, CatalogPartitionSpec spec)
            throws PartitionNotExistException, CatalogException {
        throw new PartitionNotExistException(getName(), path, spec);
    }

    @Override
    public boolean partitionExists(ObjectPath path, CatalogPartitionSpec spec)
            throws CatalogException {
        try {
            return listPartitions(path).contains(spec);
        } catch (TableNotExistException | TableNotPartitionedException e) {
            return false;
        }
    }

    @Override
    public void createPartition(
            ObjectPath path,
            CatalogPartitionSpec spec,
            CatalogPartition partition,
            boolean ignoreIfExists) {
        throw new UnsupportedOperationException(
                "partition DDL is not supported by the TiDB catalog");
    }

    @Override
    public void dropPartition(
            ObjectPath path, CatalogPartitionSpec spec, boolean ignoreIfNotExists) {
        throw new UnsupportedOperationException(
                "partition DDL is not supported by the TiDB catalog");
    }

    @Override
    public void alterPartition(
            ObjectPath path,
            CatalogPartitionSpec spec,
            CatalogPartition newPartition,
            boolean ignoreIfNotExists) {
        throw new UnsupportedOperationException(
                "partition DDL is not supported by the TiDB catalog");
    }

    // ---- functions and statistics: none ----

    @Override
    public List<String> listFunctions(String dbName)
            throws DatabaseNotExistException, CatalogException {
        tablesOf(dbName);
        return Collections.emptyList();
    }

    @Override
    public CatalogFunction getFunction(ObjectPath functionPath)
            throws FunctionNotExistException, CatalogException {
        throw new FunctionNotExistException(getName(), functionPath);
    }

    @Override
    public boolean functionExists(ObjectPath functionPath) throws CatalogException {
        return false;
    }

    @Override
    public void createFunction(
            ObjectPath functionPath, CatalogFunction function, boolean ignoreIfExists) {
        throw new UnsupportedOperationException("functions are not supported by the TiDB catalog");
    }

    @Override
    public void alterFunction(
            ObjectPath functionPath, CatalogFunction newFunction, boolean ignoreIfNotExists) {
        throw new UnsupportedOperationException("functions are not supported by the TiDB catalog");
    }

    @Override
    public void dropFunction(ObjectPath functionPath, boolean ignoreIfNotExists) {
        throw new UnsupportedOperationException("functions are not supported by the TiDB catalog");
    }

    @Override
    public CatalogTableStatistics getTableStatistics(ObjectPath tablePath) {
        return CatalogTableStatistics.UNKNOWN;
    }

    @Override
    public CatalogColumnStatistics getTableColumnStatistics(ObjectPath tablePath) {
        return CatalogColumnStatistics.UNKNOWN;
    }

    @Override
    public CatalogTableStatistics getPartitionStatistics(
            ObjectPath tablePath, CatalogPartitionSpec partitionSpec) {
        return CatalogTableStatistics.UNKNOWN;
    }

    @Override
    public CatalogColumnStatistics getPartitionColumnStatistics(
            ObjectPath tablePath, CatalogPartitionSpec partitionSpec) {
        return CatalogColumnStatistics.UNKNOWN;
    }

    @Override
    public void alterTableStatistics(
            ObjectPath tablePath,
            CatalogTableStatistics tableStatistics,
            boolean ignoreIfNotExists) {
        throw new UnsupportedOperationException("statistics are not supported by the TiDB catalog");
    }

    @Override
    public void alterTableColumnStatistics(
            ObjectPath tablePath,
            CatalogColumnStatistics columnStatistics,
            boolean ignoreIfNotExists) {
        throw new UnsupportedOperationException("statistics are not supported by the TiDB catalog");
    }

    @Override
    public void alterPartitionStatistics(
            ObjectPath tablePath,
            CatalogPartitionSpec partitionSpec,
            CatalogTableStatistics partitionStatistics,
            boolean ignoreIfNotExists) {
        throw new UnsupportedOperationException("statistics are not supported by the TiDB catalog");
    }

    @Override
    public void alterPartitionColumnStatistics(
            ObjectPath tablePath,
            CatalogPartitionSpec partitionSpec,
            CatalogColumnStatistics columnStatistics,
            boolean ignoreIfNotExists) {
        throw new UnsupportedOperationException("statistics are not supported by the TiDB catalog");
    }

    @Override
    public Optional<org.apache.flink.table.factories.Factory> getFactory() {
        // Tables name their connector ('tikv') in their options.
        return Optional.empty();
    }
}
