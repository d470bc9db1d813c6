package io.tiflink.minicluster.conformance;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.region.Region;

import org.tikv.common.TiSession;
import org.tikv.txn.KVClient;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A store going down and coming back, and slow stores, as the real client lives through them. */
class StoreFailureConformanceITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(3));

    @AfterEach
    void heal() {
        MiniTiKVCluster cluster = TIKV.cluster();
        cluster.faults().clear();
        for (long id : cluster.storeIds()) {
            if (!cluster.isStoreUp(id)) {
                cluster.startStore(id);
            }
        }
    }

    private static String read(KVClient kv, TiSession session, String key) {
        return kv.get(Wire.bs(key), session.getTimestamp().getVersion()).toStringUtf8();
    }

    @Test
    void storeDownMovesLeadersAndTheClientFollows(MiniTiKVCluster cluster) throws Exception {
        List<Long> stores = cluster.storeIds();
        cluster.split(Wire.bytes("sd-"), Wire.bytes("sd-b"), Wire.bytes("sd-c"), Wire.bytes("sd."));
        // Spread the leaders: sd-a on store 0, sd-b on store 1, sd-c on store 2.
        String[] keys = {"sd-a", "sd-b", "sd-c"};
        for (int i = 0; i < keys.length; i++) {
            cluster.transferLeader(cluster.regions().locate(Wire.bytes(keys[i])).id, stores.get(i));
        }
        long victim = stores.get(0);
        try (TiSession session = Wire.session(cluster);
                KVClient kv = session.createKVClient()) {
            Wire.commit(session, Wire.kvs("sd-a", "a1", "sd-b", "b1", "sd-c", "c1"));
            for (String k : keys) {
                assertThat(read(kv, session, k)).endsWith("1"); // warm the region cache
            }

            cluster.stopStore(victim);
            assertThat(cluster.isStoreUp(victim)).isFalse();
            Region moved = cluster.regions().locate(Wire.bytes("sd-a"));
            assertThat(moved.leaderStoreId).isNotEqualTo(victim);

            // Reads and writes go on, the client finding the new leaders.
            assertThat(read(kv, session, "sd-a")).isEqualTo("a1");
            assertThat(read(kv, session, "sd-b")).isEqualTo("b1");
            Wire.commit(session, Wire.kvs("sd-a", "a2", "sd-b", "b2", "sd-c", "c2"));
            assertThat(read(kv, session, "sd-a")).isEqualTo("a2");
            assertThat(read(kv, session, "sd-c")).isEqualTo("c2");

            // Back up: the store serves again once it leads.
            cluster.startStore(victim);
            assertThat(cluster.isStoreUp(victim)).isTrue();
            cluster.transferLeader(moved.id, victim);
            try (Wire wire = new Wire(cluster)) {
                Region r = cluster.regions().locate(Wire.bytes("sd-a"));
                assertThat(r.leaderStoreId).isEqualTo(victim);
                assertThat(
                                wire.tikv(victim)
                                        .kvGet(
                                                org.tikv.kvproto.Kvrpcpb.GetRequest.newBuilder()
                                                        .setContext(Wire.context(r))
                                                        .setKey(Wire.bs("sd-a"))
                                                        .setVersion(cluster.currentTs())
                                                        .build())
                                        .getValue()
                                        .toStringUtf8())
                        .isEqualTo("a2");
            }
            assertThat(read(kv, session, "sd-a")).isEqualTo("a2");
            Wire.commit(session, Wire.kvs("sd-a", "a3"));
            assertThat(read(kv, session, "sd-a")).isEqualTo("a3");
        }
    }

    @Test
    void slowRepliesBelowTheClientTimeoutStillSucceed(MiniTiKVCluster cluster) throws Exception {
        try (TiSession session = Wire.session(cluster);
                KVClient kv = session.createKVClient()) {
            Wire.commit(session, Wire.kvs("sl-a", "1", "sl-b", "2"));
            for (long id : cluster.storeIds()) {
                cluster.faults().delay(id, Duration.ofMillis(50));
            }
            long t0 = System.nanoTime();
            assertThat(read(kv, session, "sl-a")).isEqualTo("1");
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0))
                    .isGreaterThanOrEqualTo(50);
            Wire.commit(session, Wire.kvs("sl-a", "10", "sl-b", "20"));
            assertThat(read(kv, session, "sl-a")).isEqualTo("10");
            assertThat(read(kv, session, "sl-b")).isEqualTo("20");
        }
    }

    @Test
    void repliesSlowerThanTheClientTimeoutAreRetriedUntilTheStoreRecovers(MiniTiKVCluster cluster)
            throws Exception {
        try (TiSession session = Wire.session(cluster);
                KVClient kv = session.createKVClient()) {
            Wire.commit(session, Wire.kvs("st-a", "1"));
            assertThat(read(kv, session, "st-a")).isEqualTo("1");
            long leader = cluster.regions().locate(Wire.bytes("st-a")).leaderStoreId;
            // client-java's default KV timeout is 200 ms.
            cluster.faults().delay(leader, Duration.ofMillis(600));
            long readTs = session.getTimestamp().getVersion();
            CompletableFuture<String> slowRead =
                    CompletableFuture.supplyAsync(
                            () -> kv.get(Wire.bs("st-a"), readTs).toStringUtf8());
            // The read times out and keeps retrying: it is still pending well past the timeout.
            await().during(Duration.ofMillis(1_000))
                    .atMost(Duration.ofSeconds(3))
                    .until(() -> !slowRead.isDone());
            cluster.faults().delay(leader, Duration.ZERO);
            assertThat(slowRead.get(30, TimeUnit.SECONDS)).isEqualTo("1");
        }
    }
}
