package io.tiflink.connector.table;

import io.tiflink.connector.TiKVOptions;
import io.tiflink.connector.lookup.TiKVLookupOptions;
import io.tiflink.connector.source.HandleRange;
import io.tiflink.connector.source.TiKVSourceConfig;
import io.tiflink.connector.source.TiKVSourceOptions;
import io.tiflink.connector.source.enumerator.SplitPlanner;
import io.tiflink.connector.source.split.CapturedTable;
import io.tiflink.tikv.txn.TxnClient;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.catalog.UniqueConstraint;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.connector.source.lookup.LookupOptions;
import org.apache.flink.table.connector.source.lookup.cache.DefaultLookupCache;
import org.apache.flink.table.connector.source.lookup.cache.LookupCache;
import org.apache.flink.table.factories.DynamicTableSourceFactory;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.types.logical.LogicalTypeRoot;
import org.apache.flink.table.types.logical.RowType;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** {@code 'connector' = 'tikv'}: TiDB tables read from TiKV as a Flink SQL changelog. */
@PublicEvolving
public final class TiKVDynamicTableSourceFactory implements DynamicTableSourceFactory {
    public static final String IDENTIFIER = "tikv";

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        Set<ConfigOption<?>> o = new HashSet<>();
        o.add(TiKVOptions.PD_ADDRESSES);
        o.add(TiKVSourceOptions.DATABASE_NAME);
        o.add(TiKVSourceOptions.TABLE_NAME);
        return o;
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        Set<ConfigOption<?>> o = new HashSet<>(TiKVOptions.optional());
        o.add(TiKVSourceOptions.STARTUP_MODE);
        o.add(TiKVSourceOptions.STARTUP_TIMESTAMP_MILLIS);
        o.add(TiKVSourceOptions.SNAPSHOT_FETCH_SIZE);
        o.add(TiKVSourceOptions.CHANGELOG_MODE);
        o.add(TiKVSourceOptions.GC_SAFE_POINT_TTL);
        o.add(TiKVSourceOptions.CDC_MEMORY_QUOTA);
        o.add(TiKVSourceOptions.CDC_SPILL_DIRECTORY);
        o.add(TiKVSourceOptions.CDC_LOCK_RESOLVE_AFTER);
        o.add(TiKVSourceOptions.CDC_SKIP_TXN_SOURCES);
        o.add(TiKVOptions.CONSISTENCY);
        o.add(LookupOptions.CACHE_TYPE);
        o.add(LookupOptions.PARTIAL_CACHE_EXPIRE_AFTER_ACCESS);
        o.add(LookupOptions.PARTIAL_CACHE_EXPIRE_AFTER_WRITE);
        o.add(LookupOptions.PARTIAL_CACHE_MAX_ROWS);
        o.add(LookupOptions.PARTIAL_CACHE_CACHE_MISSING_KEY);
        o.add(LookupOptions.MAX_RETRIES);
        o.add(TiKVLookupOptions.ASYNC);
        o.add(TiKVLookupOptions.ASYNC_MAX_CONCURRENT_REQUESTS);
        return o;
    }

    @Override
    public DynamicTableSource createDynamicTableSource(Context context) {
        // Our checks before Flink's: ours name the option and the value, while Flink's check of an
        // enum option names neither in its root cause.
        Configuration config = Configuration.fromMap(context.getCatalogTable().getOptions());
        TiKVSourceConfig checked = new TiKVSourceConfig(config, HandleRange.ALL, false);
        FactoryUtil.createTableFactoryHelper(this, context).validateExcept("sink.");
        ResolvedSchema schema = context.getCatalogTable().getResolvedSchema();
        if (checked.upsert() && !schema.getPrimaryKey().isPresent()) {
            throw new IllegalArgumentException(
                    "option '"
                            + TiKVSourceOptions.CHANGELOG_MODE.key()
                            + "' = 'upsert' needs a PRIMARY KEY on table "
                            + context.getObjectIdentifier().asSummaryString());
        }
        checkSchema(checked, (RowType) schema.toPhysicalRowDataType().getLogicalType());
        return new TiKVDynamicTableSource(
                config,
                schema.toPhysicalRowDataType(),
                integerKey(schema).orElse(null),
                checkpointing(context.getConfiguration()),
                lookupCache(config));
    }

    /**
     * Refuses, at planning, a table TiDB lacks and a Flink column TiDB's tables (each table the
     * name matches) lack or that cannot hold every value of its TiDB column.
     */
    private static void checkSchema(TiKVSourceConfig config, RowType rowType) {
        try (TxnClient c =
                TiKVOptions.connecting(
                        () ->
                                TxnClient.open(
                                        config.tiConfiguration(),
                                        TiKVOptions.unavailableTimeout(config.options()),
                                        0))) {
            for (CapturedTable t :
                    SplitPlanner.tables(
                            c.session(), c.timestamp(), config.database(), config.table())) {
                RowConverter.checkRead(t.qualifiedName(), t.info(), rowType);
            }
        }
    }

    /** The lookups' cache of {@code lookup.cache} = 'PARTIAL', else null. */
    private static LookupCache lookupCache(Configuration config) {
        LookupOptions.LookupCacheType type =
                TiKVOptions.enumValue(
                        config, LookupOptions.CACHE_TYPE, LookupOptions.LookupCacheType.class);
        switch (type) {
            case NONE:
                return null;
            case PARTIAL:
                return DefaultLookupCache.fromConfig(config);
            default:
                throw new IllegalArgumentException(
                        "option '"
                                + LookupOptions.CACHE_TYPE.key()
                                + "' has '"
                                + type
                                + "'; a TiKV table takes NONE or PARTIAL");
        }
    }

    /** The primary key's column, if it is a single integer column. */
    private static Optional<String> integerKey(ResolvedSchema schema) {
        Optional<UniqueConstraint> pk = schema.getPrimaryKey();
        if (!pk.isPresent() || pk.get().getColumns().size() != 1) {
            return Optional.empty();
        }
        String name = pk.get().getColumns().get(0);
        LogicalTypeRoot root =
                schema.getColumn(name).get().getDataType().getLogicalType().getTypeRoot();
        return List.of(
                                LogicalTypeRoot.TINYINT,
                                LogicalTypeRoot.SMALLINT,
                                LogicalTypeRoot.INTEGER,
                                LogicalTypeRoot.BIGINT)
                        .contains(root)
                ? Optional.of(name)
                : Optional.empty();
    }

    /** Whether the job takes checkpoints, so the snapshot-to-stream hand-off can wait for one. */
    private static boolean checkpointing(ReadableConfig job) {
        Optional<Duration> interval =
                job.getOptional(
                        org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTING_INTERVAL);
        return interval.isPresent() && !interval.get().isZero() && !interval.get().isNegative();
    }
}
