package io.tiflink.minicluster.conformance;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;

import org.tikv.common.ByteWrapper;
import org.tikv.common.TiSession;
import org.tikv.common.util.ConcreteBackOffer;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;
import org.tikv.txn.KVClient;
import org.tikv.txn.TwoPhaseCommitter;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Snapshot isolation end to end: concurrent transfers between accounts spread over three regions,
 * through the real TwoPhaseCommitter, while readers check at every snapshot that no money appears
 * or vanishes. Exercises lock resolution under contention: pushed min_commit_ts (and the writers'
 * commit_ts_expired retry with a fresh ts), secondaries of committed primaries, abandoned locks.
 */
class BankConformanceTest {
    private static final int ACCOUNTS = 24;
    private static final int INITIAL = 100;
    private static final long LOCK_TTL_MS = 500;

    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(
                    b -> b.stores(3).splitAt(Wire.bytes("bank-16"), Wire.bytes("bank-5")));

    private static String account(int i) {
        return "bank-" + i;
    }

    private static List<byte[]> allAccountKeys() {
        List<byte[]> keys = new ArrayList<>();
        for (int i = 0; i < ACCOUNTS; i++) {
            keys.add(Wire.bytes(account(i)));
        }
        return keys;
    }

    /** One transfer; returns true if it committed. */
    private static boolean transfer(TiSession session, KVClient kv) {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        int from = rnd.nextInt(ACCOUNTS);
        int to = (from + 1 + rnd.nextInt(ACCOUNTS - 1)) % ACCOUNTS;
        long startTs = session.getTimestamp().getVersion();
        try (TwoPhaseCommitter c = new TwoPhaseCommitter(session, startTs, LOCK_TTL_MS)) {
            int a = Integer.parseInt(kv.get(Wire.bs(account(from)), startTs).toStringUtf8());
            int b = Integer.parseInt(kv.get(Wire.bs(account(to)), startTs).toStringUtf8());
            int amount = Math.min(a, rnd.nextInt(1, 10));
            Wire.prewrite(
                    c,
                    Wire.kvs(
                            account(from),
                            Integer.toString(a - amount),
                            account(to),
                            Integer.toString(b + amount)));
            // A reader may push min_commit_ts past our commit ts: take a fresh one and retry,
            // as a sink must (client-java itself retries the same ts until it gives up).
            boolean committed = false;
            for (int attempt = 0; attempt < 5 && !committed; attempt++) {
                try {
                    c.commitPrimaryKey(
                            ConcreteBackOffer.newCustomBackOff(200),
                            Wire.bytes(account(from)),
                            session.getTimestamp().getVersion());
                    committed = true;
                } catch (RuntimeException e) {
                    // expired commit ts, or our lock is gone (rolled back): try again or give up
                }
            }
            if (!committed) {
                return false;
            }
            try {
                List<ByteWrapper> sec = List.of(new ByteWrapper(Wire.bytes(account(to))));
                // The secondary's commit ts must match the primary's: readers resolve it from the
                // primary if this fails, so a failure here is harmless.
                long commitTs =
                        cluster().storage().txnRecord(Wire.bytes(account(from)), startTs).commitTs;
                c.commitSecondaryKeys(sec.iterator(), commitTs, 2000);
            } catch (RuntimeException e) {
                // left for lock resolution
            }
            return true;
        } catch (Exception e) {
            return false; // conflict: abandoned, its locks expire after LOCK_TTL_MS
        }
    }

    private static MiniTiKVCluster cluster() {
        return TIKV.cluster();
    }

    private static int sum(List<Kvrpcpb.KvPair> pairs) {
        int sum = 0;
        for (Kvrpcpb.KvPair p : pairs) {
            sum += Integer.parseInt(p.getValue().toStringUtf8());
        }
        return sum;
    }

    @Test
    void transfersNeverCreateOrDestroyMoney(MiniTiKVCluster cluster) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try (TiSession session = Wire.session(cluster);
                KVClient kv = session.createKVClient()) {
            Map<String, String> init = new java.util.LinkedHashMap<>();
            for (int i = 0; i < ACCOUNTS; i++) {
                init.put(account(i), Integer.toString(INITIAL));
            }
            Wire.commit(session, init);

            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger committed = new AtomicInteger();
            AtomicInteger snapshots = new AtomicInteger();
            List<Future<?>> workers = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                workers.add(
                        pool.submit(
                                () -> {
                                    while (!stop.get()) {
                                        if (transfer(session, kv)) {
                                            committed.incrementAndGet();
                                        }
                                    }
                                }));
            }
            workers.add(
                    pool.submit(
                            () -> {
                                while (!stop.get()) {
                                    // A fresh KVClient per snapshot (Snapshot.batchGet makes
                                    // one): a reused KVClient leaks resolved locks from one
                                    // snapshot to the next (see ClientPathsConformanceTest).
                                    org.tikv.common.Snapshot snapshot = session.createSnapshot();
                                    long ts = snapshot.getVersion();
                                    List<Kvrpcpb.KvPair> pairs = new ArrayList<>();
                                    for (org.tikv.common.BytePairWrapper p :
                                            snapshot.batchGet(20_000, allAccountKeys())) {
                                        pairs.add(
                                                Kvrpcpb.KvPair.newBuilder()
                                                        .setKey(ByteString.copyFrom(p.getKey()))
                                                        .setValue(ByteString.copyFrom(p.getValue()))
                                                        .build());
                                    }
                                    assertThat(pairs).hasSize(ACCOUNTS);
                                    assertThat(sum(pairs))
                                            .as("total at ts %d", ts)
                                            .isEqualTo(ACCOUNTS * INITIAL);
                                    snapshots.incrementAndGet();
                                }
                            }));
            org.awaitility.Awaitility.await()
                    .atMost(java.time.Duration.ofSeconds(90))
                    .alias("20 transfers and 10 snapshots")
                    .until(
                            () ->
                                    committed.get() >= Integer.getInteger("bank.transfers", 20)
                                            && snapshots.get() >= 10);
            stop.set(true);
            for (Future<?> f : workers) {
                f.get(); // rethrows a reader's assertion failure
            }
            long ts = session.getTimestamp().getVersion();
            List<Kvrpcpb.KvPair> end = kv.scan(Wire.bs("bank-"), Wire.bs("bank."), ts);
            assertThat(end).hasSize(ACCOUNTS);
            assertThat(sum(end)).isEqualTo(ACCOUNTS * INITIAL);
        } finally {
            pool.shutdownNow();
        }
    }
}
