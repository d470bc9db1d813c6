package io.tiflink.minicluster.conformance;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;

import org.tikv.common.Snapshot;
import org.tikv.common.TiSession;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.txn.KVClient;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Snapshot scans through the real client: batch continuation (client-java's scan batch is 10240
 * keys), region boundaries, and regions splitting under a scan with a stale region cache.
 */
class ScanConformanceITCase {
    private static final int BATCH = 10240;

    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(3));

    private static String key(String prefix, int i) {
        return String.format("%s%06d", prefix, i);
    }

    private static String value(String key) {
        return "v-" + key;
    }

    /** Loads committed keys straight into the engine (2PC without gRPC); returns commit ts. */
    private static long load(MiniTiKVCluster cluster, List<String> keys) {
        long startTs = cluster.currentTs();
        Kvrpcpb.PrewriteRequest.Builder pw =
                Kvrpcpb.PrewriteRequest.newBuilder()
                        .setPrimaryLock(Wire.bs(keys.get(0)))
                        .setStartVersion(startTs)
                        .setMinCommitTs(startTs)
                        .setLockTtl(60_000)
                        .setTxnSize(16);
        Kvrpcpb.CommitRequest.Builder commit = Kvrpcpb.CommitRequest.newBuilder();
        for (String k : keys) {
            pw.addMutations(
                    Kvrpcpb.Mutation.newBuilder()
                            .setOp(Kvrpcpb.Op.Put)
                            .setKey(Wire.bs(k))
                            .setValue(Wire.bs(value(k))));
            commit.addKeys(Wire.bs(k));
        }
        assertThat(cluster.percolator().prewrite(pw.build()).getErrorsCount()).isZero();
        long commitTs = cluster.currentTs();
        Kvrpcpb.CommitResponse resp =
                cluster.percolator()
                        .commit(commit.setStartVersion(startTs).setCommitVersion(commitTs).build());
        assertThat(resp.hasError()).isFalse();
        return commitTs;
    }

    private static List<String> keys(String prefix, int count) {
        List<String> keys = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            keys.add(key(prefix, i));
        }
        return keys;
    }

    private static void assertPairs(List<Kvrpcpb.KvPair> pairs, List<String> expected) {
        List<String> got = new ArrayList<>(pairs.size());
        for (Kvrpcpb.KvPair p : pairs) {
            assertThat(p.hasError()).isFalse();
            String k = p.getKey().toStringUtf8();
            assertThat(p.getValue().toStringUtf8()).isEqualTo(value(k));
            got.add(k);
        }
        // containsExactlyElementsOf: every key exactly once, in order.
        assertThat(got).hasSameSizeAs(expected).containsExactlyElementsOf(expected);
    }

    /** Takes pairs from an unbounded snapshot iterator while they have the prefix. */
    private static List<Kvrpcpb.KvPair> takePrefix(
            Iterator<Kvrpcpb.KvPair> it, String prefix, Runnable everyBatchOf5000) {
        List<Kvrpcpb.KvPair> out = new ArrayList<>();
        while (it.hasNext()) {
            Kvrpcpb.KvPair p = it.next();
            if (!p.getKey().toStringUtf8().startsWith(prefix)) {
                break;
            }
            out.add(p);
            if (out.size() % 5000 == 0) {
                everyBatchOf5000.run();
            }
        }
        return out;
    }

    @Test
    void scanContinuesBatchesWithinAndAcrossRegions(MiniTiKVCluster cluster) throws Exception {
        cluster.split(Wire.bytes("s1-b"), Wire.bytes("s1-d"), Wire.bytes("s1-f"));
        List<String> expected = new ArrayList<>();
        expected.addAll(keys("s1-a", 12_000)); // more than one batch in one region
        expected.addAll(keys("s1-c", BATCH)); // exactly one batch: the next one comes back empty
        expected.addAll(keys("s1-e", 3));
        // region [s1-f, ...) is empty.
        load(cluster, expected);

        try (TiSession session = Wire.session(cluster);
                KVClient kv = session.createKVClient()) {
            long ts = session.getTimestamp().getVersion();
            assertPairs(kv.scan(Wire.bs("s1-"), Wire.bs("s1."), ts), expected);
            // A bounded scan that ends inside a batch.
            assertPairs(
                    kv.scan(Wire.bs("s1-a000100"), Wire.bs("s1-c000005"), ts),
                    expected.subList(100, 12_000 + 5));
            // (KVClient.scan with a limit is not exercised: client-java 3.3.5 always asks TiKV
            // for a full 10240-key batch, then throws IndexOutOfBoundsException when the batch
            // exceeds its remaining limit. That happens against a real TiKV too.)
            // The snapshot iterator, unbounded.
            Snapshot snapshot = session.createSnapshot();
            assertPairs(takePrefix(snapshot.scan(Wire.bs("s1-")), "s1-", () -> {}), expected);
        }
    }

    @Test
    void splitsBetweenBatchesOfOneIteratorAreFollowed(MiniTiKVCluster cluster) throws Exception {
        cluster.split(Wire.bytes("s2-"), Wire.bytes("s2."));
        List<String> expected = keys("s2-", 30_000);
        load(cluster, expected);
        try (TiSession session = Wire.session(cluster)) {
            Snapshot snapshot = session.createSnapshot();
            Iterator<Kvrpcpb.KvPair> it = snapshot.scan(Wire.bs("s2-"));
            AtomicInteger round = new AtomicInteger();
            List<Kvrpcpb.KvPair> got =
                    takePrefix(
                            it,
                            "s2-",
                            () -> {
                                // The iterator holds a 10240-key batch; split behind it, at its
                                // next start key, and ahead of it while its cache is stale.
                                int r = round.getAndIncrement();
                                if (r == 0) {
                                    cluster.split(
                                            Wire.bytes(key("s2-", 4_000)),
                                            Wire.bytes(key("s2-", BATCH - 1) + "\0"),
                                            Wire.bytes(key("s2-", 15_000)));
                                } else if (r == 2) {
                                    cluster.split(
                                            Wire.bytes(key("s2-", 20_481)),
                                            Wire.bytes(key("s2-", 20_482)),
                                            Wire.bytes(key("s2-", 27_000)));
                                } else if (r == 4) {
                                    cluster.split(Wire.bytes(key("s2-", 26_000)));
                                }
                            });
            assertThat(round.get()).isEqualTo(6);
            assertPairs(got, expected);
        }
    }

    @Test
    void splitsFromAnotherThreadWhileIterating(MiniTiKVCluster cluster) throws Exception {
        cluster.split(Wire.bytes("s3-"), Wire.bytes("s3."));
        int count = 40_000;
        List<String> expected = keys("s3-", count);
        load(cluster, expected);
        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger splits = new AtomicInteger();
        // The iterating thread hands out split permits; the splitter spends them concurrently.
        Semaphore permits = new Semaphore(0);
        Thread splitter =
                new Thread(
                        () -> {
                            while (!done.get()) {
                                try {
                                    if (!permits.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                                        continue;
                                    }
                                } catch (InterruptedException e) {
                                    return;
                                }
                                int at = ThreadLocalRandom.current().nextInt(1, count);
                                cluster.split(Wire.bytes(key("s3-", at)));
                                splits.incrementAndGet();
                            }
                        },
                        "splitter");
        try (TiSession session = Wire.session(cluster)) {
            splitter.start();
            Iterator<Kvrpcpb.KvPair> it = session.createSnapshot().scan(Wire.bs("s3-"));
            List<Kvrpcpb.KvPair> got =
                    takePrefix(
                            it,
                            "s3-",
                            () -> {
                                // Make sure regions really change under the iterator.
                                int seen = splits.get();
                                permits.release(3);
                                await().atMost(Duration.ofSeconds(5))
                                        .until(() -> splits.get() > seen + 2);
                            });
            done.set(true);
            splitter.join();
            assertPairs(got, expected);
            assertThat(splits.get()).isGreaterThan(10);
        } finally {
            done.set(true);
            splitter.join();
        }
    }

    @Test
    void secondScanWithAStaleRegionCache(MiniTiKVCluster cluster) throws Exception {
        cluster.split(Wire.bytes("s4-"), Wire.bytes("s4."));
        List<String> expected = keys("s4-", 12_000);
        load(cluster, expected);
        try (TiSession session = Wire.session(cluster);
                KVClient kv = session.createKVClient()) {
            long ts = session.getTimestamp().getVersion();
            assertPairs(kv.scan(Wire.bs("s4-"), Wire.bs("s4."), ts), expected);
            // Topology changes behind the cached regions.
            cluster.split(
                    Wire.bytes(key("s4-", 1)),
                    Wire.bytes(key("s4-", 6_000)),
                    Wire.bytes(key("s4-", 11_999)));
            assertPairs(kv.scan(Wire.bs("s4-"), Wire.bs("s4."), ts), expected);
            long left = cluster.regions().locate(Wire.bytes(key("s4-", 0))).id;
            long mid = cluster.regions().locate(Wire.bytes(key("s4-", 1))).id;
            cluster.merge(mid, left);
            assertPairs(kv.scan(Wire.bs("s4-"), Wire.bs("s4."), ts), expected);
            // Moved leaders too.
            for (long storeId : cluster.storeIds()) {
                cluster.transferLeader(
                        cluster.regions().locate(Wire.bytes(key("s4-", 7_000))).id, storeId);
            }
            assertPairs(kv.scan(Wire.bs("s4-"), Wire.bs("s4."), ts), expected);
        }
    }

    @Test
    void scanResolvesALiveLockAndKeepsGoing(MiniTiKVCluster cluster) throws Exception {
        cluster.split(Wire.bytes("s5-"), Wire.bytes("s5."));
        List<String> expected = keys("s5-", 12_000);
        load(cluster, expected);
        // A live txn locks a key in the first batch and one in the second.
        long lockTs = cluster.currentTs();
        Kvrpcpb.PrewriteRequest pw =
                Kvrpcpb.PrewriteRequest.newBuilder()
                        .setPrimaryLock(Wire.bs(key("s5-", 50)))
                        .setStartVersion(lockTs)
                        .setMinCommitTs(lockTs)
                        .setLockTtl(60_000)
                        .setTxnSize(16)
                        .addMutations(
                                Kvrpcpb.Mutation.newBuilder()
                                        .setOp(Kvrpcpb.Op.Put)
                                        .setKey(Wire.bs(key("s5-", 50)))
                                        .setValue(Wire.bs("new")))
                        .addMutations(
                                Kvrpcpb.Mutation.newBuilder()
                                        .setOp(Kvrpcpb.Op.Del)
                                        .setKey(Wire.bs(key("s5-", 11_000))))
                        .build();
        assertThat(cluster.percolator().prewrite(pw).getErrorsCount()).isZero();
        try (TiSession session = Wire.session(cluster);
                KVClient kv = session.createKVClient()) {
            long ts = session.getTimestamp().getVersion();
            assertPairs(kv.scan(Wire.bs("s5-"), Wire.bs("s5."), ts), expected);
            assertThat(cluster.storage().lock(Wire.bytes(key("s5-", 50))).minCommitTs)
                    .isGreaterThan(ts);
        }
    }
}
