package io.tiflink.connector.source.split;

import io.tiflink.cdc.client.KeyRange;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.table.TableCodec;

import org.apache.flink.util.StringUtils;

import org.assertj.core.api.recursive.comparison.RecursiveComparisonConfiguration;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Splits with every field set, for the serializer tests of splits and of the enumerator's state.
 * They are built the same way every time: the serializers' checked-in samples were written from
 * them.
 */
public final class SplitSamples {
    /**
     * Compares splits field by field, without the tables' parsed schemas (caches of their JSON,
     * which is compared).
     */
    public static final RecursiveComparisonConfiguration COMPARISON =
            RecursiveComparisonConfiguration.builder()
                    .withIgnoredFieldsOfTypes(TableInfo.class, TableCodec.class)
                    .withStrictTypeChecking(true)
                    .build();

    /**
     * A table's JSON as TiDB stores it, as fixed text: a split carries these bytes as they were, so
     * a sample must not depend on how MetaJson writes a TableInfo today.
     */
    static final String ORDERS_JSON =
            "{\"id\":101,\"name\":{\"O\":\"orders\",\"L\":\"orders\"},\"charset\":\"utf8mb4\","
                    + "\"collate\":\"utf8mb4_bin\",\"cols\":[{\"id\":1,\"name\":{\"O\":\"id\","
                    + "\"L\":\"id\"},\"offset\":0,\"type\":{\"Tp\":8,\"Flag\":4099,\"Flen\":20,"
                    + "\"Decimal\":0,\"Charset\":\"binary\",\"Collate\":\"binary\"},\"state\":5,"
                    + "\"version\":2},{\"id\":2,\"name\":{\"O\":\"customer\",\"L\":\"customer\"},"
                    + "\"offset\":1,\"type\":{\"Tp\":15,\"Flag\":0,\"Flen\":64,\"Decimal\":0,"
                    + "\"Charset\":\"utf8mb4\",\"Collate\":\"utf8mb4_general_ci\"},\"state\":5,"
                    + "\"version\":2}],\"index_info\":[],\"state\":5,\"pk_is_handle\":true,"
                    + "\"max_col_id\":2,\"version\":5}";

    /** A second table, with names outside ASCII. */
    static final String CUSTOMERS_JSON =
            "{\"id\":205,\"name\":{\"O\":\"客户 ☃\",\"L\":\"客户 ☃\"},\"cols\":[{\"id\":1,"
                    + "\"name\":{\"O\":\"名前 \uD83D\uDE00\",\"L\":\"名前 \uD83D\uDE00\"},"
                    + "\"offset\":0,\"type\":{\"Tp\":15,\"Flag\":0,\"Flen\":32,"
                    + "\"Charset\":\"utf8mb4\",\"Collate\":\"utf8mb4_bin\"},\"state\":5}],"
                    + "\"state\":5,\"max_col_id\":1,\"version\":5}";

    private SplitSamples() {}

    public static CapturedTable orders() {
        return new CapturedTable("shop", 2, ORDERS_JSON.getBytes(StandardCharsets.UTF_8));
    }

    public static CapturedTable customers() {
        return new CapturedTable(
                "商店 \uD83D\uDED2", Long.MAX_VALUE, CUSTOMERS_JSON.getBytes(StandardCharsets.UTF_8));
    }

    /** A snapshot split of a partition (its physical id is not the table's), part read. */
    public static SnapshotSplit snapshotSplit() {
        return new SnapshotSplit(
                "snapshot-105-2",
                orders(),
                105,
                KeyRange.of(
                        hex("7480000000000000695f72"),
                        hex("7480000000000000695f728000000000002710")),
                449_567_134_817_779_713L,
                hex("7480000000000000695f7280000000000003e8"));
    }

    /** A snapshot split not read yet (no last key), over every key. */
    public static SnapshotSplit freshSnapshotSplit() {
        return new SnapshotSplit(
                "snapshot-\u00e9t\u00e9-\uD83D\uDE80",
                customers(),
                205,
                KeyRange.all(),
                Long.MAX_VALUE,
                null);
    }

    /** The stream of two tables, after a change past its resolved ts. */
    public static StreamSplit streamSplit() {
        return new StreamSplit(
                "stream-101",
                List.of(orders(), customers()),
                List.of(
                        KeyRange.of(hex("7480000000000000655f72"), hex("7480000000000000655f73")),
                        KeyRange.of(hex("7480000000000000cd5f72"), hex("7480000000000000cd5f73"))),
                449_567_200_000_000_000L,
                449_567_200_000_000_007L,
                hex("7480000000000000cd5f72800000000000002a"));
    }

    /** A stream with no tables, ranges nor position past its resolved ts. */
    public static StreamSplit emptyStreamSplit() {
        return new StreamSplit("stream-empty", List.of(), List.of(), 1, 0, null);
    }

    static byte[] hex(String hex) {
        return StringUtils.hexStringToByte(hex);
    }
}
