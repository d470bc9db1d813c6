package io.tiflink.minicluster.conformance;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.region.Region;

import org.tikv.common.BytePairWrapper;
import org.tikv.common.ByteWrapper;
import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;
import org.tikv.common.util.ConcreteBackOffer;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.kvproto.PDGrpc;
import org.tikv.kvproto.Pdpb;
import org.tikv.kvproto.TikvGrpc;
import org.tikv.shade.com.google.protobuf.ByteString;
import org.tikv.shade.io.grpc.ManagedChannel;
import org.tikv.shade.io.grpc.ManagedChannelBuilder;
import org.tikv.txn.TwoPhaseCommitter;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Helpers for conformance tests: sessions of the real client, 2PC through the real {@link
 * TwoPhaseCommitter}, and raw gRPC stubs to look at responses exactly as the wire carries them.
 */
final class Wire implements AutoCloseable {
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final MiniTiKVCluster cluster;

    Wire(MiniTiKVCluster cluster) {
        this.cluster = cluster;
    }

    static TiSession session(MiniTiKVCluster cluster) {
        return TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()));
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static ByteString bs(String s) {
        return ByteString.copyFromUtf8(s);
    }

    static Map<String, String> kvs(String... keysAndValues) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    /** Prewrites the primary (the first key), then the rest, without committing. */
    static void prewrite(TwoPhaseCommitter committer, Map<String, String> kvs) {
        List<BytePairWrapper> pairs = pairs(kvs);
        committer.prewritePrimaryKey(
                ConcreteBackOffer.newCustomBackOff(5000),
                pairs.get(0).getKey(),
                pairs.get(0).getValue());
        if (pairs.size() > 1) {
            committer.prewriteSecondaryKeys(
                    pairs.get(0).getKey(), pairs.subList(1, pairs.size()).iterator(), 5000);
        }
    }

    static List<BytePairWrapper> pairs(Map<String, String> kvs) {
        List<BytePairWrapper> pairs = new ArrayList<>();
        kvs.forEach((k, v) -> pairs.add(new BytePairWrapper(bytes(k), bytes(v))));
        return pairs;
    }

    static void commitPrimary(TwoPhaseCommitter committer, String primary, long commitTs) {
        committer.commitPrimaryKey(
                ConcreteBackOffer.newCustomBackOff(5000), bytes(primary), commitTs);
    }

    static void commitSecondaries(
            TwoPhaseCommitter committer, List<String> secondaries, long commitTs) {
        List<ByteWrapper> keys = new ArrayList<>();
        secondaries.forEach(k -> keys.add(new ByteWrapper(bytes(k))));
        committer.commitSecondaryKeys(keys.iterator(), commitTs, 5000);
    }

    /** A whole 2PC transaction through the real client; returns its commit ts. */
    static long commit(TiSession session, Map<String, String> kvs) throws Exception {
        long startTs = session.getTimestamp().getVersion();
        try (TwoPhaseCommitter committer = new TwoPhaseCommitter(session, startTs)) {
            prewrite(committer, kvs);
            long commitTs = session.getTimestamp().getVersion();
            List<String> keys = new ArrayList<>(kvs.keySet());
            commitPrimary(committer, keys.get(0), commitTs);
            if (keys.size() > 1) {
                commitSecondaries(committer, keys.subList(1, keys.size()), commitTs);
            }
            return commitTs;
        }
    }

    // ---- raw gRPC ----

    private ManagedChannel channel(String target) {
        ManagedChannel ch = ManagedChannelBuilder.forTarget(target).usePlaintext().build();
        channels.add(ch);
        return ch;
    }

    TikvGrpc.TikvBlockingStub tikv(long storeId) {
        return TikvGrpc.newBlockingStub(channel(cluster.storeAddress(storeId)))
                .withDeadlineAfter(5, TimeUnit.SECONDS);
    }

    PDGrpc.PDBlockingStub pd() {
        return PDGrpc.newBlockingStub(channel(cluster.pdAddress()))
                .withDeadlineAfter(5, TimeUnit.SECONDS);
    }

    Pdpb.RequestHeader pdHeader() {
        return Pdpb.RequestHeader.newBuilder().setClusterId(cluster.clusterId()).build();
    }

    /** The context the client would send to the region's leader. */
    static Kvrpcpb.Context context(Region region) {
        return Kvrpcpb.Context.newBuilder()
                .setRegionId(region.id)
                .setRegionEpoch(region.toProto().getRegionEpoch())
                .setPeer(region.leader())
                .build();
    }

    /** The region holding the key, as the cluster knows it now. */
    Region region(String key) {
        return cluster.regions().locate(bytes(key));
    }

    /** The leader's stub and a context, ready for a request about {@code key}. */
    TikvGrpc.TikvBlockingStub leaderOf(String key) {
        return tikv(region(key).leaderStoreId);
    }

    @Override
    public void close() {
        for (ManagedChannel ch : channels) {
            ch.shutdownNow();
        }
    }
}
