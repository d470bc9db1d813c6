package io.tiflink.connector.source.reader;

import io.tiflink.cdc.client.KeyChange;
import io.tiflink.connector.source.TiDBChange;
import io.tiflink.connector.source.TiKVDeserializationSchema;
import io.tiflink.connector.source.split.SplitSamples;
import io.tiflink.connector.source.split.StreamSplit;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.util.Collector;
import org.apache.flink.util.StringUtils;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class TiKVRecordEmitterTest {
    @Test
    void aSkippedChangeIsNotEmittedButMovesTheStreamPosition() throws Exception {
        TiKVSplitState state = new TiKVSplitState(SplitSamples.streamSplit());
        TiKVRecordEmitter<String> emitter =
                new TiKVRecordEmitter<>(
                        new NoChangeExpected(),
                        false,
                        Set.of(1L),
                        new TiKVSourceReaderMetrics(
                                UnregisteredMetricsGroup.createSourceReaderMetricGroup()));
        // A row of the split's table 101, by a transaction marked 1 (a lossy-DDL bit beside it).
        byte[] key = StringUtils.hexStringToByte("7480000000000000655f72800000000000002b");
        long commitTs = SplitSamples.streamSplit().lastCommitTs() + 2;
        KeyChange marked =
                new KeyChange(
                        key,
                        new byte[] {1},
                        new byte[0],
                        KeyChange.Op.PUT,
                        commitTs - 1,
                        commitTs,
                        1 | 1 << 8);

        emitter.emitRecord(TiKVRecord.change(marked), null, state);

        // A restore resumes after it, not before.
        StreamSplit checkpointed = state.toSplit().asStream();
        assertThat(checkpointed.lastCommitTs()).isEqualTo(commitTs);
        assertThat(checkpointed.lastKey()).isEqualTo(key);
    }

    private static final class NoChangeExpected implements TiKVDeserializationSchema<String> {
        @Override
        public void deserialize(TiDBChange change, Collector<String> out) {
            throw new AssertionError("emitted " + change);
        }

        @Override
        public TypeInformation<String> getProducedType() {
            return Types.STRING;
        }
    }
}
