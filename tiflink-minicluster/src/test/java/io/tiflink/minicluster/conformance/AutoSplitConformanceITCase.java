package io.tiflink.minicluster.conformance;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.region.Region;

import org.tikv.common.TiSession;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.txn.KVClient;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Regions split on their own (TiKV's split checker, with a small region-max-keys) while the real
 * client writes through 2PC and reads back: the client follows every split.
 */
class AutoSplitConformanceITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(
                    b -> b.stores(3).regionMaxKeys(600).splitCheckInterval(Duration.ofMillis(20)));

    @Test
    void clientWritesAndScansWhileRegionsSplitThemselves(MiniTiKVCluster cluster) throws Exception {
        int batches = 10;
        int perBatch = 400;
        List<String> expected = new ArrayList<>();
        try (TiSession session = Wire.session(cluster);
                KVClient kv = session.createKVClient()) {
            for (int b = 0; b < batches; b++) {
                Map<String, String> kvs = new LinkedHashMap<>();
                for (int i = 0; i < perBatch; i++) {
                    // Interleave batches so every batch lands in regions split by earlier ones.
                    String k = String.format("as-%05d", i * batches + b);
                    kvs.put(k, "v" + k);
                }
                Wire.commit(session, kvs);
                expected.addAll(kvs.keySet());
                // Let the checker catch up before the next batch writes with a stale cache.
                await().atMost(Duration.ofSeconds(10))
                        .until(
                                () ->
                                        cluster.regions().all().stream()
                                                .allMatch(
                                                        r ->
                                                                cluster.storage()
                                                                                .approximateKeys(
                                                                                        r.start,
                                                                                        r.end)
                                                                        <= 600));
            }
            expected.sort(String::compareTo);
            await().atMost(Duration.ofSeconds(10)).until(() -> cluster.regions().all().size() >= 5);
            List<Region> regions = cluster.regions().all();
            // The split regions still tile the key space.
            assertThat(regions.get(0).start).isEmpty();
            assertThat(regions.get(regions.size() - 1).end).isEmpty();
            for (int i = 1; i < regions.size(); i++) {
                assertThat(regions.get(i).start).isEqualTo(regions.get(i - 1).end);
            }

            long ts = session.getTimestamp().getVersion();
            List<Kvrpcpb.KvPair> pairs = kv.scan(Wire.bs("as-"), Wire.bs("as."), ts);
            List<String> got = new ArrayList<>();
            for (Kvrpcpb.KvPair p : pairs) {
                assertThat(p.getValue().toStringUtf8()).isEqualTo("v" + p.getKey().toStringUtf8());
                got.add(p.getKey().toStringUtf8());
            }
            assertThat(got).containsExactlyElementsOf(expected);
            for (String k : List.of(expected.get(0), expected.get(1999), expected.get(3999))) {
                assertThat(kv.get(Wire.bs(k), ts).toStringUtf8()).isEqualTo("v" + k);
            }
        }
    }
}
