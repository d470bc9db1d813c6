package io.tiflink.connector.source.enumerator;

import io.tiflink.connector.source.split.SplitSamples;
import io.tiflink.connector.testutils.SerializerSnapshots;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link TiKVEnumeratorStateSerializer}: the enumerator's state comes back as it was, and its
 * checked-in samples (see {@link SerializerSnapshots}) still read.
 */
class TiKVEnumeratorStateSerializerTest {
    private static final TiKVEnumeratorStateSerializer SERIALIZER =
            new TiKVEnumeratorStateSerializer();

    /** A state with every field set: splits of two tables, of both kinds. */
    static TiKVEnumeratorState sample() {
        return new TiKVEnumeratorState(
                449_567_134_817_779_713L,
                "tiflink-source-6f1c2a9e-1d7b-4c1e-9a53-0b8f2e6d4c17",
                List.of(SplitSamples.snapshotSplit(), SplitSamples.freshSnapshotSplit()),
                Set.of("snapshot-105-1", "snapshot-105-0", "snapshot-\u00e9t\u00e9-\uD83D\uDE80"),
                List.of(SplitSamples.streamSplit(), SplitSamples.emptyStreamSplit()),
                true,
                Map.of("stream-101", 449_567_200_000_000_000L, "stream-205", Long.MAX_VALUE));
    }

    @Test
    void roundTrips() throws IOException {
        assertRoundTrips(sample());
    }

    @Test
    void roundTripsAnEmptyState() throws IOException {
        assertRoundTrips(
                new TiKVEnumeratorState(0, "", List.of(), Set.of(), List.of(), false, Map.of()));
    }

    @Test
    void readsTheSamplesOfEveryVersion() throws IOException {
        SortedMap<Integer, TiKVEnumeratorState> restored =
                SerializerSnapshots.restoreAll("tikv-enumerator-state", SERIALIZER, sample());
        assertThat(restored).containsOnlyKeys(1);
        assertThat(restored.get(1))
                .usingRecursiveComparison(SplitSamples.COMPARISON)
                .isEqualTo(sample());
    }

    @Test
    void refusesUnknownVersions() throws IOException {
        SerializerSnapshots.assertRefusesVersion(
                SERIALIZER, sample(), 2, "unknown TiKV enumerator state version 2");
    }

    private static void assertRoundTrips(TiKVEnumeratorState state) throws IOException {
        SerializerSnapshots.assertRoundTrips(SERIALIZER, state, SplitSamples.COMPARISON);
    }
}
