package io.tiflink.cdc.client;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Lets a failure that recurs for the same cause (PD or a store gone, retried every few hundred
 * milliseconds) be logged at most once per interval: the first at once, then one line per interval
 * saying how many were left out. A success in between starts over.
 */
final class LogLimiter {
    /** Between two lines about the same cause. */
    static final Duration INTERVAL = Duration.ofSeconds(30);

    private final long intervalNanos;
    private final LongSupplier nanoClock;

    private boolean failing;
    private long nextLineNanos;
    private long left;

    LogLimiter() {
        this(INTERVAL, System::nanoTime);
    }

    LogLimiter(Duration interval, LongSupplier nanoClock) {
        this.intervalNanos = interval.toNanos();
        this.nanoClock = nanoClock;
    }

    /**
     * Counts a failure.
     *
     * @return -1 if this one is not to be logged, else how many were left out since the last line
     */
    synchronized long failed() {
        long now = nanoClock.getAsLong();
        if (failing && now - nextLineNanos < 0) {
            left++;
            return -1;
        }
        failing = true;
        nextLineNanos = now + intervalNanos;
        long leftOut = left;
        left = 0;
        return leftOut;
    }

    /** The cause is over: its next failure is logged at once. */
    synchronized void succeeded() {
        failing = false;
        left = 0;
    }
}
