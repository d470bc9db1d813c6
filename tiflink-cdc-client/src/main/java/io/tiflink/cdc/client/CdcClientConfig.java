package io.tiflink.cdc.client;

import io.tiflink.tikv.UnavailableTimeout;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;

/**
 * Settings of a {@link CdcClient} beyond those of tikv-client-java's {@code TiConfiguration}
 * (addresses, timeouts, TLS), which the client takes as they are.
 */
public final class CdcClientConfig {
    private final long memoryQuota;
    private final Duration lockResolveAfter;
    private final String gcServiceId;
    private final Duration gcTtl;
    private final Duration retryBackoffMin;
    private final Duration retryBackoffMax;
    private final Path spillDirectory;
    private final UnavailableTimeout unavailableTimeout;

    private CdcClientConfig(Builder b) {
        this.memoryQuota = b.memoryQuota;
        this.lockResolveAfter = b.lockResolveAfter;
        this.gcServiceId = b.gcServiceId;
        this.gcTtl = b.gcTtl;
        this.retryBackoffMin = b.retryBackoffMin;
        this.retryBackoffMax = b.retryBackoffMax;
        this.spillDirectory = b.spillDirectory;
        this.unavailableTimeout = b.unavailableTimeout;
    }

    public static Builder builder() {
        return new Builder();
    }

    public static CdcClientConfig defaults() {
        return builder().build();
    }

    /** Bytes of changes one subscription may hold (received, not yet taken by the consumer). */
    public long memoryQuota() {
        return memoryQuota;
    }

    /**
     * How far a region's resolved ts may lag behind the current time before the locks holding it
     * back are checked and, if their transactions are over or abandoned, resolved.
     */
    public Duration lockResolveAfter() {
        return lockResolveAfter;
    }

    /** The PD service id under which a subscription holds the GC safe point at its resolved ts. */
    public String gcServiceId() {
        return gcServiceId;
    }

    /** How long the service GC safe point outlives a subscription that stops renewing it. */
    public Duration gcTtl() {
        return gcTtl;
    }

    public Duration retryBackoffMin() {
        return retryBackoffMin;
    }

    public Duration retryBackoffMax() {
        return retryBackoffMax;
    }

    /**
     * Where changes go that do not fit in memory while the resolved ts cannot pass them (a long
     * transaction, or catching up from an old start ts).
     */
    public Path spillDirectory() {
        return spillDirectory;
    }

    /**
     * How long some keys of a subscription may go without a working feed (their region cannot be
     * looked up in PD, registered, or its store's stream is broken) before the subscription fails.
     * A long-running transaction holding the resolved ts back is not such an outage.
     */
    public UnavailableTimeout unavailableTimeout() {
        return unavailableTimeout;
    }

    /** Builds a {@link CdcClientConfig}; every setting has a default. */
    public static final class Builder {
        private long memoryQuota = 128L << 20;
        private Duration lockResolveAfter = Duration.ofSeconds(20);
        private String gcServiceId = "tiflink-cdc-" + UUID.randomUUID();
        private Duration gcTtl = Duration.ofMinutes(10);
        private Duration retryBackoffMin = Duration.ofMillis(20);
        private Duration retryBackoffMax = Duration.ofSeconds(2);
        private Path spillDirectory =
                Paths.get(System.getProperty("java.io.tmpdir"), "tiflink-cdc");
        private UnavailableTimeout unavailableTimeout = UnavailableTimeout.DEFAULT;

        private Builder() {}

        /** Default 128 MiB. */
        public Builder memoryQuota(long bytes) {
            if (bytes <= 0) {
                throw new IllegalArgumentException("memoryQuota must be positive, got " + bytes);
            }
            this.memoryQuota = bytes;
            return this;
        }

        /** Default 20 s, as TiCDC. */
        public Builder lockResolveAfter(Duration lag) {
            this.lockResolveAfter = positive("lockResolveAfter", lag);
            return this;
        }

        /** Default {@code tiflink-cdc-<random uuid>}. */
        public Builder gcServiceId(String serviceId) {
            if (Objects.requireNonNull(serviceId, "gcServiceId").isBlank()) {
                throw new IllegalArgumentException("gcServiceId must not be blank");
            }
            this.gcServiceId = serviceId;
            return this;
        }

        /** Default 10 min; at least 1 s. */
        public Builder gcTtl(Duration ttl) {
            if (Objects.requireNonNull(ttl, "gcTtl").getSeconds() < 1) {
                throw new IllegalArgumentException("gcTtl must be at least 1 s, got " + ttl);
            }
            this.gcTtl = ttl;
            return this;
        }

        /** Default 20 ms to 2 s, doubling for each failure in a row. */
        public Builder retryBackoff(Duration min, Duration max) {
            positive("retryBackoff min", min);
            if (max.compareTo(min) < 0) {
                throw new IllegalArgumentException(
                        "retryBackoff max " + max + " is below its min " + min);
            }
            this.retryBackoffMin = min;
            this.retryBackoffMax = max;
            return this;
        }

        /** Default {@code <java.io.tmpdir>/tiflink-cdc}. */
        public Builder spillDirectory(Path directory) {
            this.spillDirectory = Objects.requireNonNull(directory, "spillDirectory");
            return this;
        }

        /** Default 1 min; failures name the setting the timeout carries. */
        public Builder unavailableTimeout(UnavailableTimeout timeout) {
            this.unavailableTimeout = Objects.requireNonNull(timeout, "unavailableTimeout");
            return this;
        }

        public CdcClientConfig build() {
            return new CdcClientConfig(this);
        }

        private static Duration positive(String name, Duration d) {
            if (Objects.requireNonNull(d, name).isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, got " + d);
            }
            return d;
        }
    }
}
