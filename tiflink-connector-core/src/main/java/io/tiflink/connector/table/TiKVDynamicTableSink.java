package io.tiflink.connector.table;

import io.tiflink.connector.TiKVOptions;
import io.tiflink.connector.sink.TiKVSink;
import io.tiflink.connector.sink.TiKVSinkOptions;
import io.tiflink.connector.source.TiKVSource;

import org.apache.flink.api.dag.Transformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamSink;
import org.apache.flink.streaming.api.transformations.SourceTransformation;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.ProviderContext;
import org.apache.flink.table.connector.sink.DataStreamSinkProvider;
import org.apache.flink.table.connector.sink.DynamicTableSink;
import org.apache.flink.table.connector.sink.SinkV2Provider;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.types.RowKind;

import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code 'connector' = 'tikv'} as a sink: upserts and deletes by primary key, or appends for a
 * table without one, through the {@link TiKVSink}.
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
                        .serializer(new RowDataSerializationSchema(rowType, primaryKey))
                        .build();
        if (!sink.config().consistent()) {
            return SinkV2Provider.of(sink, parallelism);
        }
        // As SinkV2Provider, after checking where the rows come from.
        return new DataStreamSinkProvider() {
            @Override
            public DataStreamSink<?> consumeDataStream(
                    ProviderContext provider, DataStream<RowData> rows) {
                refuseInconsistentSources(rows.getTransformation(), new HashSet<>());
                DataStreamSink<RowData> written = rows.sinkTo(sink);
                provider.generateUid("sink").ifPresent(written::uid);
                if (parallelism != null) {
                    written.setParallelism(parallelism);
                }
                return written;
            }

            @Override
            public Optional<Integer> getParallelism() {
                return Optional.ofNullable(parallelism);
            }
        };
    }

    /**
     * A consistent sink's rows must all come from consistent TiKV sources: any other source's rows
     * are as of no cut. Refused at planning, naming the source.
     */
    private void refuseInconsistentSources(Transformation<?> t, Set<Transformation<?>> seen) {
        if (!seen.add(t)) {
            return;
        }
        if (t.getInputs().isEmpty()) {
            boolean consistent =
                    t instanceof SourceTransformation
                            && ((SourceTransformation<?, ?, ?>) t).getSource() instanceof TiKVSource
                            && ((TiKVSource<?>) ((SourceTransformation<?, ?, ?>) t).getSource())
                                    .config()
                                    .consistent();
            if (!consistent) {
                throw new ValidationException(
                        "TiKV sink into "
                                + options.get(TiKVSinkOptions.DATABASE_NAME)
                                + "."
                                + options.get(TiKVSinkOptions.TABLE_NAME)
                                + " has '"
                                + TiKVOptions.CONSISTENCY.key()
                                + "' = 'snapshot', but its rows come from source '"
                                + t.getName()
                                + "', which is not a TiKV source with that option: its rows"
                                + " would be as of no source snapshot");
            }
        }
        for (Transformation<?> input : t.getInputs()) {
            refuseInconsistentSources(input, seen);
        }
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
