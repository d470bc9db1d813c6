package io.tiflink.cdc.client;

/**
 * Where some keys of a subscription stand in getting a working feed: failures in a row (which set
 * the back-off), since when they have had none, and why the last try failed. Immutable.
 */
final class Retry {
    /** Failed registrations in a row before this one. */
    final int attempt;

    /** {@link System#nanoTime()} since which the keys have had no working feed. */
    final long unservedSinceNanos;

    /** Why the last try failed; for the message if the keys stay unserved too long. */
    final String cause;

    Retry(int attempt, long unservedSinceNanos, String cause) {
        this.attempt = attempt;
        this.unservedSinceNanos = unservedSinceNanos;
        this.cause = cause;
    }

    /** The first registration of keys served by nothing yet. */
    static Retry first() {
        return new Retry(0, System.nanoTime(), "not registered yet");
    }

    /** The next try after this one failed for {@code why}: backing off more, on the same clock. */
    Retry failed(String why) {
        return new Retry(attempt + 1, unservedSinceNanos, why);
    }
}
