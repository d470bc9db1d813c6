package io.tiflink.cdc.client;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class LogLimiterTest {
    private final AtomicLong now = new AtomicLong(1_000);
    private final LogLimiter limiter = new LogLimiter(Duration.ofNanos(100), now::get);

    @Test
    void logsTheFirstFailureThenOneLinePerIntervalWithTheCountLeftOut() {
        assertThat(limiter.failed()).isZero();
        now.addAndGet(10);
        assertThat(limiter.failed()).isEqualTo(-1);
        now.addAndGet(10);
        assertThat(limiter.failed()).isEqualTo(-1);
        now.addAndGet(80);
        assertThat(limiter.failed()).isEqualTo(2);
        now.addAndGet(99);
        assertThat(limiter.failed()).isEqualTo(-1);
    }

    @Test
    void aSuccessLetsTheNextFailureBeLoggedAtOnce() {
        assertThat(limiter.failed()).isZero();
        assertThat(limiter.failed()).isEqualTo(-1);
        limiter.succeeded();
        now.addAndGet(1);
        assertThat(limiter.failed()).isZero();
    }
}
