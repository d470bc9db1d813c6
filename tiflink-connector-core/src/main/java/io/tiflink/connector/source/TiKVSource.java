package io.tiflink.connector.source;

import io.tiflink.connector.TiKVOptions;
import io.tiflink.connector.consistency.CutAligner;
import io.tiflink.connector.source.enumerator.TiKVEnumeratorState;
import io.tiflink.connector.source.enumerator.TiKVEnumeratorStateSerializer;
import io.tiflink.connector.source.enumerator.TiKVSourceEnumerator;
import io.tiflink.connector.source.reader.TiKVSourceReader;
import io.tiflink.connector.source.split.TiKVSplit;
import io.tiflink.connector.source.split.TiKVSplitSerializer;

import org.apache.flink.annotation.Internal;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamSource;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import javax.annotation.Nullable;

/**
 * A Flink source of TiDB tables read straight from TiKV: a consistent snapshot at one TSO, then
 * every change committed after it from TiKV's CDC service, exactly once through failures. Built
 * with {@link #builder()}.
 */
@PublicEvolving
public final class TiKVSource<T>
        implements Source<T, TiKVSplit, TiKVEnumeratorState>, ResultTypeQueryable<T> {
    private static final long serialVersionUID = 1L;

    private final TiKVSourceConfig config;
    private final TiKVDeserializationSchema<T> deserializer;

    TiKVSource(TiKVSourceConfig config, TiKVDeserializationSchema<T> deserializer) {
        this.config = config;
        this.deserializer = deserializer;
    }

    /**
     * Adds this source to {@code env}. With {@link TiKVOptions#CONSISTENCY} {@code snapshot} its
     * changes go through the cut operator chained to it (which {@code env.fromSource} alone would
     * miss), named {@code name + " cuts"} with uid {@code uid + "-cuts"}.
     *
     * @param uid the source's operator uid (its state's name in savepoints)
     */
    public DataStream<T> stream(StreamExecutionEnvironment env, String name, String uid) {
        return stream(env, name, uid, uid + "-cuts");
    }

    /** As {@link #stream(StreamExecutionEnvironment, String, String)}, uids null for Flink's. */
    @Internal
    public DataStream<T> stream(
            StreamExecutionEnvironment env,
            String name,
            @Nullable String sourceUid,
            @Nullable String cutsUid) {
        DataStreamSource<T> source = env.fromSource(this, WatermarkStrategy.noWatermarks(), name);
        if (sourceUid != null) {
            source.uid(sourceUid);
        }
        if (!config.consistent()) {
            return source;
        }
        SingleOutputStreamOperator<T> cuts =
                source.transform(name + " cuts", getProducedType(), new CutAligner.Factory<T>())
                        .setParallelism(source.getParallelism());
        return cutsUid == null ? cuts : cuts.uid(cutsUid);
    }

    public static <T> TiKVSourceBuilder<T> builder() {
        return new TiKVSourceBuilder<>();
    }

    @Override
    public Boundedness getBoundedness() {
        return config.startupMode() == StartupMode.SNAPSHOT
                ? Boundedness.BOUNDED
                : Boundedness.CONTINUOUS_UNBOUNDED;
    }

    @Override
    public SourceReader<T, TiKVSplit> createReader(SourceReaderContext context) throws Exception {
        deserializer.open();
        return new TiKVSourceReader<>(config, deserializer, context);
    }

    @Override
    public SplitEnumerator<TiKVSplit, TiKVEnumeratorState> createEnumerator(
            SplitEnumeratorContext<TiKVSplit> context) {
        return new TiKVSourceEnumerator(context, config, null);
    }

    @Override
    public SplitEnumerator<TiKVSplit, TiKVEnumeratorState> restoreEnumerator(
            SplitEnumeratorContext<TiKVSplit> context, TiKVEnumeratorState state) {
        return new TiKVSourceEnumerator(context, config, state);
    }

    @Override
    public SimpleVersionedSerializer<TiKVSplit> getSplitSerializer() {
        return TiKVSplitSerializer.INSTANCE;
    }

    @Override
    public SimpleVersionedSerializer<TiKVEnumeratorState> getEnumeratorCheckpointSerializer() {
        return new TiKVEnumeratorStateSerializer();
    }

    @Override
    public TypeInformation<T> getProducedType() {
        return deserializer.getProducedType();
    }

    public TiKVSourceConfig config() {
        return config;
    }
}
