package io.tiflink.connector.source.split;

import io.tiflink.cdc.client.KeyRange;
import io.tiflink.connector.testutils.SerializerSnapshots;
import io.tiflink.tidb.meta.CIStr;
import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.meta.FieldType;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.types.MysqlType;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.SortedMap;

import static io.tiflink.connector.source.split.SplitSamples.COMPARISON;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link TiKVSplitSerializer}: splits come back as they were, and the checked-in samples of both
 * kinds of split (see {@link SerializerSnapshots}) still read.
 */
class TiKVSplitSerializerTest {
    private static final TiKVSplitSerializer SERIALIZER = TiKVSplitSerializer.INSTANCE;

    @Test
    void roundTripsSnapshotSplits() throws IOException {
        for (SnapshotSplit split :
                List.of(
                        SplitSamples.snapshotSplit(),
                        SplitSamples.freshSnapshotSplit(),
                        SplitSamples.snapshotSplit().withLastKey(new byte[0]))) {
            assertRoundTrips(split);
        }
        SnapshotSplit restored =
                (SnapshotSplit)
                        SerializerSnapshots.roundTrip(SERIALIZER, SplitSamples.snapshotSplit());
        assertThat(restored.table().qualifiedName()).isEqualTo("shop.orders");
        assertThat(restored.table().info().columns)
                .extracting(ColumnInfo::name)
                .containsExactly("id", "customer");
    }

    @Test
    void roundTripsStreamSplits() throws IOException {
        for (StreamSplit split :
                List.of(
                        SplitSamples.streamSplit(),
                        SplitSamples.emptyStreamSplit(),
                        SplitSamples.streamSplit()
                                .at(
                                        List.of(SplitSamples.customers()),
                                        Long.MAX_VALUE,
                                        Long.MAX_VALUE,
                                        new byte[0]))) {
            assertRoundTrips(split);
        }
        StreamSplit restored =
                (StreamSplit) SerializerSnapshots.roundTrip(SERIALIZER, SplitSamples.streamSplit());
        assertThat(restored.tables())
                .extracting(CapturedTable::qualifiedName)
                .containsExactly("shop.orders", "商店 \uD83D\uDED2.客户 ☃");
    }

    /** A wide table's JSON passes 64 KiB, more than a UTF string may hold in Flink's streams. */
    @Test
    void roundTripsLargeSchemas() throws IOException {
        TableInfo wide = new TableInfo();
        wide.id = 7;
        wide.name = CIStr.of("wide");
        for (int i = 0; i < 1000; i++) {
            ColumnInfo c = new ColumnInfo();
            c.id = i + 1;
            c.name = CIStr.of("column_with_a_long_name_" + i);
            c.offset = i;
            c.type = new FieldType(MysqlType.VARCHAR);
            c.comment = "a comment that makes the column's JSON longer";
            wide.columns.add(c);
        }
        CapturedTable table = new CapturedTable("db", 1, wide);
        assertThat(table.tableJson().length).isGreaterThan(65_535);
        assertRoundTrips(
                new SnapshotSplit("wide-0", table, 7, KeyRange.all(), 1, new byte[] {1, 2, 3}));
    }

    @Test
    void readsTheSamplesOfEveryVersion() throws IOException {
        assertReadsSamples("tikv-split-snapshot", SplitSamples.snapshotSplit());
        assertReadsSamples("tikv-split-stream", SplitSamples.streamSplit());
    }

    @Test
    void refusesUnknownVersions() throws IOException {
        SerializerSnapshots.assertRefusesVersion(
                SERIALIZER, SplitSamples.streamSplit(), 2, "unknown TiKV split version 2");
        SerializerSnapshots.assertRefusesVersion(
                SERIALIZER, SplitSamples.streamSplit(), 0, "unknown TiKV split version 0");
    }

    @Test
    void refusesUnknownKindsOfSplit() throws IOException {
        byte[] bytes = SERIALIZER.serialize(SplitSamples.emptyStreamSplit());
        // After the split id, a UTF string: its length in two bytes, then its bytes.
        bytes[2 + "stream-empty".length()] = 9;
        assertThatThrownBy(() -> SERIALIZER.deserialize(SERIALIZER.getVersion(), bytes))
                .isInstanceOf(IOException.class)
                .hasMessage("unknown TiKV split kind 9");
    }

    /** Every version's sample reads back as the split it was written from (version 1 so far). */
    private static void assertReadsSamples(String sample, TiKVSplit split) throws IOException {
        SortedMap<Integer, TiKVSplit> restored =
                SerializerSnapshots.restoreAll(sample, SERIALIZER, split);
        assertThat(restored).containsOnlyKeys(1);
        assertThat(restored.get(1)).usingRecursiveComparison(COMPARISON).isEqualTo(split);
    }

    private static void assertRoundTrips(TiKVSplit split) throws IOException {
        SerializerSnapshots.assertRoundTrips(SERIALIZER, split, COMPARISON);
    }
}
