package io.tiflink.connector.lookup;

import io.tiflink.connector.TiKVOptions;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import org.apache.flink.table.connector.source.lookup.LookupOptions;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.RowType;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Lookups in a TiDB table from the DataStream API: an asynchronous function for {@link
 * org.apache.flink.streaming.api.datastream.AsyncDataStream} that pairs each element with every row
 * of the table whose key columns equal the element's key (an inner join), read from TiKV as the SQL
 * lookup join reads them (docs/lookup.md).
 *
 * <pre>{@code
 * DataStream<Tuple2<Order, RowData>> enriched = AsyncDataStream.unorderedWait(
 *     orders,
 *     TiKVLookup.<Order>builder()
 *         .options(Map.of("pd-addresses", "127.0.0.1:2379"))
 *         .table("shop", "customers")
 *         .key(DataTypes.ROW(DataTypes.FIELD("id", DataTypes.BIGINT())),
 *              o -> GenericRowData.of(o.customerId))
 *         .rows(DataTypes.ROW(DataTypes.FIELD("id", DataTypes.BIGINT()),
 *                             DataTypes.FIELD("name", DataTypes.STRING())))
 *         .build(),
 *     30, TimeUnit.SECONDS)
 *   .returns(Types.TUPLE(TypeInformation.of(Order.class), TypeInformation.of(RowData.class)));
 * }</pre>
 */
@PublicEvolving
public final class TiKVLookup<IN> extends RichAsyncFunction<IN, Tuple2<IN, RowData>> {
    private static final long serialVersionUID = 1L;

    private final KeySelector<IN, RowData> key;
    private final TiKVRowDataAsyncLookupFunction lookup;

    private TiKVLookup(KeySelector<IN, RowData> key, TiKVRowDataAsyncLookupFunction lookup) {
        this.key = key;
        this.lookup = lookup;
    }

    public static <IN> Builder<IN> builder() {
        return new Builder<>();
    }

    @Override
    public void open(OpenContext context) {
        lookup.open(null);
    }

    @Override
    public void asyncInvoke(IN input, ResultFuture<Tuple2<IN, RowData>> result) throws Exception {
        lookup.asyncLookup(key.getKey(input))
                .whenComplete(
                        (rows, error) -> {
                            if (error != null) {
                                result.completeExceptionally(error);
                                return;
                            }
                            List<Tuple2<IN, RowData>> out = new ArrayList<>(rows.size());
                            for (RowData r : rows) {
                                out.add(Tuple2.of(input, r));
                            }
                            result.complete(out);
                        });
    }

    @Override
    public void close() throws Exception {
        lookup.close();
    }

    /** Builds a {@link TiKVLookup}; the lookup is planned (and refused if no index serves it). */
    @PublicEvolving
    public static final class Builder<IN> {
        private final Map<String, String> options = new HashMap<>();
        private String database;
        private String table;
        private RowType keyType;
        private KeySelector<IN, RowData> key;
        private RowType rowType;

        /**
         * The connection options ({@code pd-addresses}, {@code tikv.*}) and the lookup's ({@code
         * lookup.async.max-concurrent-requests}, {@code lookup.max-retries}).
         */
        public Builder<IN> options(Map<String, String> options) {
            this.options.putAll(options);
            return this;
        }

        public Builder<IN> table(String database, String table) {
            this.database = database;
            this.table = table;
            return this;
        }

        /**
         * The key: a row type whose fields are named as the table's key columns, and each element's
         * key as a row of it (Flink's internal values: {@code StringData}, ...).
         */
        public Builder<IN> key(DataType keyType, KeySelector<IN, RowData> key) {
            this.keyType = (RowType) keyType.getLogicalType();
            this.key = key;
            return this;
        }

        /** The columns of the rows produced, named as the table's. */
        public Builder<IN> rows(DataType rowType) {
            this.rowType = (RowType) rowType.getLogicalType();
            return this;
        }

        public TiKVLookup<IN> build() {
            if (database == null || table == null || keyType == null || rowType == null) {
                throw new IllegalArgumentException(
                        "a TiKVLookup needs its table, key and rows (table(), key(), rows())");
            }
            Configuration config = Configuration.fromMap(options);
            LookupReader.plan(options, database, table, keyType.getFieldNames());
            LookupReader reader =
                    new LookupReader(
                            new HashMap<>(options),
                            database,
                            table,
                            keyType,
                            rowType,
                            config.get(LookupOptions.MAX_RETRIES));
            int concurrent =
                    (int)
                            TiKVOptions.positive(
                                    TiKVLookupOptions.ASYNC_MAX_CONCURRENT_REQUESTS,
                                    config.get(TiKVLookupOptions.ASYNC_MAX_CONCURRENT_REQUESTS));
            return new TiKVLookup<>(key, new TiKVRowDataAsyncLookupFunction(reader, concurrent));
        }
    }
}
