package io.tiflink.minicluster.workload;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.workload.TiDBLikeWriter.Crash;
import io.tiflink.minicluster.workload.TiDBLikeWriter.Crashed;
import io.tiflink.minicluster.workload.TiDBLikeWriter.Shape;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;
import org.tikv.txn.KVClient;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Each shape TiDB commits in, as the test bed's TiDB-like writer sends it, read back. */
class TiDBLikeWriterITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(3).splitAt(bytes("m")));

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Keys {@code a<tag>} and {@code z<tag>}: one in each region. */
    private static Map<byte[], byte[]> twoRegions(String tag, String value) {
        Map<byte[], byte[]> writes = new LinkedHashMap<>();
        writes.put(bytes("a" + tag), bytes(value));
        writes.put(bytes("z" + tag), bytes(value));
        return writes;
    }

    private static String read(KVClient kv, String key, long ts) {
        return kv.get(ByteString.copyFromUtf8(key), ts).toStringUtf8();
    }

    private static List<Kvrpcpb.LockInfo> locks(MiniTiKVCluster cluster, String tag) {
        return cluster.percolator().scanLocks(new byte[0], new byte[0], Long.MAX_VALUE, 0).stream()
                .filter(l -> l.getKey().toStringUtf8().substring(1).equals(tag))
                .collect(Collectors.toList());
    }

    @ParameterizedTest
    @EnumSource(
            value = Shape.class,
            names = {"OPTIMISTIC", "ASYNC_COMMIT", "PESSIMISTIC", "PESSIMISTIC_ASYNC_COMMIT"})
    void aTransactionAcrossRegionsCommitsWhole(Shape shape, MiniTiKVCluster cluster)
            throws Exception {
        String tag = "-" + shape;
        try (TiDBLikeWriter writer = new TiDBLikeWriter(cluster, 3000);
                TiSession session =
                        TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()));
                KVClient kv = session.createKVClient()) {
            long before = cluster.currentTs();
            long commitTs = writer.commit(shape, twoRegions(tag, "v1"));
            assertThat(commitTs).isGreaterThan(before);
            assertThat(locks(cluster, tag)).isEmpty();
            assertThat(read(kv, "a" + tag, commitTs)).isEqualTo("v1");
            assertThat(read(kv, "z" + tag, commitTs)).isEqualTo("v1");
            assertThat(read(kv, "z" + tag, commitTs - 1)).isEmpty();
            Map<byte[], byte[]> delete = new LinkedHashMap<>();
            delete.put(bytes("a" + tag), null);
            long deleted = writer.commit(shape, delete);
            assertThat(read(kv, "a" + tag, deleted)).isEmpty();
            assertThat(read(kv, "z" + tag, deleted)).isEqualTo("v1");
        }
    }

    @Test
    void onePcCommitsInOneRegionWithoutLocks(MiniTiKVCluster cluster) throws Exception {
        try (TiDBLikeWriter writer = new TiDBLikeWriter(cluster, 3000);
                TiSession session =
                        TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()));
                KVClient kv = session.createKVClient()) {
            Map<byte[], byte[]> writes = new LinkedHashMap<>();
            writes.put(bytes("b-1pc"), bytes("x"));
            writes.put(bytes("c-1pc"), bytes("y"));
            long commitTs = writer.commit(Shape.ONE_PC, writes);
            assertThat(locks(cluster, "-1pc")).isEmpty();
            assertThat(read(kv, "b-1pc", commitTs)).isEqualTo("x");
            assertThat(read(kv, "c-1pc", commitTs - 1)).isEmpty();
            assertThatThrownBy(() -> writer.commit(Shape.ONE_PC, twoRegions("-1pc2", "v")))
                    .hasMessageContaining("1PC needs every key in one region");
        }
    }

    @Test
    void crashedTransactionsLeaveTheirLocks(MiniTiKVCluster cluster) throws Exception {
        try (TiDBLikeWriter writer = new TiDBLikeWriter(cluster, 3000);
                TiSession session =
                        TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()));
                KVClient kv = session.createKVClient()) {
            Crashed prewritten =
                    writer.crash(Shape.OPTIMISTIC, Crash.AFTER_PREWRITE, twoRegions("-c1", "v"));
            assertThat(locks(cluster, "-c1"))
                    .hasSize(2)
                    .allSatisfy(l -> assertThat(l.getLockVersion()).isEqualTo(prewritten.startTs));

            writer.crash(Shape.OPTIMISTIC, Crash.AFTER_PRIMARY_COMMIT, twoRegions("-c2", "v2"));
            assertThat(locks(cluster, "-c2"))
                    .singleElement()
                    .satisfies(l -> assertThat(l.getKey().toStringUtf8()).isEqualTo("z-c2"));
            // A reader rolls the secondary forward: its primary committed.
            assertThat(read(kv, "z-c2", cluster.currentTs())).isEqualTo("v2");

            Crashed async =
                    writer.crash(
                            Shape.ASYNC_COMMIT, Crash.MISSING_SECONDARIES, twoRegions("-c3", "v"));
            assertThat(locks(cluster, "-c3"))
                    .singleElement()
                    .satisfies(
                            l -> {
                                assertThat(l.getKey().toByteArray()).isEqualTo(async.primary);
                                assertThat(l.getUseAsyncCommit()).isTrue();
                                assertThat(l.getSecondariesList())
                                        .containsExactly(ByteString.copyFromUtf8("z-c3"));
                            });

            writer.crash(Shape.PESSIMISTIC, Crash.PESSIMISTIC_LOCKS_ONLY, twoRegions("-c4", "v"));
            assertThat(locks(cluster, "-c4"))
                    .hasSize(2)
                    .allSatisfy(
                            l -> assertThat(l.getLockType()).isEqualTo(Kvrpcpb.Op.PessimisticLock));
            // Readers do not see pessimistic locks.
            assertThat(read(kv, "a-c4", cluster.currentTs())).isEmpty();

            assertThatThrownBy(
                            () ->
                                    writer.crash(
                                            Shape.ASYNC_COMMIT,
                                            Crash.AFTER_PRIMARY_COMMIT,
                                            twoRegions("-c5", "v")))
                    .hasMessageContaining("cannot crash at AFTER_PRIMARY_COMMIT");
        }
    }
}
