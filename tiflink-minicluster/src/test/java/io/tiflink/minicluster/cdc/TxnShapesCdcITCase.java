package io.tiflink.minicluster.cdc;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.codec.TxnSource;
import io.tiflink.minicluster.junit.MiniTiKVExtension;

import org.tikv.kvproto.Cdcpb;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What CDC sends for each transaction shape, as TiKV v6.5's delegate does: 1PC is one COMMITTED
 * row; async commit is PREWRITE then COMMIT and its lock holds resolved ts at its start ts;
 * pessimistic locks send nothing and hold nothing. Rows carry the txn's txn_source.
 */
class TxnShapesCdcITCase {
    /** Each test's keys in a region of their own. */
    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(
                    b ->
                            b.cdcResolvedTsInterval(Duration.ofMillis(50))
                                    .splitAt(bytes("b"), bytes("c")));

    private static byte[] bytes(String s) {
        return s.getBytes();
    }

    private static Kvrpcpb.Mutation put(String key, byte[] value) {
        return Kvrpcpb.Mutation.newBuilder()
                .setOp(Kvrpcpb.Op.Put)
                .setKey(ByteString.copyFromUtf8(key))
                .setValue(ByteString.copyFrom(value))
                .build();
    }

    private static Kvrpcpb.PrewriteRequest.Builder prewrite(
            long startTs, String primary, long txnSource, Kvrpcpb.Mutation... mutations) {
        return Kvrpcpb.PrewriteRequest.newBuilder()
                .setContext(TxnSource.with(Kvrpcpb.Context.getDefaultInstance(), txnSource))
                .setStartVersion(startTs)
                .setPrimaryLock(ByteString.copyFromUtf8(primary))
                .setLockTtl(3000)
                .setMinCommitTs(startTs + 1)
                .addAllMutations(List.of(mutations));
    }

    private static Kvrpcpb.PrewriteResponse prewriteOk(
            MiniTiKVCluster cluster, Kvrpcpb.PrewriteRequest.Builder req) {
        Kvrpcpb.PrewriteResponse resp = cluster.percolator().prewrite(req.build());
        assertThat(resp.getErrorsList()).isEmpty();
        return resp;
    }

    private static void commitOk(MiniTiKVCluster cluster, long startTs, long commitTs, String key) {
        Kvrpcpb.CommitResponse resp =
                cluster.percolator()
                        .commit(
                                Kvrpcpb.CommitRequest.newBuilder()
                                        .setStartVersion(startTs)
                                        .setCommitVersion(commitTs)
                                        .addKeys(ByteString.copyFromUtf8(key))
                                        .build());
        assertThat(resp.hasError()).isFalse();
    }

    @Test
    void onePcIsOneCommittedRowWithItsValueOldValueAndTxnSource(MiniTiKVCluster cluster) {
        prewriteOk(
                cluster,
                prewrite(cluster.currentTs(), "a-1pc", 0, put("a-1pc", bytes("v1")))
                        .setTryOnePc(true));
        try (Feed feed = new Feed(cluster, bytes("a"), cluster.currentTs())) {
            byte[] longValue = new byte[300];
            Arrays.fill(longValue, (byte) 'l');
            long commitTs =
                    prewriteOk(
                                    cluster,
                                    prewrite(
                                                    cluster.currentTs(),
                                                    "a-1pc",
                                                    3,
                                                    put("a-1pc", bytes("v2")),
                                                    put("a-long", longValue))
                                            .setTryOnePc(true))
                            .getOnePcCommitTs();

            await().atMost(Duration.ofSeconds(5)).until(() -> feed.resolvedTs() >= commitTs);

            assertThat(feed.rows(Cdcpb.Event.LogType.PREWRITE)).isEmpty();
            assertThat(feed.rows(Cdcpb.Event.LogType.COMMIT)).isEmpty();
            List<Cdcpb.Event.Row> committed = feed.rows(Cdcpb.Event.LogType.COMMITTED);
            assertThat(committed)
                    .extracting(r -> r.getKey().toStringUtf8())
                    .containsExactlyInAnyOrder("a-1pc", "a-long");
            for (Cdcpb.Event.Row r : committed) {
                assertThat(r.getCommitTs()).isEqualTo(commitTs);
                assertThat(TxnSource.of(r)).isEqualTo(3);
                if (r.getKey().toStringUtf8().equals("a-1pc")) {
                    assertThat(r.getValue().toStringUtf8()).isEqualTo("v2");
                    assertThat(r.getOldValue().toStringUtf8()).isEqualTo("v1");
                } else {
                    assertThat(r.getValue().toByteArray()).isEqualTo(longValue);
                    assertThat(r.getOldValue()).isEmpty();
                }
            }
        }
    }

    @Test
    void asyncCommitIsAPrewriteThenACommitAndItsLockHoldsResolvedTs(MiniTiKVCluster cluster) {
        try (Feed feed = new Feed(cluster, bytes("b"), cluster.currentTs())) {
            await().atMost(Duration.ofSeconds(5)).until(() -> feed.resolvedTs() > 0);
            long startTs = cluster.currentTs();
            long minCommitTs =
                    prewriteOk(
                                    cluster,
                                    prewrite(startTs, "b-ac", 5, put("b-ac", bytes("v")))
                                            .setUseAsyncCommit(true))
                            .getMinCommitTs();
            // Each resolved-ts tick raises max_ts: the commit ts is above what was resolved.
            assertThat(minCommitTs).isGreaterThan(feed.resolvedTs());

            int events = feed.received.size();
            await().atMost(Duration.ofSeconds(5)).until(() -> feed.received.size() >= events + 3);
            assertThat(feed.resolvedTs()).isLessThanOrEqualTo(startTs);

            commitOk(cluster, startTs, minCommitTs, "b-ac");
            await().atMost(Duration.ofSeconds(5)).until(() -> feed.resolvedTs() >= minCommitTs);
            List<Cdcpb.Event.Row> prewrites = feed.rows(Cdcpb.Event.LogType.PREWRITE);
            assertThat(prewrites)
                    .singleElement()
                    .satisfies(
                            r -> {
                                assertThat(r.getStartTs()).isEqualTo(startTs);
                                assertThat(r.getValue().toStringUtf8()).isEqualTo("v");
                                assertThat(TxnSource.of(r)).isEqualTo(5);
                            });
            assertThat(feed.rows(Cdcpb.Event.LogType.COMMIT))
                    .singleElement()
                    .satisfies(
                            r -> {
                                assertThat(r.getCommitTs()).isEqualTo(minCommitTs);
                                assertThat(TxnSource.of(r)).isEqualTo(5);
                            });
        }
    }

    @Test
    void pessimisticLocksSendNothingAndDoNotHoldResolvedTs(MiniTiKVCluster cluster) {
        try (Feed feed = new Feed(cluster, bytes("c"), cluster.currentTs())) {
            long startTs = cluster.currentTs();
            long forUpdateTs = cluster.currentTs();
            Kvrpcpb.PessimisticLockResponse locked =
                    cluster.percolator()
                            .pessimisticLock(
                                    Kvrpcpb.PessimisticLockRequest.newBuilder()
                                            .setStartVersion(startTs)
                                            .setForUpdateTs(forUpdateTs)
                                            .setPrimaryLock(ByteString.copyFromUtf8("c-pl"))
                                            .setLockTtl(3000)
                                            .addMutations(
                                                    Kvrpcpb.Mutation.newBuilder()
                                                            .setOp(Kvrpcpb.Op.PessimisticLock)
                                                            .setKey(
                                                                    ByteString.copyFromUtf8(
                                                                            "c-pl")))
                                            .build());
            assertThat(locked.getErrorsList()).isEmpty();

            await().atMost(Duration.ofSeconds(5)).until(() -> feed.resolvedTs() > forUpdateTs);
            assertThat(feed.rows(Cdcpb.Event.LogType.PREWRITE)).isEmpty();

            prewriteOk(
                    cluster,
                    prewrite(startTs, "c-pl", 0, put("c-pl", bytes("v")))
                            .setForUpdateTs(forUpdateTs)
                            .addIsPessimisticLock(true));
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> feed.rows(Cdcpb.Event.LogType.PREWRITE).size() == 1);
            assertThat(feed.rows(Cdcpb.Event.LogType.PREWRITE))
                    .singleElement()
                    .satisfies(r -> assertThat(r.getKey().toStringUtf8()).isEqualTo("c-pl"));
        }
    }
}
