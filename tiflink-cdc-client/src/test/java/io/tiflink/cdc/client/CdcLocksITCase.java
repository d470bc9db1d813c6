package io.tiflink.cdc.client;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.tikv.gc.GcSafePoint;

import org.tikv.common.TiConfiguration;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;

import static io.tiflink.cdc.client.Writes.bytes;
import static io.tiflink.cdc.client.Writes.mutation;
import static io.tiflink.cdc.client.Writes.string;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

/** Locks that hold the resolved ts back: live transactions wait, abandoned ones get resolved. */
class CdcLocksITCase {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Duration RESOLVE_AFTER = Duration.ofMillis(800);

    /**
     * How soon a crashed transaction's locks stop holding the resolved ts: once their TTL (100 ms
     * here) ran out, the region lags by {@code lockResolveAfter} and the lock is older than that,
     * at the next check (every {@code lockResolveAfter / 2}); a second check settles locks left in
     * other regions. Plus slack for the RPCs on a loaded machine.
     */
    private static final Duration SETTLED_WITHIN =
            RESOLVE_AFTER.multipliedBy(3).plus(Duration.ofSeconds(3));

    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(
                    b ->
                            b.stores(3)
                                    .cdcResolvedTsInterval(Duration.ofMillis(50))
                                    .splitAt(bytes("t/5")));

    private static CdcClient client;

    @BeforeAll
    static void connect(MiniTiKVCluster cluster) {
        client =
                CdcClient.create(
                        TiConfiguration.createDefault(cluster.pdAddress()),
                        CdcClientConfig.builder().lockResolveAfter(RESOLVE_AFTER).build());
    }

    @AfterAll
    static void disconnect() {
        client.close();
    }

    @Test
    void aLiveLongTransactionHoldsTheResolvedTsBackUntilItCommits(MiniTiKVCluster cluster)
            throws Exception {
        Writes w = new Writes(cluster);
        long start = cluster.currentTs();
        try (ChangeStream stream =
                client.subscribe(List.of(KeyRange.of(bytes("t/"), bytes("t0"))), start)) {
            List<Kvrpcpb.Mutation> longTxn = List.of(mutation(bytes("t/1"), bytes("long")));
            long longStart = w.prewrite(longTxn, 1000);
            long later = w.put("t/7", "after the long txn started");
            ChangeLog log = new ChangeLog(start);
            // Well past lockResolveAfter, with the lock kept alive by heartbeats.
            await().during(RESOLVE_AFTER.multipliedBy(3))
                    .atMost(RESOLVE_AFTER.multipliedBy(6))
                    .pollInterval(Duration.ofMillis(100))
                    .until(
                            () -> {
                                // A lock's TTL counts from its start ts.
                                long alive = (cluster.currentTs() - longStart) >> 18;
                                w.heartbeat(bytes("t/1"), longStart, alive + 1000);
                                log.take(stream, Duration.ofMillis(20));
                                return log.changes.isEmpty() && log.resolved() <= longStart;
                            });
            long longCommit = cluster.currentTs();
            w.commit(longStart, longCommit, longTxn);
            log.awaitResolved(stream, longCommit, WAIT);
            assertThat(log.changes)
                    .extracting(c -> string(c.key()), KeyChange::commitTs)
                    .containsExactly(tuple("t/7", later), tuple("t/1", longCommit));
            assertThat(stream.staleLocksResolved()).as("a live transaction's lock").isZero();
        }
    }

    @Test
    void abandonedTransactionsAreResolved(MiniTiKVCluster cluster) throws Exception {
        Writes w = new Writes(cluster);
        long start = cluster.currentTs();
        try (ChangeStream stream =
                client.subscribe(List.of(KeyRange.of(bytes("t/"), bytes("t0"))), start)) {
            // Crashed before committing: rolled back by the client's lock resolution.
            List<Kvrpcpb.Mutation> crashed =
                    List.of(
                            mutation(bytes("t/2"), bytes("lost")),
                            mutation(bytes("t/8"), bytes("lost")));
            w.prewrite(crashed, 100);
            // Crashed after committing its primary: the secondary must be committed.
            List<Kvrpcpb.Mutation> half =
                    List.of(
                            mutation(bytes("t/3"), bytes("kept")),
                            mutation(bytes("t/9"), bytes("kept")));
            long halfStart = w.prewrite(half, 100);
            long halfCommit = cluster.currentTs();
            w.commitKeys(halfStart, halfCommit, List.of(half.get(0).getKey()));
            long end = cluster.currentTs();
            ChangeLog log = new ChangeLog(start);
            log.awaitResolved(stream, end, WAIT);
            assertThat(log.changes)
                    .extracting(c -> string(c.key()), c -> string(c.value()), KeyChange::commitTs)
                    .containsExactly(
                            tuple("t/3", "kept", halfCommit), tuple("t/9", "kept", halfCommit));
            assertThat(cluster.storage().lock(bytes("t/2"))).isNull();
            assertThat(cluster.storage().lock(bytes("t/9"))).isNull();
            // t/2, t/8 rolled back, t/9 committed (its primary t/3 was); counted once settled.
            await().atMost(WAIT).until(stream::staleLocksResolved, n -> n == 3);
        }
    }

    @Test
    void crashedAsyncCommitTransactionsAreSettledFromTheirSecondaries(MiniTiKVCluster cluster)
            throws Exception {
        Writes w = new Writes(cluster);
        long start = cluster.currentTs();
        try (ChangeStream stream =
                client.subscribe(List.of(KeyRange.of(bytes("t/"), bytes("t0"))), start)) {
            // Every key prewritten, then the client crashed: committed, at max(min_commit_ts).
            ByteString primary = ByteString.copyFromUtf8("t/4a");
            ByteString secondary = ByteString.copyFromUtf8("t/6a"); // in the other region
            long startTs = cluster.currentTs();
            long commitTs =
                    Math.max(
                            w.prewriteAsync(
                                    startTs,
                                    primary,
                                    List.of(secondary),
                                    List.of(mutation(bytes("t/4a"), bytes("kept"))),
                                    100,
                                    0),
                            w.prewriteAsync(
                                    startTs,
                                    primary,
                                    List.of(),
                                    List.of(mutation(bytes("t/6a"), bytes("kept"))),
                                    100,
                                    0));
            // A secondary never prewritten: rolled back.
            ByteString lostPrimary = ByteString.copyFromUtf8("t/4b");
            long lostTs = cluster.currentTs();
            w.prewriteAsync(
                    lostTs,
                    lostPrimary,
                    List.of(ByteString.copyFromUtf8("t/6b"), ByteString.copyFromUtf8("t/6c")),
                    List.of(mutation(bytes("t/4b"), bytes("lost"))),
                    100,
                    0);
            w.prewriteAsync(
                    lostTs,
                    lostPrimary,
                    List.of(),
                    List.of(mutation(bytes("t/6b"), bytes("lost"))),
                    100,
                    0);
            // An expired pessimistic lock, older than the bound of the first check: it holds no
            // resolved ts, so it is not the CDC client's to resolve (handed to tikv-client-java's
            // resolver, it failed the whole check, and the resolved ts stayed held).
            long pessimisticTs = cluster.currentTs() - (10_000L << 18);
            w.pessimisticLock(
                    pessimisticTs, pessimisticTs, List.of(ByteString.copyFromUtf8("t/6p")), 100);
            long end = cluster.currentTs();

            ChangeLog log = new ChangeLog(start);
            log.awaitResolved(stream, end, SETTLED_WITHIN);
            assertThat(log.changes)
                    .extracting(c -> string(c.key()), c -> string(c.value()), KeyChange::commitTs)
                    .containsExactly(
                            tuple("t/4a", "kept", commitTs), tuple("t/6a", "kept", commitTs));
            for (String k : List.of("t/4a", "t/6a", "t/4b", "t/6b")) {
                assertThat(cluster.storage().lock(bytes(k))).as(k).isNull();
            }
            assertThat(cluster.storage().lock(bytes("t/6p"))).isNotNull();
            // At least one lock of each transaction was found and settled (settling one may
            // take its other region's lock with it); the pessimistic lock is not counted.
            await().atMost(WAIT).until(stream::staleLocksResolved, n -> n >= 2 && n <= 4);
        }
    }

    @Test
    void anotherServicesHigherSafePointDoesNotRefuseAStartTsGcHasNotPassed(MiniTiKVCluster cluster)
            throws Exception {
        long start = cluster.currentTs();
        try (org.tikv.common.TiSession other =
                org.tikv.common.TiSession.create(
                        TiConfiguration.createDefault(cluster.pdAddress()))) {
            // A TiCDC changefeed, say, that is further ahead than GC.
            GcSafePoint.hold(other, "other-service", Duration.ofMinutes(1), cluster.currentTs());
            try (ChangeStream stream =
                    client.subscribe(List.of(KeyRange.of(bytes("o/"), bytes("o0"))), start)) {
                long c = new Writes(cluster).put("o/1", "x");
                ChangeLog log = new ChangeLog(start);
                log.awaitResolved(stream, c, WAIT);
                assertThat(log.changes).hasSize(1);
            } finally {
                GcSafePoint.release(other, "other-service");
            }
        }
    }

    @Test
    void holdsTheGcSafePointAtItsResolvedTsAndReleasesItOnClose(MiniTiKVCluster cluster)
            throws Exception {
        long start = cluster.currentTs();
        ChangeStream stream =
                client.subscribe(List.of(KeyRange.of(bytes("g/"), bytes("g0"))), start);
        try {
            assertThat(cluster.gc(cluster.currentTs())).isLessThanOrEqualTo(start);
        } finally {
            stream.close();
        }
        long now = cluster.currentTs();
        assertThat(cluster.gc(now)).isEqualTo(now);
    }
}
