package io.tiflink.connector.sink;

import io.tiflink.connector.consistency.ConsistentInputs;
import io.tiflink.connector.sink.committer.TiKVCommittable;
import io.tiflink.connector.sink.committer.TiKVCommitter;
import io.tiflink.connector.sink.coordinator.EpochCoordinatorOperator;
import io.tiflink.connector.sink.writer.TiKVWriter;
import io.tiflink.connector.sink.writer.TiKVWriterState;

import org.apache.flink.annotation.Internal;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.SupportsWriterState;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.streaming.api.connector.sink2.CommittableMessage;
import org.apache.flink.streaming.api.connector.sink2.SupportsPostCommitTopology;
import org.apache.flink.streaming.api.connector.sink2.SupportsPreWriteTopology;
import org.apache.flink.streaming.api.datastream.DataStream;

import java.io.IOException;
import java.util.Collection;
import java.util.List;

/**
 * A Flink sink writing rows into a TiDB table straight to TiKV, as TiDB would write them (the
 * record and every index entry, unique keys checked), exactly once: the rows between two
 * checkpoints are one Percolator transaction across all subtasks, committed when the checkpoint
 * completes. Built with {@link #builder()}.
 */
@PublicEvolving
public final class TiKVSink<IN> extends SinkCompat<IN>
        implements SupportsCommitter<TiKVCommittable>,
                SupportsWriterState<IN, TiKVWriterState>,
                SupportsPreWriteTopology<IN>,
                SupportsPostCommitTopology<TiKVCommittable> {
    private static final long serialVersionUID = 1L;

    private final TiKVSinkConfig config;
    private final TiKVSerializationSchema<IN> serializer;

    TiKVSink(TiKVSinkConfig config, TiKVSerializationSchema<IN> serializer) {
        this.config = config;
        this.serializer = serializer;
    }

    /** The sink's settings. */
    @Internal
    public TiKVSinkConfig config() {
        return config;
    }

    public static <IN> TiKVSinkBuilder<IN> builder() {
        return new TiKVSinkBuilder<>();
    }

    @Override
    public TiKVWriter<IN> createWriter(WriterInitContext context) throws IOException {
        return TiKVWriter.create(config, serializer, context, List.of());
    }

    @Override
    public StatefulSinkWriter<IN, TiKVWriterState> restoreWriter(
            WriterInitContext context, Collection<TiKVWriterState> states) throws IOException {
        return TiKVWriter.create(config, serializer, context, states);
    }

    @Override
    public SimpleVersionedSerializer<TiKVWriterState> getWriterStateSerializer() {
        return new TiKVWriterState.Serializer();
    }

    @Override
    public Committer<TiKVCommittable> createCommitter(CommitterInitContext context) {
        return new TiKVCommitter(config);
    }

    @Override
    public SimpleVersionedSerializer<TiKVCommittable> getCommittableSerializer() {
        return new TiKVCommittable.Serializer();
    }

    /** A consistent sink refuses, when Flink builds the job, input its cuts do not cover. */
    @Override
    public DataStream<IN> addPreWriteTopology(DataStream<IN> input) {
        if (config.consistent()) {
            ConsistentInputs.require(input.getTransformation(), config.qualifiedTable());
        }
        return input;
    }

    @Override
    public void addPostCommitTopology(DataStream<CommittableMessage<TiKVCommittable>> committed) {
        if (!config.exactlyOnce()) {
            return;
        }
        // One subtask, downstream of every committer: any failover of the sink restarts it too.
        committed
                .global()
                .transform(
                        "TiKV sink coordinator: " + config.qualifiedTable(),
                        Types.VOID,
                        new EpochCoordinatorOperator.Factory<TiKVCommittable>(config))
                .setParallelism(1)
                .setMaxParallelism(1);
    }
}
