package io.tiflink.cdc.client;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.tikv.UnavailableTimeout;

import org.tikv.common.TiConfiguration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;

import static io.tiflink.cdc.client.Writes.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A subscription whose keys have no working feed for longer than the unavailable timeout fails with
 * one error naming the keys, the setting and the last cause; a store going down among others, its
 * regions' leaders elected elsewhere, is no such outage.
 */
@Timeout(90)
class CdcUnavailableITCase {
    private static final Duration TIMEOUT = Duration.ofSeconds(3);

    /** The timeout, plus the stream noticing and a busy machine's scheduling. */
    private static final Duration BOUND = Duration.ofSeconds(15);

    private static final KeyRange RANGE = KeyRange.of(bytes("k/"), bytes("k0"));

    private static CdcClientConfig config() {
        return CdcClientConfig.builder()
                .retryBackoff(Duration.ofMillis(10), Duration.ofMillis(500))
                .unavailableTimeout(UnavailableTimeout.of(TIMEOUT, "tikv.unavailable-timeout"))
                .build();
    }

    @Test
    void aSubscriptionFailsWithinTheTimeoutWhenTheClusterIsGone() throws Exception {
        MiniTiKVCluster cluster =
                MiniTiKVCluster.builder()
                        .stores(1)
                        .cdcResolvedTsInterval(Duration.ofMillis(50))
                        .start();
        String store = cluster.storeAddress(cluster.storeIds().get(0));
        Writes w = new Writes(cluster);
        long start = cluster.currentTs();
        try (CdcClient client =
                        CdcClient.create(
                                TiConfiguration.createDefault(cluster.pdAddress()), config());
                ChangeStream stream = client.subscribe(List.of(RANGE), start)) {
            ChangeLog log = new ChangeLog(start);
            log.awaitResolved(stream, w.put("k/1", "a"), Duration.ofSeconds(30));

            cluster.close();
            long closed = System.nanoTime();
            assertThatThrownBy(
                            () -> {
                                while (true) {
                                    log.take(stream, Duration.ofMillis(100));
                                }
                            })
                    .isInstanceOf(CdcException.class)
                    .hasMessageContaining("keys " + RANGE + " have had no working change feed")
                    .hasMessageContaining("more than 'tikv.unavailable-timeout' = '3 s'")
                    .hasMessageContaining("last error: ")
                    .satisfies(
                            e ->
                                    assertThat(e.getMessage())
                                            .containsAnyOf(
                                                    "stream to store 1 at " + store + " broke",
                                                    "PD did not answer"));
            assertThat(Duration.ofNanos(System.nanoTime() - closed))
                    .isGreaterThanOrEqualTo(TIMEOUT)
                    .isLessThan(BOUND);
        }
    }

    @Test
    void aStoreDownAmongOthersIsNoOutage() throws Exception {
        try (MiniTiKVCluster cluster =
                MiniTiKVCluster.builder()
                        .stores(3)
                        .cdcResolvedTsInterval(Duration.ofMillis(50))
                        .start()) {
            Writes w = new Writes(cluster);
            long start = cluster.currentTs();
            long store = cluster.storeIds().get(0);
            try (CdcClient client =
                            CdcClient.create(
                                    TiConfiguration.createDefault(cluster.pdAddress()), config());
                    ChangeStream stream = client.subscribe(List.of(RANGE), start)) {
                ChangeLog log = new ChangeLog(start);
                log.awaitResolved(stream, w.put("k/1", "a"), Duration.ofSeconds(30));
                cluster.stopStore(store);
                // Longer than the timeout with the store down, writing all along.
                long until = System.nanoTime() + TIMEOUT.multipliedBy(2).toNanos();
                int i = 2;
                while (System.nanoTime() < until) {
                    log.awaitResolved(stream, w.put("k/" + i++, "b"), Duration.ofSeconds(30));
                }
                assertThat(log.changes).hasSize(i - 1);
            }
        }
    }
}
