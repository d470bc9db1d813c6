package io.tiflink.connector.sink;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.connector.base.DeliveryGuarantee;

import java.time.Duration;

/**
 * Options of the TiKV sink, besides the connection options of {@link
 * io.tiflink.connector.TiKVOptions}. Names follow Flink's JDBC and Kafka connectors ({@code
 * sink.buffer-flush.*}, {@code sink.delivery-guarantee}).
 */
@PublicEvolving
public final class TiKVSinkOptions {

    public static final ConfigOption<String> DATABASE_NAME =
            ConfigOptions.key("database-name")
                    .stringType()
                    .noDefaultValue()
                    .withDescription("The TiDB database of the table to write.");

    public static final ConfigOption<String> TABLE_NAME =
            ConfigOptions.key("table-name")
                    .stringType()
                    .noDefaultValue()
                    .withDescription("The TiDB table to write.");

    public static final ConfigOption<String> PROGRESS_TABLE =
            ConfigOptions.key("sink.progress-table")
                    .stringType()
                    .defaultValue("tiflink_progress")
                    .withDescription(
                            "With consistency = snapshot: the table, in the sink table's database,"
                                    + " where each epoch's transaction records the cut its rows"
                                    + " are as of (one row per sink table: view_name, cut_ts,"
                                    + " checkpoint_id). The sink refuses to start if it is"
                                    + " missing, and says how to create it.");

    public static final ConfigOption<DeliveryGuarantee> DELIVERY_GUARANTEE =
            ConfigOptions.key("sink.delivery-guarantee")
                    .enumType(DeliveryGuarantee.class)
                    .defaultValue(DeliveryGuarantee.EXACTLY_ONCE)
                    .withDeprecatedKeys("sink.semantic")
                    .withDescription(
                            "exactly-once: the rows between two checkpoints are one Percolator"
                                    + " transaction across all subtasks, committed when the"
                                    + " checkpoint completes (needs checkpointing);"
                                    + " at-least-once: a transaction per flushed batch. (none is"
                                    + " refused: it would save nothing over at-least-once.) The"
                                    + " deprecated key sink.semantic is read too.");

    public static final ConfigOption<Integer> BUFFER_FLUSH_MAX_ROWS =
            ConfigOptions.key("sink.buffer-flush.max-rows")
                    .intType()
                    .defaultValue(4096)
                    .withDescription(
                            "Changes a subtask buffers before it writes them (several changes of"
                                    + " one row in a buffer are then collapsed into one).");

    public static final ConfigOption<MemorySize> BUFFER_FLUSH_MAX_SIZE =
            ConfigOptions.key("sink.buffer-flush.max-size")
                    .memoryType()
                    .defaultValue(MemorySize.ofMebiBytes(16))
                    .withDescription(
                            "Estimated memory of the rows a subtask buffers before it prewrites"
                                    + " them.");

    public static final ConfigOption<Duration> BUFFER_FLUSH_INTERVAL =
            ConfigOptions.key("sink.buffer-flush.interval")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(1))
                    .withDescription(
                            "at-least-once: a buffer older than this is written and committed"
                                    + " even if not full; 0 flushes only when full or at a"
                                    + " checkpoint. Ignored by exactly-once, which commits at"
                                    + " checkpoints.");

    public static final ConfigOption<Duration> LOCK_TTL =
            ConfigOptions.key("sink.transaction.lock-ttl")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(60))
                    .withDescription(
                            "TTL of the transaction locks. Open exactly-once transactions are kept"
                                    + " alive by heartbeats (every third of the TTL); another"
                                    + " writer may roll back a transaction whose heartbeats"
                                    + " stopped (its job down) for longer than this.");

    public static final ConfigOption<Duration> EPOCH_TIMEOUT =
            ConfigOptions.key("sink.transaction.open-timeout")
                    .durationType()
                    .defaultValue(Duration.ofMinutes(10))
                    .withDescription(
                            "exactly-once: how long a subtask with a full buffer, or whose"
                                    + " input ended, waits for the next transaction, which opens"
                                    + " when the last checkpoint completes or is aborted (and at a"
                                    + " restore, once every subtask wrote its restored state),"
                                    + " before it fails.");

    public static final ConfigOption<Integer> MAX_RETRIES =
            ConfigOptions.key("sink.max-retries")
                    .intType()
                    .defaultValue(3)
                    .withDescription(
                            "at-least-once: how often a batch whose transaction conflicted with"
                                    + " another writer is retried in a new transaction.");

    public static final ConfigOption<Long> TXN_SOURCE =
            ConfigOptions.key("sink.txn-source")
                    .longType()
                    .defaultValue(0L)
                    .withDescription(
                            "The txn_source the sink's transactions carry (0 to 15; 0: none), as"
                                    + " TiDB's tidb_cdc_write_source marks a replicator's writes."
                                    + " A source with this value in scan.cdc.skip-txn-sources"
                                    + " does not read them back, so two pipelines copying tables"
                                    + " both ways do not loop. TiCDC changefeeds in bdr-mode skip"
                                    + " any non-zero mark.");

    private TiKVSinkOptions() {}
}
