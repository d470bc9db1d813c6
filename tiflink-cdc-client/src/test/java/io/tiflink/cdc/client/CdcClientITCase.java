package io.tiflink.cdc.client;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;

import org.tikv.common.TiConfiguration;
import org.tikv.kvproto.Kvrpcpb;

import org.awaitility.Awaitility;
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
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

/** The client against a minicluster: what it delivers for ordinary transactions. */
class CdcClientITCase {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(
                    b ->
                            b.stores(3)
                                    .cdcResolvedTsInterval(Duration.ofMillis(50))
                                    .splitAt(bytes("m")));

    private static CdcClient client;

    @BeforeAll
    static void connect(MiniTiKVCluster cluster) {
        client =
                CdcClient.create(
                        TiConfiguration.createDefault(cluster.pdAddress()),
                        CdcClientConfig.builder().lockResolveAfter(Duration.ofSeconds(1)).build());
    }

    @AfterAll
    static void disconnect() {
        client.close();
    }

    private static KeyRange prefix(String p) {
        return KeyRange.of(bytes(p), bytes(p + "\u00ff"));
    }

    @Test
    void deliversPutsUpdatesAndDeletesWithOldValues(MiniTiKVCluster cluster) throws Exception {
        Writes w = new Writes(cluster);
        w.put("a/1", "before");
        long start = cluster.currentTs();
        try (ChangeStream stream = client.subscribe(List.of(prefix("a/")), start)) {
            long c1 = w.put("a/1", "v1");
            long c2 = w.put("a/2", "new");
            long c3 = w.delete("a/1");
            w.put("b/1", "outside the range");
            ChangeLog log = new ChangeLog(start);
            log.awaitResolved(stream, c3, WAIT);
            assertThat(log.changes)
                    .extracting(
                            c -> string(c.key()),
                            KeyChange::op,
                            c -> string(c.value()),
                            c -> string(c.oldValue()),
                            KeyChange::commitTs)
                    .containsExactly(
                            tuple("a/1", KeyChange.Op.PUT, "v1", "before", c1),
                            tuple("a/2", KeyChange.Op.PUT, "new", "", c2),
                            tuple("a/1", KeyChange.Op.DELETE, "", "v1", c3));
        }
    }

    @Test
    void readsChangesCommittedBetweenStartTsAndSubscribingFromTheScan(MiniTiKVCluster cluster)
            throws Exception {
        Writes w = new Writes(cluster);
        w.put("s/0", "too early");
        long start = cluster.currentTs();
        long c1 = w.put("s/1", "x");
        long c2 = w.put("s/1", "y");
        long c3 = w.put("s/9", "z");
        try (ChangeStream stream = client.subscribe(List.of(prefix("s/")), start)) {
            ChangeLog log = new ChangeLog(start);
            log.awaitResolved(stream, c3, WAIT);
            assertThat(log.changes)
                    .extracting(
                            c -> string(c.key()),
                            c -> string(c.value()),
                            c -> string(c.oldValue()),
                            KeyChange::commitTs)
                    .containsExactly(
                            tuple("s/1", "x", "", c1),
                            tuple("s/1", "y", "x", c2),
                            tuple("s/9", "z", "", c3));
        }
    }

    @Test
    void matchesACommitWithAPrewriteSeenByTheScan(MiniTiKVCluster cluster) throws Exception {
        Writes w = new Writes(cluster);
        List<Kvrpcpb.Mutation> txn =
                List.of(mutation(bytes("l/1"), bytes("one")), mutation(bytes("z/2"), bytes("two")));
        long start = cluster.currentTs();
        long startTs = w.prewrite(txn, 60_000);
        try (ChangeStream stream = client.subscribe(List.of(prefix("l/"), prefix("z/")), start)) {
            ChangeLog log = new ChangeLog(start);
            // The lock holds the resolved ts below its start ts.
            log.awaitResolved(stream, startTs - 1, WAIT);
            assertThat(log.changes).isEmpty();
            long commitTs = cluster.currentTs();
            w.commit(startTs, commitTs, txn);
            log.awaitResolved(stream, commitTs, WAIT);
            assertThat(log.changes)
                    .extracting(
                            c -> string(c.key()),
                            c -> string(c.value()),
                            KeyChange::startTs,
                            KeyChange::commitTs)
                    .containsExactly(
                            tuple("l/1", "one", startTs, commitTs),
                            tuple("z/2", "two", startTs, commitTs));
        }
    }

    @Test
    void dropsRolledBackTransactions(MiniTiKVCluster cluster) throws Exception {
        Writes w = new Writes(cluster);
        long start = cluster.currentTs();
        try (ChangeStream stream = client.subscribe(List.of(prefix("r/")), start)) {
            List<Kvrpcpb.Mutation> txn = List.of(mutation(bytes("r/1"), bytes("never")));
            long startTs = w.prewrite(txn, 60_000);
            w.rollback(startTs, txn);
            long c = w.put("r/2", "kept");
            ChangeLog log = new ChangeLog(start);
            log.awaitResolved(stream, c, WAIT);
            assertThat(log.changes)
                    .extracting(change -> string(change.key()))
                    .containsExactly("r/2");
        }
    }

    @Test
    void refusesAStartTsBelowTheGcSafePoint(MiniTiKVCluster cluster) {
        long old = cluster.currentTs();
        new Writes(cluster).put("g/1", "x");
        long safePoint = cluster.gc(cluster.currentTs());
        assertThatThrownBy(() -> client.subscribe(List.of(prefix("g/")), old))
                .isInstanceOf(CdcException.class)
                .hasMessageContaining("below the GC safe point " + safePoint)
                .hasMessageContaining(String.valueOf(old));
    }

    @Test
    void aClosedSubscriptionLeavesNoTaskBehind() {
        int before = client.scheduledTasks();
        for (int i = 0; i < 3; i++) {
            client.subscribe(List.of(prefix("idle" + i)), client.currentTs()).close();
        }
        Awaitility.await().atMost(WAIT).until(() -> client.scheduledTasks() == before);
    }

    @Test
    void countsItsRegionsReadyChangesAndTheStreamsThatBroke(MiniTiKVCluster cluster)
            throws Exception {
        Writes w = new Writes(cluster);
        long start = cluster.currentTs();
        try (ChangeStream stream = client.subscribe(List.of(prefix("r/")), start)) {
            long c1 = w.put("r/1", "not polled yet");
            // Released once the resolved ts passes it, and held until polled.
            await().atMost(WAIT).until(stream::readyChanges, n -> n == 1);
            ChangeLog log = new ChangeLog(start);
            log.awaitResolved(stream, c1, WAIT);
            assertThat(stream.readyChanges()).isZero();
            assertThat(stream.subscribedRegions()).isEqualTo(1); // "r/" lies in one region
            assertThat(stream.streamReconnects()).isZero();

            cluster.dropCdcStreams(cluster.regions().locate(bytes("r/1")).leaderStoreId);
            long c2 = w.put("r/2", "after the stream broke");
            log.awaitResolved(stream, c2, WAIT);
            assertThat(log.changes).extracting(KeyChange::commitTs).containsExactly(c1, c2);
            assertThat(stream.streamReconnects()).isEqualTo(1);
            assertThat(stream.subscribedRegions()).isEqualTo(1);
        }
    }
}
