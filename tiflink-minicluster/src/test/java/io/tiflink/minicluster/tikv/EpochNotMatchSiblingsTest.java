package io.tiflink.minicluster.tikv;

import io.tiflink.minicluster.region.IdAllocator;
import io.tiflink.minicluster.region.Region;
import io.tiflink.minicluster.region.RegionManager;

import org.tikv.kvproto.Errorpb;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.kvproto.Metapb;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * EpochNotMatch carries the regions TiKV's {@code collect_sibling_region} would: the current
 * region, then as many left neighbours as its version moved past the requested one (up to 10).
 */
class EpochNotMatchSiblingsTest {
    private static final long STORE = 1;

    private static byte[] key(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static RegionManager regions() {
        return new RegionManager(new IdAllocator(1), List.of(STORE, 2L, 3L));
    }

    /** A request to {@code region} as the client cached it, for {@code key}. */
    private static Errorpb.Error requestWith(RegionManager regions, Region cached, String key) {
        Kvrpcpb.Context ctx =
                Kvrpcpb.Context.newBuilder()
                        .setRegionId(cached.id)
                        .setPeer(cached.peerOn(STORE))
                        .setRegionEpoch(
                                Metapb.RegionEpoch.newBuilder()
                                        .setConfVer(cached.confVer)
                                        .setVersion(cached.version))
                        .build();
        return RegionErrors.check(STORE, regions, ctx, List.of(key(key))).error;
    }

    private static List<Long> ids(Errorpb.Error error) {
        return error.getEpochNotMatch().getCurrentRegionsList().stream()
                .map(Metapb.Region::getId)
                .collect(Collectors.toList());
    }

    @Test
    void afterASplitTheRegionsCarvedOffTheRequestedOneComeAlong() {
        RegionManager regions = regions();
        regions.split(List.of(key("a")));
        Region cached = regions.locate(key("m"));
        regions.split(List.of(key("f"), key("k"))); // version + 2: two regions carved off
        List<Region> all = regions.all();

        Errorpb.Error error = requestWith(regions, cached, "m");

        assertThat(error.hasEpochNotMatch()).isTrue();
        // [k, +inf) keeps the id; [f, k) and [a, f) were split off it. [-inf, a) is older.
        assertThat(ids(error)).containsExactly(all.get(3).id, all.get(2).id, all.get(1).id);
    }

    @Test
    void afterAMergeOneLeftNeighbourComesAlong() {
        RegionManager regions = regions();
        regions.split(List.of(key("f"), key("k")));
        List<Region> all = regions.all();
        Region cached = all.get(2);
        regions.merge(all.get(1).id, cached.id); // version + 1

        Errorpb.Error error = requestWith(regions, cached, "m");

        assertThat(ids(error)).containsExactly(cached.id, all.get(0).id);
    }

    @Test
    void aLeaderTransferLeavesTheEpochAlone() {
        RegionManager regions = regions();
        Region cached = regions.all().get(0);
        regions.transferLeader(cached.id, 2L);
        regions.transferLeader(cached.id, STORE);

        assertThat(requestWith(regions, cached, "m")).isNull();
    }
}
