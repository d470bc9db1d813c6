package io.tiflink.cdc.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a consumer took from a {@link ChangeStream}, checked against the stream's contract as it is
 * taken: resolved ts strictly increasing; between two resolved events only changes above the first
 * and at or below the second, in (commit ts, key) order.
 */
final class ChangeLog {
    final List<KeyChange> changes = new ArrayList<>();
    private final List<KeyChange> sinceResolved = new ArrayList<>();
    private long resolved;
    private int resolvedEvents;

    ChangeLog(long startTs) {
        this.resolved = startTs;
    }

    long resolved() {
        return resolved;
    }

    int resolvedEvents() {
        return resolvedEvents;
    }

    /** Takes one event (waiting up to {@code timeout}); false if none came. */
    boolean take(ChangeStream stream, Duration timeout) throws InterruptedException {
        ChangeEvent e = stream.poll(timeout);
        if (e == null) {
            return false;
        }
        if (e.isResolved()) {
            assertThat(e.resolvedTs()).as("resolved ts goes forward").isGreaterThan(resolved);
            for (KeyChange c : sinceResolved) {
                assertThat(c.commitTs())
                        .as("%s released before its resolved ts", c)
                        .isLessThanOrEqualTo(e.resolvedTs());
            }
            resolved = e.resolvedTs();
            resolvedEvents++;
            sinceResolved.clear();
            assertThat(stream.resolvedTs()).isEqualTo(resolved);
        } else {
            KeyChange c = e.change();
            assertThat(c.commitTs())
                    .as("%s after resolved ts %d", c, resolved)
                    .isGreaterThan(resolved);
            if (!sinceResolved.isEmpty()) {
                KeyChange previous = sinceResolved.get(sinceResolved.size() - 1);
                assertThat(KeyChange.COMMIT_ORDER.compare(previous, c))
                        .as("%s comes after %s", c, previous)
                        .isNegative();
            }
            sinceResolved.add(c);
            changes.add(c);
        }
        return true;
    }

    /** Takes events until the resolved ts reaches {@code ts}. */
    void awaitResolved(ChangeStream stream, long ts, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (resolved < ts) {
            long left = deadline - System.nanoTime();
            assertThat(left)
                    .as("resolved ts %d reached %d within %s", resolved, ts, timeout)
                    .isPositive();
            take(stream, Duration.ofNanos(Math.min(left, Duration.ofMillis(100).toNanos())));
        }
    }
}
