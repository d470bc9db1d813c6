package io.tiflink.tikv.txn;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.tikv.UnavailableTimeout;

import org.tikv.common.TiConfiguration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Commands against a cluster that went away fail within the unavailable timeout (not after
 * tikv-client-java's own 20 s of retrying PD), naming the setting and the last failure.
 */
@Timeout(60)
class TxnClientUnavailableITCase {
    private static final UnavailableTimeout TIMEOUT =
            UnavailableTimeout.of(Duration.ofSeconds(3), "tikv.unavailable-timeout");

    /** The timeout, plus one PD or TiKV request and scheduling on a busy machine. */
    private static final Duration BOUND = Duration.ofSeconds(10);

    @Test
    void commandsFailWithinTheTimeoutWhenTheClusterIsGone() {
        MiniTiKVCluster cluster = MiniTiKVCluster.builder().stores(1).start();
        byte[] key = "k".getBytes(StandardCharsets.US_ASCII);
        String pd = cluster.pdAddress();
        try (TxnClient txn = TxnClient.open(TiConfiguration.createDefault(pd), TIMEOUT, 0)) {
            long ts = txn.timestamp();
            txn.get(ts, List.of(key));
            cluster.close();

            long started = System.nanoTime();
            assertThatThrownBy(() -> txn.get(ts, List.of(key)))
                    .isInstanceOf(TxnException.class)
                    .hasMessageContaining("failed for 'tikv.unavailable-timeout' = '3 s'")
                    .hasMessageContaining(
                            "last error: PD did not answer for key 6b: no region found (PD unreachable)");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(BOUND);

            started = System.nanoTime();
            assertThatThrownBy(txn::timestamp)
                    .isInstanceOf(TxnException.class)
                    .hasMessageContaining(
                            "no timestamp from PD at "
                                    + pd
                                    + " for 'tikv.unavailable-timeout' = '3 s'");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(BOUND);
        }
    }

    @Test
    void aRegionThatStaysBusyFailsTheReadNamingItAndABriefSpellIsRiddenOut() {
        try (MiniTiKVCluster cluster = MiniTiKVCluster.builder().stores(1).start();
                TxnClient txn =
                        TxnClient.open(
                                TiConfiguration.createDefault(cluster.pdAddress()), TIMEOUT, 0)) {
            byte[] key = "k".getBytes(StandardCharsets.US_ASCII);
            long store = cluster.storeIds().get(0);
            long region = cluster.regions().all().get(0).id;
            // A few refusals: retried through.
            cluster.faults().serverIsBusy(store, 3);
            assertThat(txn.get(txn.timestamp(), List.of(key))).isEmpty();

            cluster.faults().serverIsBusy(store, Integer.MAX_VALUE);
            long started = System.nanoTime();
            assertThatThrownBy(() -> txn.get(txn.timestamp(), List.of(key)))
                    .isInstanceOf(TxnException.class)
                    .hasMessageContaining("failed for 'tikv.unavailable-timeout' = '3 s'")
                    .hasMessageContaining("last error: region " + region + ": ")
                    .hasMessageContaining("server is busy");
            assertThat(Duration.ofNanos(System.nanoTime() - started))
                    .isGreaterThanOrEqualTo(TIMEOUT.duration())
                    .isLessThan(BOUND);
            cluster.faults().clear();
        }
    }
}
