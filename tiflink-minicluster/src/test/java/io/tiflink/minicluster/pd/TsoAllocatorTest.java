package io.tiflink.minicluster.pd;

import io.tiflink.minicluster.storage.TimeStamps;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TsoAllocatorTest {
    private static final long MAX_LOGICAL = (1L << TimeStamps.LOGICAL_BITS) - 1;

    private final AtomicLong clock = new AtomicLong(1_000);
    private final TsoAllocator tso = new TsoAllocator(clock::get);

    @Test
    void composesPhysicalMillisAndALogicalCounter() {
        long ts = tso.next();
        assertThat(TimeStamps.physical(ts)).isEqualTo(1_000);
        assertThat(TimeStamps.logical(ts)).isEqualTo(1);
        assertThat(ts).isEqualTo((1_000L << 18) | 1);
        assertThat(TimeStamps.logical(tso.next())).isEqualTo(2);

        clock.set(2_000);
        long later = tso.next();
        assertThat(TimeStamps.physical(later)).isEqualTo(2_000);
        assertThat(TimeStamps.logical(later)).isEqualTo(1);
    }

    @Test
    void allocateReturnsTheLastOfTheBatch() {
        long first = tso.next();
        long last = tso.allocate(10);
        assertThat(last).isEqualTo(first + 10);
        assertThat(tso.next()).isEqualTo(last + 1);
        assertThatThrownBy(() -> tso.allocate(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void logicalOverflowMovesToTheNextMillisecond() {
        long full = tso.allocate((int) MAX_LOGICAL);
        assertThat(TimeStamps.physical(full)).isEqualTo(1_000);
        assertThat(TimeStamps.logical(full)).isEqualTo(MAX_LOGICAL);

        long next = tso.next();

        assertThat(TimeStamps.physical(next)).isEqualTo(1_001);
        assertThat(TimeStamps.logical(next)).isEqualTo(1);
        assertThat(next).isGreaterThan(full);
        // A batch that does not fit the rest of the millisecond moves on too.
        tso.allocate((int) MAX_LOGICAL - 2);
        long batch = tso.allocate(5);
        assertThat(TimeStamps.physical(batch)).isEqualTo(1_002);
        assertThat(TimeStamps.logical(batch)).isEqualTo(5);
        // The wall clock catching up does not go back.
        clock.set(1_002);
        assertThat(tso.next()).isEqualTo(batch + 1);
    }

    @Test
    void aClockGoingBackwardsDoesNotGoBack() {
        long before = tso.next();
        clock.set(500);
        long after = tso.next();
        assertThat(after).isEqualTo(before + 1);
    }

    @Test
    void strictlyIncreasingAcrossThreads() throws Exception {
        TsoAllocator real = new TsoAllocator();
        int threads = 4;
        int perThread = 20_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<long[]>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Callable<long[]> task =
                        () -> {
                            long[] out = new long[perThread];
                            for (int i = 0; i < perThread; i++) {
                                out[i] = i % 7 == 0 ? real.allocate(3) : real.next();
                            }
                            return out;
                        };
                futures.add(pool.submit(task));
            }
            Set<Long> all = new HashSet<>();
            for (Future<long[]> f : futures) {
                long[] seq = f.get();
                for (int i = 0; i < seq.length; i++) {
                    if (i > 0) {
                        assertThat(seq[i]).isGreaterThan(seq[i - 1]);
                    }
                    assertThat(TimeStamps.logical(seq[i])).isPositive();
                    all.add(seq[i]);
                }
            }
            assertThat(all).hasSize(threads * perThread);
            assertThat(real.next()).isGreaterThan(all.stream().mapToLong(x -> x).max().getAsLong());
        } finally {
            pool.shutdownNow();
        }
    }
}
