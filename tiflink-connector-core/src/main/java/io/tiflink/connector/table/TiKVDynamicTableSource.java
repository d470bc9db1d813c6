package io.tiflink.connector.table;

import io.tiflink.connector.TiKVOptions;
import io.tiflink.connector.lookup.LookupReader;
import io.tiflink.connector.lookup.TiKVLookupOptions;
import io.tiflink.connector.lookup.TiKVRowDataAsyncLookupFunction;
import io.tiflink.connector.lookup.TiKVRowDataLookupFunction;
import io.tiflink.connector.source.HandleRange;
import io.tiflink.connector.source.StartupMode;
import io.tiflink.connector.source.TiKVSource;
import io.tiflink.connector.source.TiKVSourceConfig;
import io.tiflink.connector.source.TiKVSourceOptions;
import io.tiflink.connector.table.RowDataDeserializationSchema.ReadableMetadata;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.Projection;
import org.apache.flink.table.connector.ProviderContext;
import org.apache.flink.table.connector.source.DataStreamScanProvider;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.connector.source.LookupTableSource;
import org.apache.flink.table.connector.source.ScanTableSource;
import org.apache.flink.table.connector.source.SourceProvider;
import org.apache.flink.table.connector.source.abilities.SupportsFilterPushDown;
import org.apache.flink.table.connector.source.abilities.SupportsProjectionPushDown;
import org.apache.flink.table.connector.source.abilities.SupportsReadingMetadata;
import org.apache.flink.table.connector.source.lookup.AsyncLookupFunctionProvider;
import org.apache.flink.table.connector.source.lookup.LookupFunctionProvider;
import org.apache.flink.table.connector.source.lookup.LookupOptions;
import org.apache.flink.table.connector.source.lookup.PartialCachingAsyncLookupProvider;
import org.apache.flink.table.connector.source.lookup.PartialCachingLookupProvider;
import org.apache.flink.table.connector.source.lookup.cache.LookupCache;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.expressions.ResolvedExpression;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.types.RowKind;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code 'connector' = 'tikv'} as a scan source: the TiKV source producing a changelog of {@link
 * RowData}, with projection, metadata columns and primary-key range filters pushed down; and as a
 * lookup source (docs/lookup.md): rows read from TiKV by key at a fresh TSO.
 */
final class TiKVDynamicTableSource
        implements ScanTableSource,
                LookupTableSource,
                SupportsProjectionPushDown,
                SupportsReadingMetadata,
                SupportsFilterPushDown {
    private final Configuration options;
    private final String primaryKey;
    private final boolean handOffAfterCheckpoint;
    private DataType physicalType;
    private List<ReadableMetadata> metadata = new ArrayList<>();
    private DataType producedType;
    private HandleRange handles = HandleRange.ALL;

    /** The lookups' cache, null for none. */
    private final LookupCache cache;

    /**
     * @param primaryKey the declared primary key's column when it is a single integer column (its
     *     range filters narrow the scan if TiDB keys rows by it), else null
     */
    public TiKVDynamicTableSource(
            Configuration options,
            DataType physicalType,
            String primaryKey,
            boolean handOffAfterCheckpoint,
            LookupCache cache) {
        this.options = options;
        this.cache = cache;
        this.physicalType = physicalType;
        this.producedType = physicalType;
        this.primaryKey = primaryKey;
        this.handOffAfterCheckpoint = handOffAfterCheckpoint;
    }

    private TiKVSourceConfig config() {
        return new TiKVSourceConfig(options, handles, handOffAfterCheckpoint);
    }

    @Override
    public ChangelogMode getChangelogMode() {
        TiKVSourceConfig config = config();
        if (config.startupMode() == StartupMode.SNAPSHOT) {
            return ChangelogMode.insertOnly();
        }
        ChangelogMode.Builder b =
                ChangelogMode.newBuilder()
                        .addContainedKind(RowKind.INSERT)
                        .addContainedKind(RowKind.UPDATE_AFTER)
                        .addContainedKind(RowKind.DELETE);
        if (!config.upsert()) {
            b.addContainedKind(RowKind.UPDATE_BEFORE);
        }
        return b.build();
    }

    @Override
    public ScanRuntimeProvider getScanRuntimeProvider(ScanContext context) {
        TiKVSourceConfig config = config();
        RowDataDeserializationSchema deserializer =
                new RowDataDeserializationSchema(
                        (RowType) physicalType.getLogicalType(),
                        metadata,
                        config.upsert(),
                        context.createTypeInformation(producedType));
        TiKVSource<RowData> source =
                TiKVSource.<RowData>builder()
                        .options(options.toMap())
                        .handles(handles)
                        .handOffAfterCheckpoint(handOffAfterCheckpoint)
                        .deserializer(deserializer)
                        .build();
        if (!config.consistent()) {
            return SourceProvider.of(source);
        }
        // With its cut operator chained to it.
        return new DataStreamScanProvider() {
            @Override
            public DataStream<RowData> produceDataStream(
                    ProviderContext provider, StreamExecutionEnvironment env) {
                return source.stream(
                        env,
                        asSummaryString(),
                        provider.generateUid("source").orElse(null),
                        provider.generateUid("cuts").orElse(null));
            }

            @Override
            public boolean isBounded() {
                return false;
            }
        };
    }

    @Override
    public LookupRuntimeProvider getLookupRuntimeProvider(LookupContext context) {
        if (!metadata.isEmpty()) {
            throw new IllegalArgumentException(
                    "a lookup on a TiKV table reads no metadata column, but the query reads "
                            + metadata.get(0).key());
        }
        RowType rowType = (RowType) physicalType.getLogicalType();
        List<RowType.RowField> keyFields = new ArrayList<>();
        for (int[] key : context.getKeys()) {
            if (key.length != 1) {
                throw new IllegalArgumentException(
                        "a lookup on a TiKV table takes top-level columns as keys, not nested"
                                + " fields");
            }
            keyFields.add(rowType.getFields().get(key[0]));
        }
        RowType keyType = new RowType(keyFields);
        String database = TiKVOptions.required(options, TiKVSourceOptions.DATABASE_NAME);
        String table = TiKVOptions.required(options, TiKVSourceOptions.TABLE_NAME);
        // Refused here, at planning, when no index serves the lookup.
        LookupReader.plan(options.toMap(), database, table, keyType.getFieldNames());
        LookupReader reader =
                new LookupReader(
                        options.toMap(),
                        database,
                        table,
                        keyType,
                        rowType,
                        options.get(LookupOptions.MAX_RETRIES));
        if (options.get(TiKVLookupOptions.ASYNC)) {
            TiKVRowDataAsyncLookupFunction f =
                    new TiKVRowDataAsyncLookupFunction(
                            reader,
                            (int)
                                    TiKVOptions.positive(
                                            TiKVLookupOptions.ASYNC_MAX_CONCURRENT_REQUESTS,
                                            options.get(
                                                    TiKVLookupOptions
                                                            .ASYNC_MAX_CONCURRENT_REQUESTS)));
            return cache == null
                    ? AsyncLookupFunctionProvider.of(f)
                    : PartialCachingAsyncLookupProvider.of(f, cache);
        }
        TiKVRowDataLookupFunction f = new TiKVRowDataLookupFunction(reader);
        return cache == null
                ? LookupFunctionProvider.of(f)
                : PartialCachingLookupProvider.of(f, cache);
    }

    @Override
    public boolean supportsNestedProjection() {
        return false;
    }

    @Override
    public void applyProjection(int[][] projectedFields, DataType producedDataType) {
        this.physicalType = Projection.of(projectedFields).project(physicalType);
        this.producedType = producedDataType;
    }

    @Override
    public Map<String, DataType> listReadableMetadata() {
        Map<String, DataType> m = new LinkedHashMap<>();
        for (ReadableMetadata r : ReadableMetadata.values()) {
            m.put(r.key(), r.type);
        }
        return m;
    }

    @Override
    public void applyReadableMetadata(List<String> keys, DataType producedDataType) {
        List<ReadableMetadata> m = new ArrayList<>();
        for (String k : keys) {
            m.add(ReadableMetadata.of(k));
        }
        this.metadata = m;
        this.producedType = producedDataType;
    }

    @Override
    public Result applyFilters(List<ResolvedExpression> filters) {
        if (primaryKey != null) {
            handles = KeyRangeFilters.handleRange(primaryKey, filters);
        }
        // Flink still applies every filter: the range only spares reading rows it would drop.
        return Result.of(new ArrayList<>(), filters);
    }

    @Override
    public DynamicTableSource copy() {
        TiKVDynamicTableSource copy =
                new TiKVDynamicTableSource(
                        options, physicalType, primaryKey, handOffAfterCheckpoint, cache);
        copy.metadata = new ArrayList<>(metadata);
        copy.producedType = producedType;
        copy.handles = handles;
        return copy;
    }

    @Override
    public String asSummaryString() {
        return "TiKV";
    }
}
