package io.tiflink.connector.source;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.MemorySize;

import java.time.Duration;
import java.util.List;

/**
 * Options of the TiKV source, besides the connection options of {@link
 * io.tiflink.connector.TiKVOptions}. Names follow flink-cdc's tidb-cdc connector where it has them.
 */
@PublicEvolving
public final class TiKVSourceOptions {
    public static final ConfigOption<String> DATABASE_NAME =
            ConfigOptions.key("database-name")
                    .stringType()
                    .noDefaultValue()
                    .withDescription("The TiDB database of the tables to read.");

    public static final ConfigOption<String> TABLE_NAME =
            ConfigOptions.key("table-name")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "The table to read, or a Java regular expression matching several"
                                    + " tables of the database (which must all have the"
                                    + " columns read).");

    public static final ConfigOption<StartupMode> STARTUP_MODE =
            ConfigOptions.key("scan.startup.mode")
                    .enumType(StartupMode.class)
                    .defaultValue(StartupMode.INITIAL)
                    .withDescription(
                            "initial: a snapshot, then changes; latest-offset: changes from now;"
                                    + " timestamp: changes committed at or after"
                                    + " scan.startup.timestamp-millis; snapshot: only the snapshot"
                                    + " (bounded).");

    public static final ConfigOption<Long> STARTUP_TIMESTAMP_MILLIS =
            ConfigOptions.key("scan.startup.timestamp-millis")
                    .longType()
                    .noDefaultValue()
                    .withDescription(
                            "For scan.startup.mode = timestamp: changes committed at or after this"
                                    + " time (epoch milliseconds) are read.");

    public static final ConfigOption<Integer> SNAPSHOT_FETCH_SIZE =
            ConfigOptions.key("scan.snapshot.fetch.size")
                    .intType()
                    .defaultValue(4096)
                    .withDescription("Rows read per TiKV scan request during the snapshot.");

    public static final ConfigOption<ChangelogFormat> CHANGELOG_MODE =
            ConfigOptions.key("changelog-mode")
                    .enumType(ChangelogFormat.class)
                    .defaultValue(ChangelogFormat.ALL)
                    .withDescription(
                            "all: +I, -U, +U, -D (updates carry the row before, from TiKV's old"
                                    + " values); upsert: +I, +U, -D by primary key (which the"
                                    + " table must declare).");

    public static final ConfigOption<Duration> GC_SAFE_POINT_TTL =
            ConfigOptions.key("scan.gc-safe-point.ttl")
                    .durationType()
                    .defaultValue(Duration.ofHours(24))
                    .withDescription(
                            "How long the PD service GC safe point the source holds outlives the"
                                    + " job (or a job that is down): a job restored within it"
                                    + " continues without loss. As TiCDC's gc-ttl.");

    public static final ConfigOption<MemorySize> CDC_MEMORY_QUOTA =
            ConfigOptions.key("scan.cdc.memory-quota")
                    .memoryType()
                    .defaultValue(MemorySize.ofMebiBytes(128))
                    .withDescription(
                            "Memory one reader's change stream may hold before it slows TiKV down"
                                    + " or spills to disk.");

    public static final ConfigOption<String> CDC_SPILL_DIRECTORY =
            ConfigOptions.key("scan.cdc.spill-directory")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Where changes go that do not fit in memory while the resolved ts"
                                    + " cannot pass them; unset: <java.io.tmpdir>/tiflink-cdc.");

    public static final ConfigOption<Duration> CDC_LOCK_RESOLVE_AFTER =
            ConfigOptions.key("scan.cdc.lock-resolve-after")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(20))
                    .withDescription(
                            "A region whose resolved ts lags by more has its abandoned locks"
                                    + " resolved.");

    public static final ConfigOption<List<Long>> CDC_SKIP_TXN_SOURCES =
            ConfigOptions.key("scan.cdc.skip-txn-sources")
                    .longType()
                    .asList()
                    .noDefaultValue()
                    .withDescription(
                            "Marks (1 to 15, separated by ';') of transactions whose changes are"
                                    + " not emitted: those a sink with sink.txn-source wrote, or"
                                    + " TiCDC in bdr-mode (1). The snapshot is read whole."
                                    + " Unset: every change is emitted.");

    private TiKVSourceOptions() {}
}
