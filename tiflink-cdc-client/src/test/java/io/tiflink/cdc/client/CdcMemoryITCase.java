package io.tiflink.cdc.client;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;

import org.tikv.common.TiConfiguration;
import org.tikv.kvproto.Kvrpcpb;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import static io.tiflink.cdc.client.Writes.bytes;
import static io.tiflink.cdc.client.Writes.mutation;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The memory quota: a slow consumer or a held resolved ts never makes the client grow. */
class CdcMemoryITCase {
    private static final long QUOTA = 1 << 20;

    /** One message beyond the quota: a scan event is about 32 KiB, a write batch smaller. */
    private static final long SLACK = 256 << 10;

    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(
                    b ->
                            b.stores(3)
                                    .cdcResolvedTsInterval(Duration.ofMillis(50))
                                    // TiKV's side gives up on a congested region too.
                                    .cdcMemoryQuota(2 << 20)
                                    .splitAt(bytes("q/3"), bytes("q/6")));

    private static CdcClient client(MiniTiKVCluster cluster, long quota) {
        return CdcClient.create(
                TiConfiguration.createDefault(cluster.pdAddress()),
                CdcClientConfig.builder().memoryQuota(quota).build());
    }

    private static final KeyRange RANGE = KeyRange.of(bytes("q/"), bytes("q0"));

    /** Writes {@code count} 1 KiB values over keys q/0.. q/9..; returns the last commit ts. */
    private static CompletableFuture<Long> writeInBackground(Writes w, String prefix, int count) {
        return CompletableFuture.supplyAsync(
                () -> {
                    long last = 0;
                    byte[] value = new byte[1024];
                    for (int i = 0; i < count; i++) {
                        value[i % value.length]++;
                        last =
                                w.commit(
                                        List.of(
                                                mutation(
                                                        bytes(prefix + (i % 10) + "/" + (i % 97)),
                                                        value.clone())));
                    }
                    return last;
                });
    }

    @Test
    void aStalledConsumerSlowsTheStreamsAndLosesNothing(MiniTiKVCluster cluster) throws Exception {
        Writes w = new Writes(cluster);
        long start = cluster.currentTs();
        try (CdcClient client = client(cluster, QUOTA);
                ChangeStream stream = client.subscribe(List.of(RANGE), start)) {
            CompletableFuture<Long> writer = writeInBackground(w, "q/", 6000);
            AtomicLong peak = new AtomicLong();
            // The consumer takes nothing while ~12 MiB of changes (values and old values) arrive;
            // they reach the client after their commits, so it samples until the buffer has filled
            // (not only until the writer is done, which can be first).
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(5))
                    .until(
                            () -> {
                                peak.accumulateAndGet(stream.bufferedBytes(), Math::max);
                                return writer.isDone() && peak.get() > QUOTA / 2;
                            });
            long end = writer.get();
            assertThat(peak.get()).isGreaterThan(QUOTA / 2).isLessThanOrEqualTo(QUOTA + SLACK);
            ChangeLog log = new ChangeLog(start);
            log.awaitResolved(stream, end, Duration.ofSeconds(60));
            assertThat(log.changes)
                    .containsExactlyElementsOf(
                            CdcChaosITCase.history(
                                    cluster.storage(), RANGE, start, log.resolved()));
        }
    }

    @Test
    void changesHeldBackByALongTransactionGoToDiskAndComeBackInOrder(MiniTiKVCluster cluster)
            throws Exception {
        Writes w = new Writes(cluster);
        KeyRange range = KeyRange.of(bytes("h/"), bytes("h0"));
        long start = cluster.currentTs();
        List<Kvrpcpb.Mutation> longTxn = List.of(mutation(bytes("h/long"), bytes("x")));
        try (CdcClient client = client(cluster, QUOTA);
                ChangeStream stream = client.subscribe(List.of(range), start)) {
            ChangeLog log = new ChangeLog(start);
            w.put("h/before", "released before the long transaction");
            long longStart = w.prewrite(longTxn, 60_000);
            CompletableFuture<Long> writer = writeInBackground(w, "h/", 3000);
            AtomicLong peak = new AtomicLong();
            // The consumer keeps polling, but nothing after the long txn's start can be released.
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(5))
                    .until(
                            () -> {
                                log.take(stream, Duration.ofMillis(5));
                                peak.accumulateAndGet(stream.bufferedBytes(), Math::max);
                                return writer.isDone() && stream.spilledBytes() > 2 * QUOTA;
                            });
            assertThat(peak.get()).isLessThanOrEqualTo(QUOTA + SLACK);
            assertThat(log.resolved()).isLessThanOrEqualTo(longStart);
            long longCommit = cluster.currentTs();
            w.commit(longStart, longCommit, longTxn);
            log.awaitResolved(stream, longCommit, Duration.ofSeconds(60));
            assertThat(((Subscription) stream).spills()).isPositive();
            assertThat(stream.spilledBytes()).isZero();
            assertThat(log.changes)
                    .containsExactlyElementsOf(
                            CdcChaosITCase.history(
                                    cluster.storage(), range, start, log.resolved()));
        }
    }
}
