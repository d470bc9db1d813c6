package io.tiflink.cdc.client;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.region.Region;
import io.tiflink.minicluster.storage.MvccStore;
import io.tiflink.minicluster.storage.Write;
import io.tiflink.minicluster.workload.TiDBLikeWriter;
import io.tiflink.minicluster.workload.TiDBLikeWriter.Crash;
import io.tiflink.minicluster.workload.TiDBLikeWriter.Shape;

import org.tikv.common.TiConfiguration;
import org.tikv.kvproto.Kvrpcpb;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static io.tiflink.cdc.client.Writes.bytes;
import static io.tiflink.cdc.client.Writes.mutation;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Concurrent 2PC writers (with rollbacks, transactions abandoned before or after committing their
 * primary, and values long enough to live apart from their lock) while regions split, merge and
 * move leaders, stores stop and start, and streams break, all at random. What the client delivers
 * must be exactly the MVCC history: every committed change once, per key in commit order, none
 * before its resolved ts.
 */
class CdcChaosITCase {
    private static final Logger LOG = LoggerFactory.getLogger(CdcChaosITCase.class);
    private static final int KEYS = 200;
    private static final int TIDB_KEYS = 60;
    private static final Duration WRITE_PACE = Duration.ofMillis(2);
    private static final Duration RUN = Duration.ofSeconds(Long.getLong("chaos.runSeconds", 6));

    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(3).cdcResolvedTsInterval(Duration.ofMillis(50)));

    private final Random random = new Random();
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();

    private static byte[] key(int i) {
        return bytes(String.format("k/%03d", i));
    }

    /** Once with room to spare, once with a quota so small that changes keep going to disk. */
    @ParameterizedTest(name = "memory quota {0} bytes")
    @ValueSource(longs = {128L << 20, 64L << 10})
    void deliversTheMvccHistoryExactlyOnceThroughChaos(long memoryQuota, MiniTiKVCluster cluster)
            throws Exception {
        long seed = Long.getLong("chaos.seed", System.nanoTime());
        random.setSeed(seed);
        LOG.info("chaos seed {}", seed);
        Writes w = new Writes(cluster);
        for (int i = 0; i < KEYS; i += 3) {
            w.put(String.format("k/%03d", i), "initial");
        }
        long start = cluster.currentTs();
        KeyRange range = KeyRange.of(bytes("k/"), bytes("k0"));
        CdcClientConfig config =
                CdcClientConfig.builder()
                        .lockResolveAfter(Duration.ofMillis(500))
                        .retryBackoff(Duration.ofMillis(10), Duration.ofMillis(500))
                        .memoryQuota(memoryQuota)
                        .build();
        try (CdcClient client =
                        CdcClient.create(
                                TiConfiguration.createDefault(cluster.pdAddress()), config);
                ChangeStream stream = client.subscribe(List.of(range), start)) {
            ChangeLog log = new ChangeLog(start);
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                threads.add(thread("writer-" + i, () -> write(w, new Random(random.nextLong()))));
            }
            threads.add(
                    thread(
                            "tidb-writer",
                            () -> writeAsTiDB(cluster, new Random(random.nextLong()))));
            threads.add(thread("chaos", () -> chaos(cluster, new Random(random.nextLong()))));
            threads.forEach(Thread::start);
            long deadline = System.nanoTime() + RUN.toNanos();
            while (System.nanoTime() < deadline) {
                log.take(stream, Duration.ofMillis(50));
            }
            running.set(false);
            for (Thread t : threads) {
                t.join();
            }
            assertThat(failures).as("writer and chaos failures").isEmpty();
            for (long store : cluster.storeIds()) {
                if (!cluster.isStoreUp(store)) {
                    cluster.startStore(store);
                }
            }
            long end = cluster.currentTs();
            log.awaitResolved(stream, end, Duration.ofSeconds(60));
            LOG.info(
                    "chaos: {} changes, {} resolved events, {} spills, {}",
                    log.changes.size(),
                    log.resolvedEvents(),
                    ((Subscription) stream).spills(),
                    counts);
            List<KeyChange> expected = history(cluster.storage(), range, start, log.resolved());
            assertThat(expected.size()).as("committed changes").isGreaterThan(100);
            assertThat(counts.get("abandoned-after-primary")).as("half-committed txns").isNotNull();
            assertThat(log.changes).containsExactlyElementsOf(expected);
            for (Shape shape : Shape.values()) {
                assertThat(counts.get("tidb-" + shape)).as("%s commits", shape).isNotNull();
            }
            assertThat(counts.get("tidb-crashed")).as("crashed TiDB-like txns").isNotNull();
        }
    }

    /** Every committed Put/Delete in (from, to], as the CDC contract orders them. */
    static List<KeyChange> history(MvccStore store, KeyRange range, long from, long to) {
        List<KeyChange> out = new ArrayList<>();
        for (Iterator<byte[]> keys = store.keys(range.start(), range.end()); keys.hasNext(); ) {
            byte[] key = keys.next();
            Write[] versions = store.versions(key);
            for (Write v : versions) {
                if (v.commitTs > from && v.commitTs <= to && v.isDataChange()) {
                    Write previous = MvccStore.latestDataChange(versions, v.commitTs - 1);
                    byte[] old =
                            previous == null || previous.type == Write.Type.DELETE
                                    ? new byte[0]
                                    : store.value(key, previous);
                    byte[] value = v.type == Write.Type.PUT ? store.value(key, v) : new byte[0];
                    out.add(
                            new KeyChange(
                                    key,
                                    value,
                                    old,
                                    v.type == Write.Type.PUT
                                            ? KeyChange.Op.PUT
                                            : KeyChange.Op.DELETE,
                                    v.startTs,
                                    v.commitTs));
                }
            }
        }
        out.sort(KeyChange.COMMIT_ORDER);
        return out;
    }

    private Thread thread(String name, Runnable body) {
        Thread t =
                new Thread(
                        () -> {
                            try {
                                body.run();
                            } catch (Throwable e) {
                                failures.add(e);
                            }
                        },
                        name);
        t.setDaemon(true);
        return t;
    }

    private void count(String what) {
        counts.computeIfAbsent(what, k -> new AtomicLong()).incrementAndGet();
    }

    private void write(Writes w, Random rnd) {
        while (running.get()) {
            LockSupport.parkNanos(WRITE_PACE.toNanos()); // a steady load, not a flood
            List<Kvrpcpb.Mutation> mutations = new ArrayList<>();
            List<Integer> picked = new ArrayList<>();
            int n = 1 + rnd.nextInt(3);
            while (picked.size() < n) {
                int k = rnd.nextInt(KEYS);
                if (!picked.contains(k)) {
                    picked.add(k);
                }
            }
            for (int k : picked) {
                mutations.add(mutation(key(k), rnd.nextInt(5) == 0 ? null : value(rnd)));
            }
            int kind = rnd.nextInt(1000);
            long startTs = w.cluster().currentTs();
            long ttl = kind < 5 ? 300 : 3000;
            if (!w.prewrite(startTs, mutations, ttl).isEmpty()) {
                w.rollback(startTs, mutations);
                count("conflicts");
                continue;
            }
            if (kind < 5) {
                count("abandoned"); // left locked; the client must resolve it
                continue;
            }
            if (kind < 100) {
                w.rollback(startTs, mutations);
                count("rolled-back");
                continue;
            }
            long commitTs = w.cluster().currentTs();
            w.commitKeys(startTs, commitTs, List.of(mutations.get(0).getKey()));
            if (kind < 120 && mutations.size() > 1) {
                count("abandoned-after-primary"); // secondaries committed by lock resolution
                continue;
            }
            if (mutations.size() > 1) {
                List<org.tikv.shade.com.google.protobuf.ByteString> rest = new ArrayList<>();
                mutations.subList(1, mutations.size()).forEach(m -> rest.add(m.getKey()));
                w.commitKeys(startTs, commitTs, rest);
            }
            count("committed");
        }
    }

    /**
     * Transactions as TiDB commits them (async commit, 1PC, pessimistic, optimistic) and crashed
     * ones (async commit with every key prewritten or one missing, pessimistic locks only). A
     * request failing under the chaos (a lock, a store down) leaves its locks, as a crash would.
     */
    private void writeAsTiDB(MiniTiKVCluster cluster, Random rnd) {
        try (TiDBLikeWriter tidb = new TiDBLikeWriter(cluster, 3000);
                TiDBLikeWriter crashing = new TiDBLikeWriter(cluster, 300)) {
            Shape[] shapes = Shape.values();
            for (int i = 0; running.get(); i++) {
                LockSupport.parkNanos(WRITE_PACE.toNanos());
                Shape shape = shapes[i % shapes.length];
                // 1PC only for keys of one region: one key.
                int n = shape == Shape.ONE_PC ? 1 : 1 + rnd.nextInt(3);
                Map<byte[], byte[]> writes = new LinkedHashMap<>();
                while (writes.size() < n) {
                    // Keys of their own: a failed pessimistic txn's locks stay (readers skip
                    // them), and would stop the other writers' puts.
                    writes.put(
                            key(KEYS + rnd.nextInt(TIDB_KEYS)),
                            rnd.nextInt(5) == 0 ? null : value(rnd));
                }
                try {
                    // Every 11th crashes: async commit (with every key, or one region missing),
                    // optimistic after its prewrite, or holding pessimistic locks only.
                    if (i % 11 == 10 && shape != Shape.ONE_PC) {
                        boolean async =
                                shape == Shape.ASYNC_COMMIT
                                        || shape == Shape.PESSIMISTIC_ASYNC_COMMIT;
                        Crash crash =
                                async
                                        ? (rnd.nextBoolean()
                                                ? Crash.AFTER_PREWRITE
                                                : Crash.MISSING_SECONDARIES)
                                        : shape == Shape.OPTIMISTIC
                                                ? Crash.AFTER_PREWRITE
                                                : Crash.PESSIMISTIC_LOCKS_ONLY;
                        crashing.crash(shape, crash, writes);
                        count("tidb-crashed");
                    } else {
                        tidb.commit(shape, writes);
                        count("tidb-" + shape);
                    }
                } catch (RuntimeException e) {
                    count("tidb-failed"); // its locks stay, for readers to settle
                }
            }
        }
    }

    private static byte[] value(Random rnd) {
        // One in five is too long to be kept inline in its lock or write record.
        byte[] v = new byte[rnd.nextInt(5) == 0 ? 300 + rnd.nextInt(200) : 1 + rnd.nextInt(40)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (byte) ('a' + rnd.nextInt(26));
        }
        return v;
    }

    private void chaos(MiniTiKVCluster cluster, Random rnd) {
        while (running.get()) {
            try {
                Thread.sleep(50 + rnd.nextInt(200));
            } catch (InterruptedException e) {
                return;
            }
            List<Region> regions = cluster.regions().all();
            List<Long> up = new ArrayList<>();
            for (long s : cluster.storeIds()) {
                if (cluster.isStoreUp(s)) {
                    up.add(s);
                }
            }
            try {
                switch (rnd.nextInt(6)) {
                    case 0:
                    case 1:
                        cluster.split(key(1 + rnd.nextInt(KEYS - 1)));
                        count("splits");
                        break;
                    case 2:
                        merge(cluster, regions, up, rnd);
                        break;
                    case 3:
                        Region r = regions.get(rnd.nextInt(regions.size()));
                        cluster.transferLeader(r.id, up.get(rnd.nextInt(up.size())));
                        count("leader-moves");
                        break;
                    case 4:
                        cluster.dropCdcStreams(up.get(rnd.nextInt(up.size())));
                        count("dropped-streams");
                        break;
                    default:
                        if (up.size() == cluster.storeIds().size()) {
                            cluster.stopStore(up.get(rnd.nextInt(up.size())));
                            count("store-stops");
                        } else {
                            List<Long> down = new ArrayList<>(cluster.storeIds());
                            down.removeAll(up);
                            cluster.startStore(down.get(0));
                        }
                }
            } catch (IllegalArgumentException | IllegalStateException e) {
                count("refused-chaos"); // e.g. a split at an existing boundary
            }
        }
    }

    private void merge(MiniTiKVCluster cluster, List<Region> regions, List<Long> up, Random rnd) {
        if (regions.size() < 2) {
            return;
        }
        List<Region> sorted = new ArrayList<>(regions);
        sorted.sort((a, b) -> Arrays.compareUnsigned(a.start, b.start));
        int i = rnd.nextInt(sorted.size() - 1);
        Region source = sorted.get(i);
        Region target = sorted.get(i + 1);
        if (!up.contains(target.leaderStoreId)) {
            return;
        }
        if (source.leaderStoreId != target.leaderStoreId) {
            cluster.transferLeader(source.id, target.leaderStoreId);
        }
        cluster.merge(source.id, target.id);
        count("merges");
    }
}
