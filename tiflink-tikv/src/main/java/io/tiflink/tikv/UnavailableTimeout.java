package io.tiflink.tikv;

import java.time.Duration;
import java.util.Objects;

/**
 * How long a command or a change subscription keeps retrying while PD or TiKV cannot serve it
 * before it fails, and the setting it came from, which failures name so that a user knows what to
 * change.
 */
public final class UnavailableTimeout {
    /** One minute, set by no option. */
    public static final UnavailableTimeout DEFAULT = of(Duration.ofMinutes(1), null);

    private final Duration duration;
    private final String setting;

    private UnavailableTimeout(Duration duration, String setting) {
        this.duration = duration;
        this.setting = setting;
    }

    /**
     * @param setting the name of the setting that chose {@code duration}, or null
     */
    public static UnavailableTimeout of(Duration duration, String setting) {
        if (Objects.requireNonNull(duration, "duration").isNegative() || duration.isZero()) {
            throw new IllegalArgumentException(
                    (setting == null ? "the unavailable timeout" : "'" + setting + "'")
                            + " must be positive, got "
                            + duration);
        }
        return new UnavailableTimeout(duration, setting);
    }

    public Duration duration() {
        return duration;
    }

    public long millis() {
        return duration.toMillis();
    }

    /** E.g. {@code 'tikv.unavailable-timeout' = '3 s'}, or {@code 3 s} when no setting chose it. */
    @Override
    public String toString() {
        String value = format(duration);
        return setting == null ? value : "'" + setting + "' = '" + value + "'";
    }

    /** A duration as Flink writes one: its largest whole unit. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 60_000 == 0) {
            return ms / 60_000 + " min";
        }
        if (ms % 1_000 == 0) {
            return ms / 1_000 + " s";
        }
        return ms + " ms";
    }
}
