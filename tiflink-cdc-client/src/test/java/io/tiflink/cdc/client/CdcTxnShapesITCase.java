package io.tiflink.cdc.client;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;

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

/**
 * The transaction shapes TiDB writes besides 2PC: 1PC (a COMMITTED row, no PREWRITE), async commit
 * (PREWRITE then COMMIT, its lock holding the resolved ts), pessimistic locks (nothing until the
 * prewrite), each change with its txn_source.
 */
class CdcTxnShapesITCase {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(
                    b ->
                            b.stores(3)
                                    .cdcResolvedTsInterval(Duration.ofMillis(50))
                                    .splitAt(bytes("a/5")));

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
    void onePcRowsAreDeliveredOnceInOrderWithOldValuesAndTxnSource(MiniTiKVCluster cluster)
            throws Exception {
        Writes w = new Writes(cluster);
        w.put("p/1", "before");
        long start = cluster.currentTs();
        // Committed after the start ts but before subscribing: the incremental scan reports it.
        long scanned = w.onePc(List.of(mutation(bytes("p/1"), bytes("scanned"))), 0);
        try (ChangeStream stream = client.subscribe(List.of(prefix("p/")), start)) {
            long twoPc = w.put("p/2", "2pc");
            long onePc =
                    w.onePc(
                            List.of(
                                    mutation(bytes("p/1"), bytes("live")),
                                    mutation(bytes("p/3"), bytes("new"))),
                            7);
            long deleted = w.onePc(List.of(mutation(bytes("p/2"), null)), 0);
            ChangeLog log = new ChangeLog(start);
            log.awaitResolved(stream, deleted, WAIT);
            assertThat(log.changes)
                    .extracting(
                            c -> string(c.key()),
                            KeyChange::op,
                            c -> string(c.value()),
                            c -> string(c.oldValue()),
                            KeyChange::commitTs,
                            KeyChange::txnSource)
                    .containsExactly(
                            tuple("p/1", KeyChange.Op.PUT, "scanned", "before", scanned, 0L),
                            tuple("p/2", KeyChange.Op.PUT, "2pc", "", twoPc, 0L),
                            tuple("p/1", KeyChange.Op.PUT, "live", "scanned", onePc, 7L),
                            tuple("p/3", KeyChange.Op.PUT, "new", "", onePc, 7L),
                            tuple("p/2", KeyChange.Op.DELETE, "", "2pc", deleted, 0L));
        }
    }

    @Test
    void asyncCommitIsDeliveredAtItsCommitTsAndItsLockHoldsTheResolvedTs(MiniTiKVCluster cluster)
            throws Exception {
        Writes w = new Writes(cluster);
        long start = cluster.currentTs();
        try (ChangeStream stream = client.subscribe(List.of(prefix("a/")), start)) {
            ByteString primary = ByteString.copyFromUtf8("a/1");
            ByteString secondary = ByteString.copyFromUtf8("a/7"); // in the other region
            Kvrpcpb.Mutation p = mutation(bytes("a/1"), bytes("ac1"));
            Kvrpcpb.Mutation s = mutation(bytes("a/7"), bytes("ac7"));
            long startTs = cluster.currentTs();
            long commitTs =
                    Math.max(
                            w.prewriteAsync(
                                    startTs, primary, List.of(secondary), List.of(p), 3000, 5),
                            w.prewriteAsync(startTs, primary, List.of(), List.of(s), 3000, 5));
            long later = w.put("a/3", "committed while the async txn is open");

            ChangeLog log = new ChangeLog(start);
            await().during(Duration.ofMillis(500))
                    .atMost(Duration.ofSeconds(5))
                    .pollInterval(Duration.ofMillis(50))
                    .until(
                            () -> {
                                log.take(stream, Duration.ofMillis(20));
                                return log.changes.isEmpty() && log.resolved() <= startTs;
                            });

            // Committed as an async-commit client does: at max(min_commit_ts), secondaries first.
            w.commitKeys(startTs, commitTs, List.of(secondary));
            w.commitKeys(startTs, commitTs, List.of(primary));
            log.awaitResolved(stream, Math.max(commitTs, later), WAIT);
            assertThat(log.changes)
                    .extracting(
                            c -> string(c.key()),
                            c -> string(c.value()),
                            KeyChange::commitTs,
                            KeyChange::txnSource)
                    .containsExactlyInAnyOrder(
                            tuple("a/1", "ac1", commitTs, 5L),
                            tuple("a/7", "ac7", commitTs, 5L),
                            tuple("a/3", "committed while the async txn is open", later, 0L));
        }
    }

    @Test
    void pessimisticLocksAreIgnoredAndTheTxnIsDeliveredOnceWhenCommitted(MiniTiKVCluster cluster)
            throws Exception {
        Writes w = new Writes(cluster);
        w.put("c/1", "before");
        long start = cluster.currentTs();
        try (ChangeStream stream = client.subscribe(List.of(prefix("c/")), start)) {
            ByteString key = ByteString.copyFromUtf8("c/1");
            long startTs = cluster.currentTs();
            long forUpdateTs = cluster.currentTs();
            w.pessimisticLock(startTs, forUpdateTs, List.of(key), 3000);
            long other = w.put("c/2", "other");

            // The live pessimistic lock holds nothing back and sends nothing.
            ChangeLog log = new ChangeLog(start);
            log.awaitResolved(stream, other, WAIT);
            assertThat(log.changes).extracting(c -> string(c.key())).containsExactly("c/2");

            List<Kvrpcpb.Mutation> txn = List.of(mutation(bytes("c/1"), bytes("after")));
            w.prewritePessimistic(startTs, forUpdateTs, txn);
            long commitTs = cluster.currentTs();
            w.commit(startTs, commitTs, txn);
            log.awaitResolved(stream, commitTs, WAIT);
            assertThat(log.changes)
                    .extracting(
                            c -> string(c.key()),
                            c -> string(c.value()),
                            c -> string(c.oldValue()),
                            KeyChange::commitTs)
                    .containsExactly(
                            tuple("c/2", "other", "", other),
                            tuple("c/1", "after", "before", commitTs));
        }
    }
}
