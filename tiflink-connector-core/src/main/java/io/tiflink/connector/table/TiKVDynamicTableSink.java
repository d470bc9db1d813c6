package io.tiflink.connector.table;

import io.tiflink.connector.sink.TiKVSink;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.sink.DynamicTableSink;
import org.apache.flink.table.connector.sink.SinkV2Provider;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.types.RowKind;

import java.util.Arrays;
import java.util.List;

/**
 * {@code 'connector' = 'tikv'} as a sink: upserts and deletes by primary key, or appends for a
 * table without one, through the {@link TiKVSink}. An INSERT with a column list writes those
 * columns alone: the others get their TiDB defaults in a new row and keep their values in an
 * existing one (as TiDB's {@code INSERT ... ON DUPLICATE KEY UPDATE} of the listed columns).
 */
final class TiKVDynamicTableSink implements DynamicTableSink {
    private final Configuration options;
    private final RowType rowType;
    private final List<String> primaryKey;
    private final Integer parallelism;

    public TiKVDynamicTableSink(
            Configuration options, RowType rowType, List<String> primaryKey, Integer parallelism) {
        this.options = options;
        this.rowType = rowType;
        this.primaryKey = primaryKey;
        this.parallelism = parallelism;
    }

    @Override
    public ChangelogMode getChangelogMode(ChangelogMode requested) {
        if (primaryKey.isEmpty()) {
            return ChangelogMode.insertOnly();
        }
        return ChangelogMode.newBuilder()
                .addContainedKind(RowKind.INSERT)
                .addContainedKind(RowKind.UPDATE_AFTER)
                .addContainedKind(RowKind.DELETE)
                .build();
    }

    @Override
    public SinkRuntimeProvider getSinkRuntimeProvider(Context context) {
        TiKVSink<RowData> sink =
                TiKVSink.<RowData>builder()
                        .options(options.toMap())
                        .serializer(
                                new RowDataSerializationSchema(
                                        rowType, primaryKey, targetFields(context)))
                        .build();
        return SinkV2Provider.of(sink, parallelism);
    }

    /**
     * The fields an INSERT's column list names (Flink 1.18+ and 2.x tell it in the context; the
     * planner fills the others with NULL), or null: all.
     */
    private static int[] targetFields(Context context) {
        // Nested paths do not occur: TiDB has no ROW columns.
        return context.getTargetColumns()
                .map(paths -> Arrays.stream(paths).mapToInt(p -> p[0]).distinct().toArray())
                .orElse(null);
    }

    @Override
    public DynamicTableSink copy() {
        return new TiKVDynamicTableSink(options, rowType, primaryKey, parallelism);
    }

    @Override
    public String asSummaryString() {
        return "TiKV";
    }
}
