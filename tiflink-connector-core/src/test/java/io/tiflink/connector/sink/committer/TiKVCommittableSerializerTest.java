package io.tiflink.connector.sink.committer;

import io.tiflink.connector.testutils.SerializerSnapshots;

import org.apache.flink.util.StringUtils;

import org.assertj.core.api.recursive.comparison.RecursiveComparisonConfiguration;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SortedMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link TiKVCommittable.Serializer}: committables come back as they were, and the checked-in
 * samples (see {@link SerializerSnapshots}) still read.
 */
class TiKVCommittableSerializerTest {
    private static final TiKVCommittable.Serializer SERIALIZER = new TiKVCommittable.Serializer();

    private static final RecursiveComparisonConfiguration COMPARISON =
            RecursiveComparisonConfiguration.builder().withStrictTypeChecking(true).build();

    /**
     * A subtask's part in an epoch, with keys prewritten and changes carried. The carried bytes are
     * opaque to this serializer (their encoding, ChangeCodec's, has samples of its own in
     * TiKVWriterStateSerializerTest).
     */
    static TiKVCommittable sample() {
        return new TiKVCommittable(
                42,
                449_567_134_817_779_713L,
                "TiFlink/sink/0f8e2c4a-55d1-4b7e-a3c9-6d2b1e7f9a80/00000000000000000042"
                        .getBytes(StandardCharsets.UTF_8),
                hex("7480000000000000655f728000000000000001"),
                hex("7480000000000000655f69800000000000000101ff"),
                7,
                hex("00000001000000020100000002"));
    }

    @Test
    void roundTrips() throws IOException {
        SerializerSnapshots.assertRoundTrips(SERIALIZER, sample(), COMPARISON);
    }

    /**
     * An epoch that never opened (start ts 0), no keys, nothing carried; and the largest values.
     */
    @Test
    void roundTripsEdgeCases() throws IOException {
        byte[] none = new byte[0];
        SerializerSnapshots.assertRoundTrips(
                SERIALIZER, new TiKVCommittable(0, 0, none, none, none, 0, none), COMPARISON);
        byte[] large = new byte[200_000];
        Arrays.fill(large, (byte) 0xff);
        SerializerSnapshots.assertRoundTrips(
                SERIALIZER,
                new TiKVCommittable(
                        Long.MAX_VALUE,
                        Long.MAX_VALUE,
                        new byte[] {(byte) 0xff},
                        none,
                        none,
                        Integer.MAX_VALUE,
                        large),
                COMPARISON);
    }

    @Test
    void readsTheSamplesOfEveryVersion() throws IOException {
        SortedMap<Integer, TiKVCommittable> restored =
                SerializerSnapshots.restoreAll("tikv-committable", SERIALIZER, sample());
        assertThat(restored).containsOnlyKeys(1);
        assertThat(restored.get(1)).usingRecursiveComparison(COMPARISON).isEqualTo(sample());
    }

    @Test
    void refusesUnknownVersions() throws IOException {
        SerializerSnapshots.assertRefusesVersion(
                SERIALIZER, sample(), 2, "unknown TiKV committable version 2");
    }

    private static byte[] hex(String hex) {
        return StringUtils.hexStringToByte(hex);
    }
}
