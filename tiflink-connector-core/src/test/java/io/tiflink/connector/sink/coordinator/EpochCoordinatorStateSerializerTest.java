package io.tiflink.connector.sink.coordinator;

import io.tiflink.connector.testutils.SerializerSnapshots;

import org.apache.flink.core.memory.DataOutputSerializer;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.SortedMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link EpochCoordinatorState}: the sink coordinator's state comes back as it was, in the bytes
 * the coordinator has always checkpointed (its version first), and the checked-in samples (see
 * {@link SerializerSnapshots}) still read.
 */
class EpochCoordinatorStateSerializerTest {
    private static final EpochCoordinatorState.Serializer SERIALIZER =
            new EpochCoordinatorState.Serializer();

    /** A sink restored twice, from savepoints of two earlier runs. */
    static EpochCoordinatorState sample() {
        return new EpochCoordinatorState(
                List.of(
                        "0f8e2c4a-55d1-4b7e-a3c9-6d2b1e7f9a80",
                        "5b1d7c1e-0a57-4f7f-9e1c-2f3b9a6d4c21",
                        "c3a0e9d2-7f4b-4a8e-b6d1-9e2f1a0c5b73"));
    }

    @Test
    void roundTrips() throws IOException {
        assertThat(SerializerSnapshots.roundTrip(SERIALIZER, sample())).isEqualTo(sample());
        EpochCoordinatorState none = new EpochCoordinatorState(List.of());
        assertThat(EpochCoordinatorState.fromBytes(none.toBytes())).isEqualTo(none);
    }

    /** The coordinator's bytes: version 1, the number of ids, each id as modified UTF-8. */
    @Test
    void checkpointsTheVersionThenTheIds() throws IOException {
        DataOutputSerializer expected = new DataOutputSerializer(64);
        expected.writeInt(1);
        expected.writeInt(sample().sinkIds().size());
        for (String id : sample().sinkIds()) {
            expected.writeUTF(id);
        }
        assertThat(sample().toBytes()).isEqualTo(expected.getCopyOfBuffer());
        assertThat(EpochCoordinatorState.fromBytes(expected.getCopyOfBuffer())).isEqualTo(sample());
    }

    @Test
    void readsTheSamplesOfEveryVersion() throws IOException {
        SortedMap<Integer, EpochCoordinatorState> restored =
                SerializerSnapshots.restoreAll("tikv-sink-coordinator-state", SERIALIZER, sample());
        assertThat(restored).containsOnlyKeys(1);
        assertThat(restored.get(1)).isEqualTo(sample());
    }

    @Test
    void refusesUnknownVersions() throws IOException {
        SerializerSnapshots.assertRefusesVersion(
                SERIALIZER, sample(), 2, "unknown TiKV sink coordinator state version 2");
    }
}
