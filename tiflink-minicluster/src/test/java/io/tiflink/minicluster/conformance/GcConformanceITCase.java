package io.tiflink.minicluster.conformance;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;

import org.tikv.common.TiSession;
import org.tikv.common.util.ConcreteBackOffer;
import org.tikv.kvproto.Pdpb;
import org.tikv.txn.KVClient;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/** GC safe points as PD keeps them, and MVCC garbage collection as the client observes it. */
class GcConformanceITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(1));

    private static long gcSafePoint(Wire wire) {
        Pdpb.GetGCSafePointResponse resp =
                wire.pd()
                        .getGCSafePoint(
                                Pdpb.GetGCSafePointRequest.newBuilder()
                                        .setHeader(wire.pdHeader())
                                        .build());
        assertThat(resp.getHeader().hasError()).isFalse();
        return resp.getSafePoint();
    }

    @Test
    void gcRemovesVersionsBelowTheSafePointAndPdRefusesToGoBack(MiniTiKVCluster cluster)
            throws Exception {
        try (TiSession session = Wire.session(cluster);
                KVClient kv = session.createKVClient();
                Wire wire = new Wire(cluster)) {
            long c1 = Wire.commit(session, Wire.kvs("gc-k", "v1", "gc-other", "o1"));
            long between = session.getTimestamp().getVersion();
            long c2 = Wire.commit(session, Wire.kvs("gc-k", "v2"));
            long beforeGc = session.getTimestamp().getVersion();
            assertThat(c1).isLessThan(between);
            assertThat(between).isLessThan(c2);

            // Before GC the old version is readable at an old snapshot.
            assertThat(kv.get(Wire.bs("gc-k"), between).toStringUtf8()).isEqualTo("v1");

            long safePoint = session.getTimestamp().getVersion();
            assertThat(cluster.gc(safePoint)).isEqualTo(safePoint);
            assertThat(gcSafePoint(wire)).isEqualTo(safePoint);

            // A service asking for a lower safe point gets the higher minimum back: PD refuses
            // to move the minimum backwards.
            Long min =
                    session.getPDClient()
                            .updateServiceGCSafePoint(
                                    "tiflink-test",
                                    600,
                                    between,
                                    ConcreteBackOffer.newCustomBackOff(5000));
            assertThat(min).isEqualTo(safePoint);
            // The GC safe point did not move either.
            assertThat(gcSafePoint(wire)).isEqualTo(safePoint);
            // A later GC with a lower safe point keeps the safe point where it was.
            cluster.gc(between);
            assertThat(gcSafePoint(wire)).isEqualTo(safePoint);

            // The old version is gone: a read at the old snapshot sees nothing any more.
            assertThat(kv.get(Wire.bs("gc-k"), between).isEmpty()).isTrue();
            // The newest version at the safe point survives, and new reads work.
            assertThat(kv.get(Wire.bs("gc-k"), beforeGc).toStringUtf8()).isEqualTo("v2");
            assertThat(kv.get(Wire.bs("gc-k"), session.getTimestamp().getVersion()).toStringUtf8())
                    .isEqualTo("v2");
            // A key whose only version is below the safe point keeps it.
            assertThat(
                            kv.get(Wire.bs("gc-other"), session.getTimestamp().getVersion())
                                    .toStringUtf8())
                    .isEqualTo("o1");
            assertThat(cluster.storage().versions(Wire.bytes("gc-k"))).hasSize(1);
        }
    }

    @Test
    void updateServiceGcSafePointAnswersTheMinimumServiceAndItsRemainingTtl(
            MiniTiKVCluster cluster) {
        try (Wire wire = new Wire(cluster)) {
            long floor = cluster.gc(cluster.currentTs());
            Pdpb.UpdateServiceGCSafePointResponse resp =
                    wire.pd()
                            .updateServiceGCSafePoint(
                                    Pdpb.UpdateServiceGCSafePointRequest.newBuilder()
                                            .setHeader(wire.pdHeader())
                                            .setServiceId(
                                                    org.tikv.shade.com.google.protobuf.ByteString
                                                            .copyFromUtf8("raw-svc"))
                                            .setTTL(60)
                                            .setSafePoint(floor - 1)
                                            .build());
            assertThat(resp.getHeader().hasError()).isFalse();
            // Refused: the minimum is still gc_worker's, which never expires.
            assertThat(resp.getServiceId().toStringUtf8()).isEqualTo("gc_worker");
            assertThat(resp.getMinSafePoint()).isEqualTo(floor);
            long nowSec = System.currentTimeMillis() / 1000;
            // PD answers ExpiredAt - now: MaxInt64 - now for gc_worker.
            assertThat(resp.getTTL())
                    .isBetween(Long.MAX_VALUE - nowSec - 5, Long.MAX_VALUE - nowSec + 5);
        }
    }

    @Test
    void serviceSafePointAboveTheMinimumIsAcceptedAndHoldsBackGc(MiniTiKVCluster cluster)
            throws Exception {
        try (TiSession session = Wire.session(cluster)) {
            long base = cluster.gcSafePoint();
            long held = session.getTimestamp().getVersion();
            Long min =
                    session.getPDClient()
                            .updateServiceGCSafePoint(
                                    "tiflink-hold",
                                    600,
                                    held,
                                    ConcreteBackOffer.newCustomBackOff(5000));
            // gc_worker still holds the minimum (the previous GC safe point or 0).
            assertThat(min).isLessThanOrEqualTo(held).isGreaterThanOrEqualTo(base);
            // A GC round cannot pass a live service safe point.
            long later = session.getTimestamp().getVersion();
            assertThat(cluster.gc(later)).isEqualTo(held);
            // Removing the service safe point (TTL 0) lets the next round advance.
            session.getPDClient()
                    .updateServiceGCSafePoint(
                            "tiflink-hold", 0, held, ConcreteBackOffer.newCustomBackOff(5000));
            assertThat(cluster.gc(later)).isEqualTo(later);
        }
    }
}
