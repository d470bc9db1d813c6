package io.tiflink.connector.lookup;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/**
 * Options of lookups on a TiKV table, besides Flink's own ({@code lookup.cache}, {@code
 * lookup.partial-cache.*}, {@code lookup.max-retries}: {@link
 * org.apache.flink.table.connector.source.lookup.LookupOptions}). Names follow
 * flink-connector-hbase.
 */
@PublicEvolving
public final class TiKVLookupOptions {
    public static final ConfigOption<Boolean> ASYNC =
            ConfigOptions.key("lookup.async")
                    .booleanType()
                    .defaultValue(true)
                    .withDescription(
                            "Whether lookups are asynchronous: keys arriving while reads are in"
                                    + " flight are read together, one batch per region.");

    public static final ConfigOption<Integer> ASYNC_MAX_CONCURRENT_REQUESTS =
            ConfigOptions.key("lookup.async.max-concurrent-requests")
                    .intType()
                    .defaultValue(4)
                    .withDescription(
                            "How many batches of asynchronous lookups one subtask reads at once.");

    private TiKVLookupOptions() {}
}
