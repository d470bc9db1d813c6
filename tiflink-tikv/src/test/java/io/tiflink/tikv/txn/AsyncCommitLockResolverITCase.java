package io.tiflink.tikv.txn;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.storage.Write;

import org.tikv.common.TiConfiguration;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Async-commit transactions whose client crashed, settled as client-go settles them. Each test's
 * primary is in the first region and its secondaries in the second.
 */
@Timeout(60)
class AsyncCommitLockResolverITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(2).splitAt(bytes("m")));

    private static TxnClient txn;
    private static AsyncCommitLockResolver resolver;

    @BeforeAll
    static void connect(MiniTiKVCluster cluster) {
        txn = TxnClient.open(TiConfiguration.createDefault(cluster.pdAddress()));
        resolver = new AsyncCommitLockResolver(txn);
    }

    @AfterAll
    static void close() throws Exception {
        txn.close();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static ByteString key(String s) {
        return ByteString.copyFromUtf8(s);
    }

    /** A start ts ten seconds old, so that a short TTL has run out without waiting. */
    private static long oldStartTs() {
        return ((txn.timestamp() >>> 18) - 10_000) << 18;
    }

    /** Prewrites one region's part of an async-commit txn; returns its min_commit_ts. */
    private static long prewrite(
            MiniTiKVCluster cluster,
            long startTs,
            long ttl,
            String primary,
            List<String> secondaries,
            String... part) {
        Kvrpcpb.PrewriteRequest.Builder req =
                Kvrpcpb.PrewriteRequest.newBuilder()
                        .setStartVersion(startTs)
                        .setPrimaryLock(key(primary))
                        .setLockTtl(ttl)
                        .setMinCommitTs(startTs + 1)
                        .setUseAsyncCommit(true);
        secondaries.forEach(s -> req.addSecondaries(key(s)));
        for (String k : part) {
            req.addMutations(
                    Kvrpcpb.Mutation.newBuilder()
                            .setOp(Kvrpcpb.Op.Put)
                            .setKey(key(k))
                            .setValue(ByteString.copyFromUtf8("v")));
        }
        Kvrpcpb.PrewriteResponse resp = cluster.percolator().prewrite(req.build());
        assertThat(resp.getErrorsList()).isEmpty();
        assertThat(resp.getMinCommitTs()).isPositive();
        return resp.getMinCommitTs();
    }

    private static List<Kvrpcpb.LockInfo> locks(String prefix) {
        return txn.scanLocks(bytes(prefix), bytes(prefix + "\u007f"), Long.MAX_VALUE);
    }

    /** The locks of both regions, as a reader of both would find them. */
    private static List<Kvrpcpb.LockInfo> locks(String primaryPrefix, String secondaryPrefix) {
        List<Kvrpcpb.LockInfo> all = new ArrayList<>(locks(primaryPrefix));
        all.addAll(locks(secondaryPrefix));
        return all;
    }

    @Test
    void allSecondariesLockedCommitsAtTheLargestMinCommitTs(MiniTiKVCluster cluster) {
        long startTs = oldStartTs();
        long commitTs =
                Math.max(
                        prewrite(cluster, startTs, 100, "a/1", List.of("x/1", "x/2"), "a/1"),
                        prewrite(cluster, startTs, 100, "a/1", List.of(), "x/1", "x/2"));
        // A reader meets one secondary only: the whole transaction is settled.
        assertThat(resolver.resolve(locks("x/").subList(0, 1))).isZero();

        assertThat(locks("a/", "x/")).isEmpty();
        for (String k : List.of("a/1", "x/1", "x/2")) {
            Write w = cluster.storage().txnRecord(bytes(k), startTs);
            assertThat(w.type).as(k).isEqualTo(Write.Type.PUT);
            assertThat(w.commitTs).as(k).isEqualTo(commitTs);
        }
    }

    @Test
    void aSecondaryCommittedDecidesTheCommitTs(MiniTiKVCluster cluster) {
        long startTs = oldStartTs();
        long minCommitTs =
                Math.max(
                        prewrite(cluster, startTs, 100, "b/1", List.of("y/1", "y/2"), "b/1"),
                        prewrite(cluster, startTs, 100, "b/1", List.of(), "y/1", "y/2"));
        // The client committed one secondary, at a ts of its own, then crashed.
        long commitTs = minCommitTs + 10;
        assertThat(
                        cluster.percolator()
                                .commit(
                                        Kvrpcpb.CommitRequest.newBuilder()
                                                .setStartVersion(startTs)
                                                .setCommitVersion(commitTs)
                                                .addKeys(key("y/1"))
                                                .build())
                                .hasError())
                .isFalse();

        assertThat(resolver.resolve(locks("b/", "y/"))).isZero();

        assertThat(locks("b/", "y/")).isEmpty();
        for (String k : List.of("b/1", "y/1", "y/2")) {
            assertThat(cluster.storage().txnRecord(bytes(k), startTs).commitTs)
                    .as(k)
                    .isEqualTo(commitTs);
        }
    }

    @Test
    void aSecondaryNeverPrewrittenRollsTheTransactionBack(MiniTiKVCluster cluster) {
        long startTs = oldStartTs();
        prewrite(cluster, startTs, 100, "c/1", List.of("z/1", "z/2"), "c/1");
        prewrite(cluster, startTs, 100, "c/1", List.of(), "z/1"); // z/2: crashed before
        assertThat(resolver.resolve(locks("c/", "z/"))).isZero();

        assertThat(locks("c/", "z/")).isEmpty();
        for (String k : List.of("c/1", "z/1", "z/2")) {
            assertThat(cluster.storage().txnRecord(bytes(k), startTs).type)
                    .as(k)
                    .isEqualTo(Write.Type.ROLLBACK);
        }
    }

    @Test
    void aSecondaryFallenBackTo2pcSettlesTheTransactionAs2pc(MiniTiKVCluster cluster) {
        long startTs = oldStartTs();
        prewrite(cluster, startTs, 100, "e/1", List.of("v/1"), "e/1");
        // Past max_commit_ts TiKV prewrites the rest as 2PC: no commit ts can be derived.
        Kvrpcpb.PrewriteResponse resp =
                cluster.percolator()
                        .prewrite(
                                Kvrpcpb.PrewriteRequest.newBuilder()
                                        .setStartVersion(startTs)
                                        .setPrimaryLock(key("e/1"))
                                        .setLockTtl(100)
                                        .addMutations(
                                                Kvrpcpb.Mutation.newBuilder()
                                                        .setOp(Kvrpcpb.Op.Put)
                                                        .setKey(key("v/1"))
                                                        .setValue(ByteString.copyFromUtf8("v")))
                                        .build());
        assertThat(resp.getErrorsList()).isEmpty();

        assertThat(resolver.resolve(locks("e/", "v/"))).isZero();

        assertThat(locks("e/", "v/")).isEmpty();
        for (String k : List.of("e/1", "v/1")) {
            assertThat(cluster.storage().txnRecord(bytes(k), startTs).type)
                    .as(k)
                    .isEqualTo(Write.Type.ROLLBACK);
        }
    }

    @Test
    void aLiveTransactionIsLeftAlone(MiniTiKVCluster cluster) {
        long startTs = txn.timestamp();
        prewrite(cluster, startTs, 60_000, "d/1", List.of("w/1"), "d/1");
        prewrite(cluster, startTs, 60_000, "d/1", List.of(), "w/1");

        assertThat(resolver.resolve(locks("d/", "w/"))).isEqualTo(1);

        assertThat(locks("d/", "w/")).hasSize(2);
    }
}
