package io.tiflink.minicluster.pd;

import io.tiflink.minicluster.storage.TimeStamps;

import java.util.function.LongSupplier;

/**
 * PD's timestamp oracle: physical wall-clock milliseconds and an 18-bit logical counter, strictly
 * increasing for every caller (clients, and the stores' own uses such as CDC's min ts).
 */
public final class TsoAllocator {
    private static final long MAX_LOGICAL = 1L << TimeStamps.LOGICAL_BITS;

    private final LongSupplier clock;
    private long physical;
    private long logical;

    public TsoAllocator() {
        this(System::currentTimeMillis);
    }

    TsoAllocator(LongSupplier clock) {
        this.clock = clock;
    }

    /** Allocates {@code count} timestamps and returns the last, as PD's Tso does. */
    public synchronized long allocate(int count) {
        if (count < 1) {
            throw new IllegalArgumentException("tso count must be positive, got " + count);
        }
        long now = clock.getAsLong();
        if (now > physical) {
            physical = now;
            logical = 0;
        }
        if (logical + count >= MAX_LOGICAL) {
            // Logical space for this millisecond is used up: move to the next millisecond.
            physical++;
            logical = 0;
        }
        logical += count;
        return TimeStamps.compose(physical, logical);
    }

    public long next() {
        return allocate(1);
    }
}
