package io.tiflink.connector.sink;

import io.tiflink.connector.TiKVOptions;
import io.tiflink.connector.consistency.Consistency;
import io.tiflink.tidb.write.TableWriter;
import io.tiflink.tikv.TxnSource;
import io.tiflink.tikv.txn.TxnClient;

import org.apache.flink.annotation.Internal;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.FallbackKey;
import org.apache.flink.connector.base.DeliveryGuarantee;

import org.tikv.common.TiConfiguration;

import java.io.Serializable;
import java.time.Duration;

/**
 * A TiKV sink's settings, validated where the sink is built (so that a wrong option fails the job
 * submission with a message naming it) and shipped to the coordinator, writers and committers.
 */
@Internal
public final class TiKVSinkConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Configuration options;
    private final String sinkId;

    /**
     * @param sinkId names this sink's transactions in TiKV ({@link
     *     io.tiflink.connector.sink.EpochKeys}); unique per built sink
     */
    public TiKVSinkConfig(Configuration options, String sinkId) {
        this.options = new Configuration(options);
        this.sinkId = sinkId;
        validate();
    }

    private void validate() {
        TiKVOptions.toTiConfiguration(options);
        database();
        table();
        deliveryGuarantee();
        TiKVOptions.positive(TiKVSinkOptions.BUFFER_FLUSH_MAX_ROWS, maxRows());
        TiKVOptions.positive(TiKVSinkOptions.BUFFER_FLUSH_MAX_SIZE, maxBytes());
        if (flushInterval().isNegative()) {
            throw new IllegalArgumentException(
                    "option '"
                            + TiKVSinkOptions.BUFFER_FLUSH_INTERVAL.key()
                            + "' must not be negative, got "
                            + flushInterval());
        }
        if (lockTtl().toMillis() < 3_000) {
            throw new IllegalArgumentException(
                    "option '"
                            + TiKVSinkOptions.LOCK_TTL.key()
                            + "' must be at least 3 s (heartbeats renew it every third), got "
                            + lockTtl());
        }
        TiKVOptions.positive(TiKVSinkOptions.EPOCH_TIMEOUT, epochTimeout().toMillis());
        if (consistent() && !exactlyOnce()) {
            throw new IllegalArgumentException(
                    "option '"
                            + TiKVOptions.CONSISTENCY.key()
                            + "' = 'snapshot' needs '"
                            + deliveryGuaranteeKey()
                            + "' = '"
                            + DeliveryGuarantee.EXACTLY_ONCE
                            + "': an at-least-once sink commits rows outside the epochs that"
                            + " carry the cuts");
        }
        if (txnSource() < 0 || txnSource() > TxnSource.MAX_CDC_WRITE_SOURCE) {
            throw new IllegalArgumentException(
                    "option '"
                            + TiKVSinkOptions.TXN_SOURCE.key()
                            + "' must be between 0 and "
                            + TxnSource.MAX_CDC_WRITE_SOURCE
                            + " (TiDB's range for a replicator's mark), got "
                            + txnSource());
        }
        if (maxRetries() < 0) {
            throw new IllegalArgumentException(
                    "option '"
                            + TiKVSinkOptions.MAX_RETRIES.key()
                            + "' must not be negative, got "
                            + maxRetries());
        }
    }

    public String sinkId() {
        return sinkId;
    }

    public TiConfiguration tiConfiguration() {
        return TiKVOptions.toTiConfiguration(options);
    }

    public String database() {
        return TiKVOptions.required(options, TiKVSinkOptions.DATABASE_NAME);
    }

    public String table() {
        return TiKVOptions.required(options, TiKVSinkOptions.TABLE_NAME);
    }

    public String qualifiedTable() {
        return database() + "." + table();
    }

    /** {@code sink.delivery-guarantee}: exactly-once or at-least-once. */
    public DeliveryGuarantee deliveryGuarantee() {
        DeliveryGuarantee g;
        try {
            g = options.get(TiKVSinkOptions.DELIVERY_GUARANTEE);
        } catch (IllegalArgumentException e) {
            g = null;
        }
        if (g == DeliveryGuarantee.EXACTLY_ONCE || g == DeliveryGuarantee.AT_LEAST_ONCE) {
            return g;
        }
        throw new IllegalArgumentException(
                "option '"
                        + deliveryGuaranteeKey()
                        + "' has '"
                        + options.toMap().get(deliveryGuaranteeKey())
                        + "'; expected "
                        + DeliveryGuarantee.EXACTLY_ONCE
                        + " or "
                        + DeliveryGuarantee.AT_LEAST_ONCE);
    }

    /** The key the delivery guarantee was given under (maybe the deprecated one), for messages. */
    public String deliveryGuaranteeKey() {
        String key = TiKVSinkOptions.DELIVERY_GUARANTEE.key();
        if (!options.containsKey(key)) {
            for (FallbackKey deprecated : TiKVSinkOptions.DELIVERY_GUARANTEE.fallbackKeys()) {
                if (options.containsKey(deprecated.getKey())) {
                    return deprecated.getKey();
                }
            }
        }
        return key;
    }

    /** Whether epochs commit with the job's cuts ({@link Consistency#SNAPSHOT}). */
    public boolean consistent() {
        return TiKVOptions.enumValue(options, TiKVOptions.CONSISTENCY, Consistency.class)
                == Consistency.SNAPSHOT;
    }

    /** {@code sink.progress-table}, in the sink table's database. */
    public String progressTable() {
        return options.get(TiKVSinkOptions.PROGRESS_TABLE);
    }

    /** Whether the delivery guarantee is exactly-once. */
    public boolean exactlyOnce() {
        return deliveryGuarantee() == DeliveryGuarantee.EXACTLY_ONCE;
    }

    public int maxRows() {
        return options.get(TiKVSinkOptions.BUFFER_FLUSH_MAX_ROWS);
    }

    public long maxBytes() {
        return options.get(TiKVSinkOptions.BUFFER_FLUSH_MAX_SIZE).getBytes();
    }

    public Duration flushInterval() {
        return options.get(TiKVSinkOptions.BUFFER_FLUSH_INTERVAL);
    }

    public Duration lockTtl() {
        return options.get(TiKVSinkOptions.LOCK_TTL);
    }

    public Duration epochTimeout() {
        return options.get(TiKVSinkOptions.EPOCH_TIMEOUT);
    }

    public int maxRetries() {
        return options.get(TiKVSinkOptions.MAX_RETRIES);
    }

    /** {@code sink.txn-source}: the mark of the sink's transactions, 0 for none. */
    public long txnSource() {
        return options.get(TiKVSinkOptions.TXN_SOURCE);
    }

    /** A client over a session of its own whose transactions carry the sink's mark. */
    public TxnClient openTxnClient() {
        return TiKVOptions.connecting(
                () ->
                        TxnClient.open(
                                tiConfiguration(),
                                TiKVOptions.unavailableTimeout(options),
                                txnSource()));
    }

    /** A writer of the sink's table, as its schema is now. */
    public TableWriter openTableWriter(TxnClient txn) {
        return TableWriter.open(txn, database(), table(), lockTtl(), maxRetries());
    }
}
