package io.tiflink.connector.table;

import io.tiflink.connector.TiKVOptions;
import io.tiflink.connector.sink.TiKVSinkConfig;
import io.tiflink.connector.sink.TiKVSinkOptions;
import io.tiflink.tidb.write.TargetTable;
import io.tiflink.tikv.txn.TxnClient;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.catalog.UniqueConstraint;
import org.apache.flink.table.connector.sink.DynamicTableSink;
import org.apache.flink.table.factories.DynamicTableSinkFactory;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.types.logical.RowType;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code 'connector' = 'tikv'} as a sink (the same identifier as {@link
 * TiKVDynamicTableSourceFactory}: Flink looks source and sink factories up by type). Options of the
 * source ({@code scan.*}, {@code changelog-mode}) are ignored, so one table can be read and
 * written.
 */
@PublicEvolving
public final class TiKVDynamicTableSinkFactory implements DynamicTableSinkFactory {
    @Override
    public String factoryIdentifier() {
        return TiKVDynamicTableSourceFactory.IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        Set<ConfigOption<?>> o = new HashSet<>();
        o.add(TiKVOptions.PD_ADDRESSES);
        o.add(TiKVSinkOptions.DATABASE_NAME);
        o.add(TiKVSinkOptions.TABLE_NAME);
        return o;
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        Set<ConfigOption<?>> o = new HashSet<>(TiKVOptions.optional());
        o.add(TiKVSinkOptions.DELIVERY_GUARANTEE);
        o.add(TiKVSinkOptions.BUFFER_FLUSH_MAX_ROWS);
        o.add(TiKVSinkOptions.BUFFER_FLUSH_MAX_SIZE);
        o.add(TiKVSinkOptions.BUFFER_FLUSH_INTERVAL);
        o.add(TiKVSinkOptions.LOCK_TTL);
        o.add(TiKVSinkOptions.EPOCH_TIMEOUT);
        o.add(TiKVSinkOptions.MAX_RETRIES);
        o.add(TiKVSinkOptions.TXN_SOURCE);
        o.add(TiKVSinkOptions.PROGRESS_TABLE);
        o.add(TiKVOptions.CONSISTENCY);
        o.add(FactoryUtil.SINK_PARALLELISM);
        return o;
    }

    @Override
    public DynamicTableSink createDynamicTableSink(Context context) {
        // Our checks first: their messages name the option and the value (Flink's own check of
        // an enum option names neither in its root cause).
        Configuration options = Configuration.fromMap(context.getCatalogTable().getOptions());
        TiKVSinkConfig config = new TiKVSinkConfig(options, "validation");
        FactoryUtil.TableFactoryHelper helper = FactoryUtil.createTableFactoryHelper(this, context);
        helper.validateExcept("scan.", "lookup.", "changelog-mode");
        if (config.exactlyOnce()) {
            checkExactlyOnceRuns(context.getConfiguration(), config.deliveryGuaranteeKey());
        }
        if (config.consistent()) {
            checkAlignedCheckpoints(context.getConfiguration());
        }
        ResolvedSchema schema = context.getCatalogTable().getResolvedSchema();
        List<String> primaryKey =
                schema.getPrimaryKey().map(UniqueConstraint::getColumns).orElse(List.of());
        RowType rowType = (RowType) schema.toPhysicalRowDataType().getLogicalType();
        checkSchema(config, new RowDataSerializationSchema(rowType, primaryKey));
        return new TiKVDynamicTableSink(
                options,
                rowType,
                primaryKey,
                helper.getOptions().getOptional(FactoryUtil.SINK_PARALLELISM).orElse(null));
    }

    /**
     * Refuses, at planning, what no row could be written through: a table the sink cannot write, a
     * Flink column the table lacks, a type that does not convert, a different primary key. Values
     * are checked per row, as TiDB checks an INSERT (a STRING into a varchar(64) is fine until a
     * value is too long).
     */
    private static void checkSchema(TiKVSinkConfig config, RowDataSerializationSchema serializer) {
        try (TxnClient c = config.openTxnClient()) {
            TargetTable table =
                    TargetTable.load(c.session(), c.timestamp(), config.database(), config.table());
            serializer.open(table.name(), table.info());
        }
    }

    /**
     * Cuts travel with the barriers: an unaligned checkpoint lets rows after a barrier overtake it,
     * and an epoch would hold rows of two cuts.
     */
    private static void checkAlignedCheckpoints(ReadableConfig job) {
        if (job.get(UNALIGNED_CHECKPOINTS)) {
            throw new IllegalArgumentException(
                    "option '"
                            + TiKVOptions.CONSISTENCY.key()
                            + "' = 'snapshot' needs aligned checkpoints; unset '"
                            + UNALIGNED_CHECKPOINTS.key()
                            + "'");
        }
    }

    /** Flink's key, in its 1.x and 2.x option classes alike. */
    private static final ConfigOption<Boolean> UNALIGNED_CHECKPOINTS =
            ConfigOptions.key("execution.checkpointing.unaligned.enabled")
                    .booleanType()
                    .defaultValue(false);

    /** Exactly-once commits at checkpoints: a job without them would never commit. */
    private static void checkExactlyOnceRuns(ReadableConfig job, String key) {
        if (job.get(ExecutionOptions.RUNTIME_MODE) == RuntimeExecutionMode.BATCH) {
            throw new IllegalArgumentException(
                    "option '"
                            + key
                            + "' = '"
                            + DeliveryGuarantee.EXACTLY_ONCE
                            + "' needs streaming mode with checkpoints; in batch mode use '"
                            + DeliveryGuarantee.AT_LEAST_ONCE
                            + "'");
        }
        Optional<Duration> interval = job.getOptional(CheckpointingOptions.CHECKPOINTING_INTERVAL);
        if (!interval.isPresent() || interval.get().isZero() || interval.get().isNegative()) {
            throw new IllegalArgumentException(
                    "option '"
                            + key
                            + "' = '"
                            + DeliveryGuarantee.EXACTLY_ONCE
                            + "' commits at checkpoints: enable checkpointing"
                            + " ('execution.checkpointing.interval'), or use '"
                            + DeliveryGuarantee.AT_LEAST_ONCE
                            + "'");
        }
    }
}
