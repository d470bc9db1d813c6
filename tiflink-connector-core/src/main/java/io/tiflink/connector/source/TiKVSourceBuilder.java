package io.tiflink.connector.source;

import io.tiflink.connector.TiKVOptions;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;

import java.util.Map;
import java.util.Objects;

/**
 * Builds a {@link TiKVSource}:
 *
 * <pre>{@code
 * TiKVSource<MyRow> source = TiKVSource.<MyRow>builder()
 *     .pdAddresses("pd0:2379")
 *     .database("shop").table("orders")
 *     .deserializer(new MyDeserializer())
 *     .build();
 * env.fromSource(source, WatermarkStrategy.noWatermarks(), "orders");
 * }</pre>
 *
 * The source emits watermarks itself, from the resolved ts of its streams.
 */
@PublicEvolving
public final class TiKVSourceBuilder<T> {
    private final Configuration options = new Configuration();
    private HandleRange handles = HandleRange.ALL;
    private boolean handOffAfterCheckpoint = true;
    private TiKVDeserializationSchema<T> deserializer;

    TiKVSourceBuilder() {}

    /** PD addresses, comma separated host:port pairs (option {@code pd-addresses}). */
    public TiKVSourceBuilder<T> pdAddresses(String addresses) {
        return option(TiKVOptions.PD_ADDRESSES, addresses);
    }

    /**
     * Mutual TLS with PD and TiKV ({@code tikv.tls_enable}): PEM files of the trusted CA, of the
     * client's certificate chain and of its PKCS#8 private key.
     */
    public TiKVSourceBuilder<T> tls(
            String trustCertCollection, String keyCertChain, String keyFile) {
        option(TiKVOptions.TIKV_TLS_ENABLE, true);
        option(TiKVOptions.TIKV_TRUST_CERT_COLLECTION, trustCertCollection);
        option(TiKVOptions.TIKV_KEY_CERT_CHAIN, keyCertChain);
        return option(TiKVOptions.TIKV_KEY_FILE, keyFile);
    }

    public TiKVSourceBuilder<T> database(String database) {
        return option(TiKVSourceOptions.DATABASE_NAME, database);
    }

    /** A table name, or a regular expression matching several tables of the database. */
    public TiKVSourceBuilder<T> table(String table) {
        return option(TiKVSourceOptions.TABLE_NAME, table);
    }

    public TiKVSourceBuilder<T> startupMode(StartupMode mode) {
        return option(TiKVSourceOptions.STARTUP_MODE, mode);
    }

    /** Starts at the changes committed at or after this time (sets the timestamp startup mode). */
    public TiKVSourceBuilder<T> startupTimestampMillis(long epochMillis) {
        startupMode(StartupMode.TIMESTAMP);
        return option(TiKVSourceOptions.STARTUP_TIMESTAMP_MILLIS, epochMillis);
    }

    /** Reads only the rows whose integer primary key (when it is the row handle) is in range. */
    public TiKVSourceBuilder<T> handles(HandleRange handles) {
        this.handles = Objects.requireNonNull(handles);
        return this;
    }

    /**
     * Whether the changes after the snapshot start only once a checkpoint has completed after it
     * (default). Without checkpoints, set false; changes may then reach a downstream operator
     * before snapshot rows another reader emitted.
     */
    public TiKVSourceBuilder<T> handOffAfterCheckpoint(boolean wait) {
        this.handOffAfterCheckpoint = wait;
        return this;
    }

    /** Any option of {@link TiKVOptions} or {@link TiKVSourceOptions}. */
    public <V> TiKVSourceBuilder<T> option(ConfigOption<V> option, V value) {
        options.set(option, value);
        return this;
    }

    /** Options as strings, as in a SQL table's WITH clause. */
    public TiKVSourceBuilder<T> options(Map<String, String> values) {
        options.addAll(Configuration.fromMap(values));
        return this;
    }

    public TiKVSourceBuilder<T> deserializer(TiKVDeserializationSchema<T> deserializer) {
        this.deserializer = deserializer;
        return this;
    }

    /**
     * @throws IllegalArgumentException naming the option at fault
     */
    public TiKVSource<T> build() {
        if (deserializer == null) {
            throw new IllegalArgumentException("a TiKV source needs a deserializer");
        }
        return new TiKVSource<>(
                new TiKVSourceConfig(options, handles, handOffAfterCheckpoint), deserializer);
    }
}
