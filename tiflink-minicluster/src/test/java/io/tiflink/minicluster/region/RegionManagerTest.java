package io.tiflink.minicluster.region;

import io.tiflink.minicluster.codec.KeyCodec;

import org.tikv.kvproto.Metapb;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RegionManagerTest {
    private static final byte[] EMPTY = new byte[0];

    private final IdAllocator ids = new IdAllocator(1);
    private final RegionManager regions = new RegionManager(ids, List.of(1L, 2L, 3L));

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void startsWithOneRegionOverTheWholeKeySpace() {
        List<Region> all = regions.all();
        assertThat(all).hasSize(1);
        Region r = all.get(0);
        assertThat(r.start).isEmpty();
        assertThat(r.end).isEmpty();
        assertThat(r.confVer).isEqualTo(1);
        assertThat(r.version).isEqualTo(1);
        assertThat(r.peers).extracting(Metapb.Peer::getStoreId).containsExactly(1L, 2L, 3L);
        assertThat(r.leaderStoreId).isEqualTo(1);
        assertThat(r.leader().getStoreId()).isEqualTo(1);
        assertThat(r.toProto().getStartKey()).isEmpty();
        assertThat(r.toProto().getEndKey()).isEmpty();
        assertThat(regions.locate(b("anything"))).isSameAs(r);
        assertThat(regions.locate(EMPTY)).isSameAs(r);
    }

    @Test
    void splitReturnsEveryRegionThatStartsAtAGivenKey() {
        regions.split(List.of(b("m")));

        // "m" already starts a region, "t" splits that same region.
        List<Region> started = regions.split(List.of(b("m"), b("t")));

        assertThat(started).extracting(r -> s(r.start)).containsExactly("m", "t");
        assertThat(started).containsExactly(regions.locate(b("m")), regions.locate(b("t")));
    }

    @Test
    void splitKeepsTheIdOnTheRightAndBumpsTheVersion() {
        Region before = regions.locate(b("m"));

        List<Region> started = regions.split(List.of(b("m")));

        assertThat(started).hasSize(1);
        Region right = regions.locate(b("m"));
        Region left = regions.locate(b("a"));
        assertThat(started.get(0)).isSameAs(right);
        assertThat(right.id).isEqualTo(before.id);
        assertThat(s(right.start)).isEqualTo("m");
        assertThat(right.end).isEmpty();
        assertThat(left.id).isNotEqualTo(before.id);
        assertThat(left.start).isEmpty();
        assertThat(s(left.end)).isEqualTo("m");
        for (Region r : List.of(left, right)) {
            assertThat(r.version).isEqualTo(before.version + 1);
            assertThat(r.confVer).isEqualTo(before.confVer);
            assertThat(r.leaderStoreId).isEqualTo(before.leaderStoreId);
            assertThat(r.peers).extracting(Metapb.Peer::getStoreId).containsExactly(1L, 2L, 3L);
        }
        // The new region's peers are new peers.
        Set<Long> oldPeerIds =
                before.peers.stream().map(Metapb.Peer::getId).collect(Collectors.toSet());
        assertThat(left.peers)
                .extracting(Metapb.Peer::getId)
                .doesNotContainAnyElementsOf(oldPeerIds);
        assertThat(right.peers).isEqualTo(before.peers);
        // The wire form carries encoded boundaries and the epoch.
        assertThat(left.toProto().getEndKey().toByteArray())
                .isEqualTo(KeyCodec.encodeBytes(b("m")));
        assertThat(right.toProto().getRegionEpoch().getVersion()).isEqualTo(right.version);
        assertThat(regions.byId(before.id)).isSameAs(right);
    }

    @Test
    void batchSplitBumpsTheVersionByTheNumberOfNewRegions() {
        Region before = regions.locate(EMPTY);

        List<Region> started = regions.split(List.of(b("t"), b("g"), b("g")));

        // Unsorted and duplicate keys are fine: two new regions.
        assertThat(started).extracting(r -> s(r.start)).containsExactly("g", "t");
        List<Region> all = regions.all();
        assertThat(all).extracting(r -> s(r.start)).containsExactly("", "g", "t");
        assertThat(all).extracting(r -> r.version).containsOnly(before.version + 2);
        assertThat(all.get(2).id).isEqualTo(before.id);
        assertThat(all.stream().map(r -> r.id).distinct()).hasSize(3);
        // Splitting at an existing boundary changes nothing.
        assertThat(regions.split(List.of(b("g"))))
                .extracting(r -> r.version)
                .containsExactly(before.version + 2);
        assertThat(regions.all()).hasSize(3);
    }

    @Test
    void splitsAreTiled() {
        regions.split(List.of(b("c"), b("f")));
        regions.split(List.of(b("d"), b("x")));
        List<Region> all = regions.all();
        assertThat(all.get(0).start).isEmpty();
        assertThat(all.get(all.size() - 1).end).isEmpty();
        for (int i = 1; i < all.size(); i++) {
            assertThat(all.get(i).start).isEqualTo(all.get(i - 1).end);
        }
        assertThat(s(regions.locate(b("e")).start)).isEqualTo("d");
        assertThat(s(regions.locate(b("f")).start)).isEqualTo("f");
        assertThat(s(regions.locate(b("czzz")).start)).isEqualTo("c");
        assertThat(regions.locate(b("e")).version).isEqualTo(4);
        assertThat(regions.locate(b("a")).version).isEqualTo(3);
    }

    @Test
    void mergeBumpsTheVersionAboveBothAndRemovesTheSource() {
        regions.split(List.of(b("m")));
        regions.split(List.of(b("t"))); // right part [m,..) version 3
        Region left = regions.locate(b("a")); // version 2
        Region middle = regions.locate(b("m")); // version 3
        assertThat(left.version).isEqualTo(2);
        assertThat(middle.version).isEqualTo(3);

        Region merged = regions.merge(middle.id, left.id);

        assertThat(merged.id).isEqualTo(left.id);
        assertThat(merged.start).isEmpty();
        assertThat(s(merged.end)).isEqualTo("t");
        assertThat(merged.version).isEqualTo(4);
        assertThat(merged.confVer).isEqualTo(left.confVer);
        assertThat(regions.byId(middle.id)).isNull();
        assertThat(regions.locate(b("n"))).isSameAs(merged);
        assertThat(regions.all()).hasSize(2);

        // Merging the other way round: the source is on the right.
        Region right = regions.locate(b("x"));
        Region merged2 = regions.merge(merged.id, right.id);
        assertThat(merged2.id).isEqualTo(right.id);
        assertThat(merged2.start).isEmpty();
        assertThat(merged2.end).isEmpty();
        assertThat(merged2.version).isEqualTo(Math.max(merged.version, right.version) + 1);
        assertThat(regions.all()).containsExactly(merged2);
    }

    @Test
    void mergeRejectsUnknownOrNonAdjacentRegions() {
        regions.split(List.of(b("g"), b("t")));
        Region a = regions.locate(b("a"));
        Region z = regions.locate(b("z"));

        assertThatThrownBy(() -> regions.merge(a.id, z.id))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> regions.merge(a.id, 9999))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(regions.all()).hasSize(3);
    }

    @Test
    void leftSiblingIsTheRegionJustBefore() {
        regions.split(List.of(b("g"), b("t")));
        Region first = regions.locate(b("a"));
        Region second = regions.locate(b("h"));
        Region third = regions.locate(b("u"));

        assertThat(regions.leftSibling(first)).isNull();
        assertThat(regions.leftSibling(second)).isSameAs(first);
        assertThat(regions.leftSibling(third)).isSameAs(second);
    }

    @Test
    void locateEncodedAgreesWithLocate() {
        regions.split(List.of(b("g"), b("g\0"), b("ga"), b("t"), b("longer-than-eight")));
        List<byte[]> probes = new ArrayList<>();
        for (String k :
                List.of(
                        "",
                        "a",
                        "g",
                        "g\0",
                        "g\0\0",
                        "ga",
                        "gZ",
                        "long",
                        "longer-than-eight",
                        "longer-than-eight!",
                        "s",
                        "t",
                        "zzzzzzzzzzzzzzzzzz")) {
            probes.add(b(k));
        }
        probes.add(new byte[] {(byte) 0xff, (byte) 0xff});
        for (byte[] raw : probes) {
            assertThat(regions.locateEncoded(KeyCodec.encodeBytes(raw)).id)
                    .as("key %s", KeyCodec.toHex(raw))
                    .isEqualTo(regions.locate(raw).id);
        }
    }

    @Test
    void scanEncodedReturnsOverlappingRegionsInOrder() {
        regions.split(List.of(b("g"), b("t")));

        assertThat(regions.scanEncoded(EMPTY, EMPTY, 0)).hasSize(3);
        assertThat(regions.scanEncoded(KeyCodec.encodeBytes(b("h")), EMPTY, 0))
                .extracting(r -> s(r.start))
                .containsExactly("g", "t");
        assertThat(
                        regions.scanEncoded(
                                KeyCodec.encodeBytes(b("a")), KeyCodec.encodeBytes(b("g")), 0))
                .extracting(r -> s(r.start))
                .containsExactly("");
        assertThat(regions.scanEncoded(EMPTY, EMPTY, 2)).hasSize(2);
    }

    @Test
    void transferLeaderKeepsTheEpoch() {
        Region before = regions.locate(EMPTY);

        Region after = regions.transferLeader(before.id, 2);

        assertThat(after.leaderStoreId).isEqualTo(2);
        assertThat(after.version).isEqualTo(before.version);
        assertThat(after.confVer).isEqualTo(before.confVer);
        assertThat(regions.locate(EMPTY)).isSameAs(after);
        assertThatThrownBy(() -> regions.transferLeader(before.id, 9))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void listenersHearSplitMergeAndLeaderChange() {
        List<String> events = new ArrayList<>();
        regions.addListener(
                new RegionListener() {
                    @Override
                    public void onSplit(Region before, List<Region> after) {
                        events.add("split " + before.id + " into " + after.size());
                    }

                    @Override
                    public void onMerge(Region source, Region target) {
                        events.add("merge " + source.id + " into " + target.id);
                    }

                    @Override
                    public void onLeaderChange(Region before, Region after) {
                        events.add("leader " + after.leaderStoreId);
                    }
                });
        Region whole = regions.locate(EMPTY);
        regions.split(List.of(b("m")));
        Region left = regions.locate(EMPTY);
        regions.merge(left.id, whole.id);
        regions.transferLeader(whole.id, 3);
        regions.transferLeader(whole.id, 3); // no change, no event

        assertThat(events)
                .containsExactly(
                        "split " + whole.id + " into 2",
                        "merge " + left.id + " into " + whole.id,
                        "leader 3");
    }

    @Test
    void electLeadersAwayFromADownStore() {
        regions.split(List.of(b("m")));
        Region moved = regions.transferLeader(regions.locate(b("z")).id, 2);

        regions.electLeadersAwayFrom(1, Set.of(3L));

        assertThat(regions.locate(b("a")).leaderStoreId).isEqualTo(3);
        assertThat(regions.locate(b("z")).leaderStoreId).isEqualTo(moved.leaderStoreId);
    }
}
