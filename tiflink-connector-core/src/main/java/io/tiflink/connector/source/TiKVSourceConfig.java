package io.tiflink.connector.source;

import io.tiflink.cdc.client.CdcClientConfig;
import io.tiflink.connector.TiKVOptions;
import io.tiflink.connector.consistency.Consistency;
import io.tiflink.tikv.TxnSource;

import org.apache.flink.annotation.Internal;
import org.apache.flink.configuration.Configuration;

import org.tikv.common.TiConfiguration;

import java.io.Serializable;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;

/**
 * A TiKV source's settings, validated once where the source is built (so that a wrong option fails
 * the job submission with a message naming it) and shipped to the enumerator and readers.
 */
@Internal
public final class TiKVSourceConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Configuration options;
    private final HandleRange handles;
    private final boolean handOffAfterCheckpoint;

    /**
     * @param handOffAfterCheckpoint whether changes may start only once a checkpoint has completed
     *     after the snapshot (so that no change overtakes a snapshot row read by another subtask);
     *     false for jobs without checkpoints
     */
    public TiKVSourceConfig(
            Configuration options, HandleRange handles, boolean handOffAfterCheckpoint) {
        this.options = new Configuration(options);
        this.handles = handles;
        this.handOffAfterCheckpoint = handOffAfterCheckpoint;
        validate();
    }

    private void validate() {
        TiKVOptions.toTiConfiguration(options);
        TiKVOptions.required(options, TiKVSourceOptions.DATABASE_NAME);
        TiKVOptions.required(options, TiKVSourceOptions.TABLE_NAME);
        StartupMode mode = startupMode();
        if (mode == StartupMode.TIMESTAMP
                && !options.getOptional(TiKVSourceOptions.STARTUP_TIMESTAMP_MILLIS).isPresent()) {
            throw new IllegalArgumentException(
                    "option '"
                            + TiKVSourceOptions.STARTUP_TIMESTAMP_MILLIS.key()
                            + "' is required when '"
                            + TiKVSourceOptions.STARTUP_MODE.key()
                            + "' is timestamp");
        }
        TiKVOptions.positive(TiKVSourceOptions.SNAPSHOT_FETCH_SIZE, fetchSize());
        changelogFormat();
        consistent();
        if (gcTtl().getSeconds() < 1) {
            throw new IllegalArgumentException(
                    "option '"
                            + TiKVSourceOptions.GC_SAFE_POINT_TTL.key()
                            + "' must be at least 1 s, got "
                            + gcTtl());
        }
        cdcConfig();
        for (long source : skippedTxnSources()) {
            if (source < 1 || source > TxnSource.MAX_CDC_WRITE_SOURCE) {
                throw new IllegalArgumentException(
                        "option '"
                                + TiKVSourceOptions.CDC_SKIP_TXN_SOURCES.key()
                                + "' takes marks between 1 and "
                                + TxnSource.MAX_CDC_WRITE_SOURCE
                                + " (TiDB's range for a replicator's mark), got "
                                + source);
            }
        }
    }

    public TiConfiguration tiConfiguration() {
        return TiKVOptions.toTiConfiguration(options);
    }

    public String database() {
        return TiKVOptions.required(options, TiKVSourceOptions.DATABASE_NAME);
    }

    public String table() {
        return TiKVOptions.required(options, TiKVSourceOptions.TABLE_NAME);
    }

    public StartupMode startupMode() {
        return TiKVOptions.enumValue(options, TiKVSourceOptions.STARTUP_MODE, StartupMode.class);
    }

    /**
     * For {@link StartupMode#TIMESTAMP}: the start as a TSO, just below the first TSO of that
     * millisecond, so changes committed at or after it are read.
     */
    public long startupTs() {
        return (options.get(TiKVSourceOptions.STARTUP_TIMESTAMP_MILLIS) << 18) - 1;
    }

    public int fetchSize() {
        return options.get(TiKVSourceOptions.SNAPSHOT_FETCH_SIZE);
    }

    public ChangelogFormat changelogFormat() {
        return TiKVOptions.enumValue(
                options, TiKVSourceOptions.CHANGELOG_MODE, ChangelogFormat.class);
    }

    /** Whether updates are emitted as +U only (true) or as -U, +U (false). */
    public boolean upsert() {
        return changelogFormat() == ChangelogFormat.UPSERT;
    }

    public Duration gcTtl() {
        return options.get(TiKVSourceOptions.GC_SAFE_POINT_TTL);
    }

    /** {@code scan.cdc.skip-txn-sources}: the marks whose changes are not emitted. */
    public Set<Long> skippedTxnSources() {
        return new HashSet<>(
                options.getOptional(TiKVSourceOptions.CDC_SKIP_TXN_SOURCES)
                        .orElse(Collections.emptyList()));
    }

    public HandleRange handles() {
        return handles;
    }

    /** Whether the source emits at the job's cuts ({@link Consistency#SNAPSHOT}). */
    public boolean consistent() {
        return TiKVOptions.enumValue(options, TiKVOptions.CONSISTENCY, Consistency.class)
                == Consistency.SNAPSHOT;
    }

    public boolean handOffAfterCheckpoint() {
        return handOffAfterCheckpoint;
    }

    /** The CDC client's settings, with a fresh GC service id per reader. */
    public CdcClientConfig cdcConfig() {
        CdcClientConfig.Builder b =
                CdcClientConfig.builder()
                        .memoryQuota(options.get(TiKVSourceOptions.CDC_MEMORY_QUOTA).getBytes())
                        .lockResolveAfter(options.get(TiKVSourceOptions.CDC_LOCK_RESOLVE_AFTER))
                        .gcServiceId("tiflink-source-reader-" + UUID.randomUUID())
                        .unavailableTimeout(TiKVOptions.unavailableTimeout(options));
        options.getOptional(TiKVSourceOptions.CDC_SPILL_DIRECTORY)
                .ifPresent(d -> b.spillDirectory(Paths.get(d)));
        return b.build();
    }

    public Configuration options() {
        return options;
    }
}
