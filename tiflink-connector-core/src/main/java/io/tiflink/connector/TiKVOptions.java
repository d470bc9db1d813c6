package io.tiflink.connector;

import io.tiflink.connector.consistency.Consistency;
import io.tiflink.tikv.PdUnreachableException;
import io.tiflink.tikv.UnavailableTimeout;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;

import org.tikv.common.ConfigUtils;
import org.tikv.common.TiConfiguration;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Options for reaching a TiKV cluster, shared by the TiKV source, sink and catalog. Names follow
 * flink-cdc's tidb-cdc connector ({@code pd-addresses}, {@code tikv.*}) so its users can keep their
 * settings.
 */
@PublicEvolving
public final class TiKVOptions {
    public static final ConfigOption<String> PD_ADDRESSES =
            ConfigOptions.key("pd-addresses")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "PD addresses of the TiKV cluster, comma separated host:port pairs.");

    public static final ConfigOption<Duration> TIKV_GRPC_TIMEOUT =
            ConfigOptions.key(ConfigUtils.TIKV_GRPC_TIMEOUT)
                    .durationType()
                    .defaultValue(Duration.ofMillis(200))
                    .withDescription("Timeout of one TiKV or PD request.");

    public static final ConfigOption<Duration> TIKV_GRPC_SCAN_TIMEOUT =
            ConfigOptions.key(ConfigUtils.TIKV_GRPC_SCAN_TIMEOUT)
                    .durationType()
                    .defaultValue(Duration.ofSeconds(20))
                    .withDescription("Timeout of one TiKV scan request.");

    public static final ConfigOption<Integer> TIKV_BATCH_GET_CONCURRENCY =
            ConfigOptions.key(ConfigUtils.TIKV_BATCH_GET_CONCURRENCY)
                    .intType()
                    .defaultValue(ConfigUtils.DEF_BATCH_GET_CONCURRENCY)
                    .withDescription("Number of concurrent batch-get requests.");

    public static final ConfigOption<Integer> TIKV_BATCH_SCAN_CONCURRENCY =
            ConfigOptions.key(ConfigUtils.TIKV_BATCH_SCAN_CONCURRENCY)
                    .intType()
                    .defaultValue(ConfigUtils.DEF_BATCH_SCAN_CONCURRENCY)
                    .withDescription("Number of concurrent scan requests.");

    public static final ConfigOption<Boolean> TIKV_TLS_ENABLE =
            ConfigOptions.key(ConfigUtils.TIKV_TLS_ENABLE)
                    .booleanType()
                    .defaultValue(false)
                    .withDescription(
                            "Reach PD and TiKV over mutual TLS; needs "
                                    + ConfigUtils.TIKV_TRUST_CERT_COLLECTION
                                    + ", "
                                    + ConfigUtils.TIKV_KEY_CERT_CHAIN
                                    + " and "
                                    + ConfigUtils.TIKV_KEY_FILE
                                    + ".");

    public static final ConfigOption<String> TIKV_TRUST_CERT_COLLECTION =
            ConfigOptions.key(ConfigUtils.TIKV_TRUST_CERT_COLLECTION)
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Path of the PEM certificates of the CAs trusted to sign PD's and"
                                    + " TiKV's certificates (their security.ca-path).");

    public static final ConfigOption<String> TIKV_KEY_CERT_CHAIN =
            ConfigOptions.key(ConfigUtils.TIKV_KEY_CERT_CHAIN)
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Path of the client's PEM certificate chain, presented to PD and"
                                    + " TiKV.");

    public static final ConfigOption<String> TIKV_KEY_FILE =
            ConfigOptions.key(ConfigUtils.TIKV_KEY_FILE)
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Path of the client certificate's private key, PKCS#8 PEM"
                                    + " (-----BEGIN PRIVATE KEY-----).");

    public static final ConfigOption<Duration> UNAVAILABLE_TIMEOUT =
            ConfigOptions.key("tikv.unavailable-timeout")
                    .durationType()
                    .defaultValue(UnavailableTimeout.DEFAULT.duration())
                    .withDescription(
                            "How long the source, the sink and lookups keep retrying while PD or"
                                    + " TiKV cannot be reached or a region cannot be served before"
                                    + " they fail the job (Flink's restart strategy then"
                                    + " decides). A long-running transaction holding a source's"
                                    + " progress back is not such an outage.");

    public static final ConfigOption<Consistency> CONSISTENCY =
            ConfigOptions.key("consistency")
                    .enumType(Consistency.class)
                    .defaultValue(Consistency.NONE)
                    .withDescription(
                            "snapshot: every TiKV source of the job with this setting emits,"
                                    + " before each checkpoint barrier, exactly the changes"
                                    + " committed up to one TSO they agree on (a cut), and every"
                                    + " TiKV sink with it commits each epoch with its cut in the"
                                    + " progress table: TiDB readers see the sink's table as the"
                                    + " job's query over the sources at that TSO"
                                    + " (docs/materialized-views.md).");

    private static final String PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----";
    private static final String PEM_PKCS8_KEY = "-----BEGIN PRIVATE KEY-----";

    private TiKVOptions() {}

    /** The connection options besides {@link #PD_ADDRESSES}, all optional. */
    public static Set<ConfigOption<?>> optional() {
        return Set.of(
                TIKV_GRPC_TIMEOUT,
                TIKV_GRPC_SCAN_TIMEOUT,
                TIKV_BATCH_GET_CONCURRENCY,
                TIKV_BATCH_SCAN_CONCURRENCY,
                TIKV_TLS_ENABLE,
                TIKV_TRUST_CERT_COLLECTION,
                TIKV_KEY_CERT_CHAIN,
                TIKV_KEY_FILE,
                UNAVAILABLE_TIMEOUT);
    }

    /** {@link #UNAVAILABLE_TIMEOUT}, named in the failures it causes. */
    public static UnavailableTimeout unavailableTimeout(ReadableConfig options) {
        positive(UNAVAILABLE_TIMEOUT, options.get(UNAVAILABLE_TIMEOUT).toMillis());
        return UnavailableTimeout.of(options.get(UNAVAILABLE_TIMEOUT), UNAVAILABLE_TIMEOUT.key());
    }

    /**
     * Opens a connection to the cluster; when no PD answers, the failure names {@link
     * #PD_ADDRESSES} and its value in front of each address's reason.
     */
    public static <T> T connecting(Supplier<T> open) {
        try {
            return open.get();
        } catch (PdUnreachableException e) {
            throw e.forOption(PD_ADDRESSES.key());
        }
    }

    /**
     * The tikv-client-java configuration for these options.
     *
     * @throws IllegalArgumentException naming the option at fault when a value is missing or out of
     *     range
     */
    public static TiConfiguration toTiConfiguration(ReadableConfig options) {
        String pd =
                options.getOptional(PD_ADDRESSES)
                        .map(String::trim)
                        .filter(s -> !s.isEmpty())
                        .orElseThrow(
                                () ->
                                        new IllegalArgumentException(
                                                "option '"
                                                        + PD_ADDRESSES.key()
                                                        + "' is required: the PD addresses of the"
                                                        + " TiKV cluster, e.g. 127.0.0.1:2379"));
        for (String address : pd.split(",")) {
            if (!address.trim().matches("[^:\\s]+:\\d{1,5}")) {
                throw new IllegalArgumentException(
                        "option '"
                                + PD_ADDRESSES.key()
                                + "' has '"
                                + address.trim()
                                + "', expected host:port");
            }
        }
        TiConfiguration conf = TiConfiguration.createDefault(pd);
        conf.setTimeout(positiveMillis(options, TIKV_GRPC_TIMEOUT));
        conf.setScanTimeout(positiveMillis(options, TIKV_GRPC_SCAN_TIMEOUT));
        conf.setBatchGetConcurrency(positive(options, TIKV_BATCH_GET_CONCURRENCY));
        conf.setBatchScanConcurrency(positive(options, TIKV_BATCH_SCAN_CONCURRENCY));
        configureTls(options, conf);
        unavailableTimeout(options); // checked with the connection, at planning
        return conf;
    }

    /**
     * TLS as tikv-client-java does it: all three files or none (it cannot do TLS without a client
     * certificate), each checked here so that a wrong path fails naming its option rather than in
     * tikv-client-java's channel set-up.
     */
    private static void configureTls(ReadableConfig options, TiConfiguration conf) {
        List<ConfigOption<String>> files =
                List.of(TIKV_TRUST_CERT_COLLECTION, TIKV_KEY_CERT_CHAIN, TIKV_KEY_FILE);
        if (!options.get(TIKV_TLS_ENABLE)) {
            for (ConfigOption<String> file : files) {
                if (options.getOptional(file).isPresent()) {
                    throw new IllegalArgumentException(
                            "option '"
                                    + file.key()
                                    + "' is set but '"
                                    + TIKV_TLS_ENABLE.key()
                                    + "' is false: set it to true to reach the cluster over TLS");
                }
            }
            return;
        }
        for (ConfigOption<String> file : files) {
            if (!options.getOptional(file).filter(s -> !s.trim().isEmpty()).isPresent()) {
                throw new IllegalArgumentException(
                        "option '"
                                + file.key()
                                + "' is required when '"
                                + TIKV_TLS_ENABLE.key()
                                + "' is true (TLS needs "
                                + files.stream()
                                        .map(ConfigOption::key)
                                        .collect(Collectors.joining(", "))
                                + ")");
            }
        }
        conf.setTlsEnable(true);
        conf.setTrustCertCollectionFile(
                pemFile(options, TIKV_TRUST_CERT_COLLECTION, PEM_CERTIFICATE));
        conf.setKeyCertChainFile(pemFile(options, TIKV_KEY_CERT_CHAIN, PEM_CERTIFICATE));
        conf.setKeyFile(pemFile(options, TIKV_KEY_FILE, PEM_PKCS8_KEY));
    }

    /**
     * The path in {@code option}, failing naming it unless the file is readable and holds {@code
     * marker}.
     */
    private static String pemFile(
            ReadableConfig options, ConfigOption<String> option, String marker) {
        String path = options.get(option).trim();
        if (!readable(option, Paths.get(path)).contains(marker)) {
            String problem = "' has no " + marker;
            if (marker.equals(PEM_PKCS8_KEY)) {
                // OpenSSL 1.x's genrsa writes PKCS#1 keys (BEGIN RSA PRIVATE KEY).
                problem +=
                        ": tikv-client-java reads PKCS#8 PEM keys; convert one with"
                                + " openssl pkcs8 -topk8 -nocrypt -in <key> -out <pkcs8 key>";
            }
            throw new IllegalArgumentException("option '" + option.key() + "': '" + path + problem);
        }
        return path;
    }

    private static String readable(ConfigOption<String> option, Path file) {
        if (!Files.exists(file)) {
            throw new IllegalArgumentException(
                    "option '" + option.key() + "': file '" + file + "' does not exist");
        }
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new IllegalArgumentException(
                    "option '" + option.key() + "': '" + file + "' is not a readable file");
        }
        try {
            return new String(Files.readAllBytes(file), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "option '" + option.key() + "': cannot read '" + file + "': " + e.getMessage(),
                    e);
        }
    }

    private static long positiveMillis(ReadableConfig options, ConfigOption<Duration> option) {
        return positive(option, options.get(option).toMillis());
    }

    private static int positive(ReadableConfig options, ConfigOption<Integer> option) {
        return (int) positive(option, options.get(option));
    }

    /** The value of a required text option, trimmed; fails naming the option when it is unset. */
    public static String required(ReadableConfig options, ConfigOption<String> option) {
        return options.getOptional(option)
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .orElseThrow(
                        () ->
                                new IllegalArgumentException(
                                        "option '" + option.key() + "' is required"));
    }

    /**
     * The value of an enum option (given as its constants' {@code toString()}, case-insensitively);
     * fails naming the option, the value and the accepted ones when it is none of them. Flink's own
     * failure names neither the option nor the value in its root cause, and this one has no cause:
     * it is the root cause that SQL clients show.
     */
    public static <E extends Enum<E>> E enumValue(
            Configuration options, ConfigOption<E> option, Class<E> type) {
        try {
            return options.get(option);
        } catch (IllegalArgumentException e) {
            List<String> accepted =
                    Arrays.stream(type.getEnumConstants())
                            .map(Object::toString)
                            .collect(Collectors.toList());
            int last = accepted.size() - 1;
            throw new IllegalArgumentException(
                    "option '"
                            + option.key()
                            + "' has '"
                            + options.toMap().get(option.key())
                            + "'; expected "
                            + String.join(", ", accepted.subList(0, last))
                            + " or "
                            + accepted.get(last));
        }
    }

    /** {@code value}, or a failure naming the option when it is not positive. */
    public static long positive(ConfigOption<?> option, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(
                    "option '" + option.key() + "' must be positive, got " + value);
        }
        return value;
    }
}
