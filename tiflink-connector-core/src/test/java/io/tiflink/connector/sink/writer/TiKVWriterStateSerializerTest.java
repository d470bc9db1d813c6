package io.tiflink.connector.sink.writer;

import io.tiflink.connector.testutils.SerializerSnapshots;
import io.tiflink.tidb.meta.CIStr;
import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.meta.FieldType;
import io.tiflink.tidb.meta.MetaJson;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.schema.SchemaFile;
import io.tiflink.tidb.types.MysqlType;
import io.tiflink.tidb.write.RowWrite;
import io.tiflink.tidb.write.RowWrite.Kind;

import org.assertj.core.api.recursive.comparison.RecursiveComparisonConfiguration;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link TiKVWriterState.Serializer} and the encoding of its bytes, {@link ChangeCodec}: buffered
 * changes come back as they were, the checked-in samples (see {@link SerializerSnapshots}) still
 * decode, and changes restored after a schema change land on the columns of the same ids.
 */
class TiKVWriterStateSerializerTest {
    private static final TiKVWriterState.Serializer SERIALIZER = new TiKVWriterState.Serializer();

    /** Floats and doubles exactly (AssertJ's default allows an error and fails NaN). */
    private static final RecursiveComparisonConfiguration COMPARISON =
            RecursiveComparisonConfiguration.builder()
                    .withEqualsForType(Double::equals, Double.class)
                    .withEqualsForType(Float::equals, Float.class)
                    .build();

    /** A column of each value class the sink writes (those of ColumnKind). */
    private static final TableInfo TABLE = table();

    private static final int NAME = TABLE.column("name").offset;

    private static TableInfo table() {
        TableInfo t =
                SchemaFile.parse(
                                "everything.sql",
                                "CREATE TABLE sink.everything (\n"
                                        + "  id BIGINT NOT NULL PRIMARY KEY,\n"
                                        + "  u BIGINT UNSIGNED,\n"
                                        + "  f FLOAT,\n"
                                        + "  d DOUBLE,\n"
                                        + "  amount DECIMAL(40, 10),\n"
                                        + "  name VARCHAR(64),\n"
                                        + "  photo VARBINARY(64),\n"
                                        + "  born DATE,\n"
                                        + "  seen DATETIME(6),\n"
                                        + "  paid TIMESTAMP(6),\n"
                                        + "  took TIME(6),\n"
                                        + "  note TEXT\n"
                                        + ");")
                        .get(0)
                        .table;
        // The column ids TiDB gives at CREATE TABLE.
        for (ColumnInfo c : t.columns) {
            c.id = c.offset + 1;
        }
        t.maxColumnId = t.columns.size();
        return t;
    }

    /**
     * Changes of every kind, with every value class ChangeCodec encodes, edge values and nulls, and
     * changes that give some columns only.
     */
    static List<RowWrite> changes() {
        return List.of(
                RowWrite.insert(
                        row(
                                1L,
                                new BigInteger("12345678901234567890"),
                                1.5f,
                                2.25,
                                new BigDecimal("12345.6789000000"),
                                "Zoë",
                                new byte[] {0, 1, (byte) 0xfe, (byte) 0xff},
                                LocalDate.of(2024, 2, 29),
                                LocalDateTime.of(2024, 2, 29, 23, 59, 58, 123_456_000),
                                Instant.parse("2024-02-29T12:00:00.654321Z"),
                                Duration.parse("PT12H34M56.789S"),
                                "a note")),
                RowWrite.upsert(
                        row(
                                Long.MIN_VALUE,
                                BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE),
                                -0.0f,
                                Double.NaN,
                                new BigDecimal("-999999999999999999999999999999.9999999999"),
                                "",
                                new byte[0],
                                LocalDate.of(1000, 1, 1),
                                LocalDateTime.of(9999, 12, 31, 23, 59, 59, 999_999_000),
                                Instant.parse("2038-01-19T03:14:07.999999Z"),
                                Duration.ofHours(-838).minusMinutes(59).minusSeconds(59),
                                "naïve 漢字 \uD83C\uDF89 \u0000 end")),
                RowWrite.upsert(
                        row(
                                Long.MAX_VALUE,
                                BigInteger.ZERO,
                                Float.MAX_VALUE,
                                Double.NEGATIVE_INFINITY,
                                new BigDecimal("1E+3"),
                                null,
                                null,
                                LocalDate.of(1970, 1, 1),
                                LocalDateTime.of(2000, 1, 1, 0, 0),
                                Instant.ofEpochSecond(1),
                                Duration.ZERO,
                                null)),
                partial(Kind.UPSERT, "id", 2L, "amount", new BigDecimal("0E-10"), "note", null),
                partial(Kind.INSERT, "id", 3L, "name", "only a name"),
                RowWrite.delete(
                        row(
                                1L,
                                new BigInteger("12345678901234567890"),
                                Float.MIN_VALUE,
                                Double.MIN_VALUE,
                                new BigDecimal("0.0000000001"),
                                "Zoë",
                                new byte[] {0},
                                LocalDate.of(2024, 2, 29),
                                LocalDateTime.of(2024, 2, 29, 23, 59, 58),
                                Instant.parse("2024-02-29T12:00:00Z"),
                                Duration.ofNanos(1000),
                                "a note")),
                partial(Kind.DELETE, "id", 4L));
    }

    @Test
    void theSampleHoldsEveryValueClassAndKind() {
        Set<Object> classes = new HashSet<>();
        for (RowWrite w : changes()) {
            for (Object v : w.row()) {
                classes.add(v == null ? null : v.getClass());
            }
        }
        assertThat(classes)
                .containsExactlyInAnyOrder(
                        null,
                        Long.class,
                        BigInteger.class,
                        Float.class,
                        Double.class,
                        BigDecimal.class,
                        String.class,
                        byte[].class,
                        LocalDate.class,
                        LocalDateTime.class,
                        Instant.class,
                        Duration.class);
        assertThat(changes()).extracting(RowWrite::kind).contains(Kind.values());
    }

    /** Unwritten changes, and the writer's parts of two epochs not known committed. */
    static TiKVWriterState sample() throws IOException {
        return new TiKVWriterState(
                "5b1d7c1e-0a57-4f7f-9e1c-2f3b9a6d4c21",
                ChangeCodec.write(changes(), TABLE),
                List.of(
                        new EpochPart(
                                41,
                                449_567_134_817_779_713L,
                                "TiFlink/sink/0f8e2c4a-55d1-4b7e-a3c9-6d2b1e7f9a80/00000000000000000041"
                                        .getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                                new byte[] {'t', 1},
                                new byte[] {'t', 9, (byte) 0xff},
                                ChangeCodec.write(changes().subList(0, 3), TABLE)),
                        new EpochPart(
                                Long.MAX_VALUE,
                                Long.MAX_VALUE,
                                new byte[] {'T'},
                                new byte[0],
                                new byte[0],
                                ChangeCodec.write(List.of(), TABLE))));
    }

    private static void assertSameAsSample(TiKVWriterState restored) throws IOException {
        TiKVWriterState expected = sample();
        assertThat(restored.id()).isEqualTo(expected.id());
        assertThat(ChangeCodec.read(restored.changes(), TABLE))
                .usingRecursiveComparison(COMPARISON)
                .isEqualTo(changes());
        assertThat(restored.parts())
                .usingRecursiveFieldByFieldElementComparator()
                .isEqualTo(expected.parts());
        assertThat(ChangeCodec.read(restored.parts().get(0).changes(), TABLE))
                .usingRecursiveComparison(COMPARISON)
                .isEqualTo(changes().subList(0, 3));
    }

    @Test
    void roundTrips() throws IOException {
        assertSameAsSample(SerializerSnapshots.roundTrip(SERIALIZER, sample()));
    }

    @Test
    void roundTripsNoChanges() throws IOException {
        TiKVWriterState state =
                new TiKVWriterState("", ChangeCodec.write(List.of(), TABLE), List.of());
        TiKVWriterState restored = SerializerSnapshots.roundTrip(SERIALIZER, state);
        assertThat(ChangeCodec.read(restored.changes(), TABLE)).isEmpty();
        assertThat(restored.parts()).isEmpty();
    }

    /** Version 1 held the unwritten changes only: they come back, with no epoch parts. */
    @Test
    void readsTheSamplesOfEveryVersion() throws IOException {
        SortedMap<Integer, TiKVWriterState> restored =
                SerializerSnapshots.restoreAll("tikv-writer-state", SERIALIZER, sample());
        assertThat(restored).containsOnlyKeys(1, 2);
        assertThat(ChangeCodec.read(restored.get(1).changes(), TABLE))
                .usingRecursiveComparison(COMPARISON)
                .isEqualTo(changes());
        assertThat(restored.get(1).parts()).isEmpty();
        assertThat(restored.get(1).id()).isEmpty();
        assertSameAsSample(restored.get(2));
    }

    @Test
    void refusesUnknownVersions() throws IOException {
        SerializerSnapshots.assertRefusesVersion(
                SERIALIZER, sample(), 3, "unknown TiKV writer state version 3");
        byte[] bytes = ChangeCodec.write(changes(), TABLE);
        bytes[3] = 2; // the encoding's own version, an int ahead of the changes
        assertThatThrownBy(() -> ChangeCodec.read(bytes, TABLE))
                .isInstanceOf(IOException.class)
                .hasMessage("unknown encoding version 2 of buffered changes");
    }

    /** An unknown change kind, from corrupt bytes or a newer TiFlink, is refused as such. */
    @Test
    void refusesUnknownChangeKinds() throws IOException {
        byte[] bytes = ChangeCodec.write(List.of(partial(Kind.DELETE, "id", 4L)), TABLE);
        bytes[8] = 7; // the first change's kind, after the version and the count
        assertThatThrownBy(() -> ChangeCodec.read(bytes, TABLE))
                .isInstanceOf(IOException.class)
                .hasMessage("unknown kind 7 of a buffered change");
    }

    /** Values reach the buffer checked, in their ColumnKind classes: others are refused. */
    @Test
    void refusesValuesOutsideTheColumnKinds() {
        assertThatThrownBy(() -> ChangeCodec.write(List.of(partial(Kind.UPSERT, "id", 1)), TABLE))
                .isInstanceOf(IOException.class)
                .hasMessage("cannot checkpoint a value of java.lang.Integer");
    }

    @Test
    void aChangeRestoredAfterAColumnWasDroppedLosesItsValue() throws IOException {
        TableInfo dropped = MetaJson.copy(TABLE, TableInfo.class);
        dropped.columns.remove(NAME);
        renumberOffsets(dropped);

        List<RowWrite> restored = ChangeCodec.read(ChangeCodec.write(changes(), TABLE), dropped);
        assertThat(restored).hasSameSizeAs(changes());
        for (int i = 0; i < restored.size(); i++) {
            RowWrite before = changes().get(i);
            Map<String, Object> expected = given(before, TABLE);
            expected.remove("name");
            assertThat(restored.get(i).kind()).isEqualTo(before.kind());
            assertThat(restored.get(i).row()).hasSize(dropped.columns.size());
            assertThat(given(restored.get(i), dropped))
                    .usingRecursiveComparison(COMPARISON)
                    .isEqualTo(expected);
        }
        // A change that gave every column still does: only the dropped one is gone.
        assertThat(restored.get(0).givenMask()).isNull();
    }

    @Test
    void aChangeRestoredAfterAColumnWasAddedDoesNotGiveIt() throws IOException {
        TableInfo added = MetaJson.copy(TABLE, TableInfo.class);
        ColumnInfo c = new ColumnInfo();
        c.id = ++added.maxColumnId;
        c.name = CIStr.of("added");
        c.type = new FieldType(MysqlType.LONGLONG);
        added.columns.add(2, c); // ADD COLUMN ... AFTER u: later columns move
        renumberOffsets(added);

        List<RowWrite> restored = ChangeCodec.read(ChangeCodec.write(changes(), TABLE), added);
        assertThat(restored).hasSameSizeAs(changes());
        for (int i = 0; i < restored.size(); i++) {
            RowWrite before = changes().get(i);
            assertThat(restored.get(i).kind()).isEqualTo(before.kind());
            assertThat(restored.get(i).gives(c.offset)).isFalse();
            assertThat(restored.get(i).row()[c.offset]).isNull();
            assertThat(given(restored.get(i), added))
                    .usingRecursiveComparison(COMPARISON)
                    .isEqualTo(given(before, TABLE));
        }
    }

    private static Object[] row(Object... values) {
        assertThat(values).hasSize(TABLE.columns.size());
        return values;
    }

    /** A change giving only the named columns ({@code name, value, name, value...}). */
    private static RowWrite partial(Kind kind, Object... namesAndValues) {
        Object[] row = new Object[TABLE.columns.size()];
        boolean[] given = new boolean[row.length];
        for (int i = 0; i < namesAndValues.length; i += 2) {
            int offset = TABLE.column((String) namesAndValues[i]).offset;
            row[offset] = namesAndValues[i + 1];
            given[offset] = true;
        }
        return RowWrite.of(kind, row, given);
    }

    /** The change's given values by column name. */
    private static Map<String, Object> given(RowWrite w, TableInfo table) {
        Map<String, Object> values = new LinkedHashMap<>();
        for (ColumnInfo c : table.columns) {
            if (w.gives(c.offset)) {
                values.put(c.name(), w.row()[c.offset]);
            }
        }
        return values;
    }

    private static void renumberOffsets(TableInfo t) {
        for (int i = 0; i < t.columns.size(); i++) {
            t.columns.get(i).offset = i;
        }
    }
}
