package io.tiflink.connector.sink;

import io.tiflink.connector.TiKVOptions;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;

import java.util.Map;
import java.util.UUID;

/**
 * Builds a {@link TiKVSink}:
 *
 * <pre>{@code
 * TiKVSink<Order> sink = TiKVSink.<Order>builder()
 *     .pdAddresses("pd0:2379")
 *     .database("shop").table("orders")
 *     .serializer(order -> RowWrite.upsert(new Object[] {order.id, order.item, order.qty}))
 *     .build();
 * orders.sinkTo(sink);
 * }</pre>
 *
 * Exactly-once (the default) needs checkpointing.
 */
@PublicEvolving
public final class TiKVSinkBuilder<IN> {
    private final Configuration options = new Configuration();
    private TiKVSerializationSchema<IN> serializer;

    TiKVSinkBuilder() {}

    /** PD addresses, comma separated host:port pairs (option {@code pd-addresses}). */
    public TiKVSinkBuilder<IN> pdAddresses(String addresses) {
        return option(TiKVOptions.PD_ADDRESSES, addresses);
    }

    /**
     * Mutual TLS with PD and TiKV ({@code tikv.tls_enable}): PEM files of the trusted CA, of the
     * client's certificate chain and of its PKCS#8 private key.
     */
    public TiKVSinkBuilder<IN> tls(
            String trustCertCollection, String keyCertChain, String keyFile) {
        option(TiKVOptions.TIKV_TLS_ENABLE, true);
        option(TiKVOptions.TIKV_TRUST_CERT_COLLECTION, trustCertCollection);
        option(TiKVOptions.TIKV_KEY_CERT_CHAIN, keyCertChain);
        return option(TiKVOptions.TIKV_KEY_FILE, keyFile);
    }

    public TiKVSinkBuilder<IN> database(String database) {
        return option(TiKVSinkOptions.DATABASE_NAME, database);
    }

    public TiKVSinkBuilder<IN> table(String table) {
        return option(TiKVSinkOptions.TABLE_NAME, table);
    }

    /**
     * {@code sink.delivery-guarantee}: {@link DeliveryGuarantee#EXACTLY_ONCE} (the default) or
     * {@link DeliveryGuarantee#AT_LEAST_ONCE}.
     */
    public TiKVSinkBuilder<IN> deliveryGuarantee(DeliveryGuarantee guarantee) {
        return option(TiKVSinkOptions.DELIVERY_GUARANTEE, guarantee);
    }

    /** Any option of {@link TiKVOptions} or {@link TiKVSinkOptions}. */
    public <V> TiKVSinkBuilder<IN> option(ConfigOption<V> option, V value) {
        options.set(option, value);
        return this;
    }

    /** Options as strings, as in a SQL table's WITH clause. */
    public TiKVSinkBuilder<IN> options(Map<String, String> values) {
        options.addAll(Configuration.fromMap(values));
        return this;
    }

    public TiKVSinkBuilder<IN> serializer(TiKVSerializationSchema<IN> serializer) {
        this.serializer = serializer;
        return this;
    }

    /**
     * @throws IllegalArgumentException naming the option at fault
     */
    public TiKVSink<IN> build() {
        if (serializer == null) {
            throw new IllegalArgumentException("a TiKV sink needs a serializer");
        }
        // A fresh id per built sink names its transactions in TiKV (the primaries' keys).
        return new TiKVSink<>(
                new TiKVSinkConfig(options, UUID.randomUUID().toString()), serializer);
    }
}
