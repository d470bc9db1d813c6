package io.tiflink.minicluster.tikv;

import io.tiflink.minicluster.codec.KeyCodec;
import io.tiflink.minicluster.region.Region;
import io.tiflink.minicluster.region.RegionManager;

import org.tikv.kvproto.Errorpb;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.kvproto.Metapb;
import org.tikv.shade.com.google.protobuf.ByteString;

import java.util.ArrayList;
import java.util.List;

/**
 * TiKV's per-request region checks, in raftstore's order: store, region, peer, leader, epoch
 * (version only, as for normal reads and writes), then key range.
 */
final class RegionErrors {
    private RegionErrors() {}

    /** The region the request may run on, or the region error to answer with. */
    static final class Checked {
        final Region region;
        final Errorpb.Error error;

        private Checked(Region region, Errorpb.Error error) {
            this.region = region;
            this.error = error;
        }
    }

    static Checked check(
            long storeId, RegionManager regions, Kvrpcpb.Context ctx, List<byte[]> keys) {
        // TiKV's check_store_id: a context without a peer names store 0 and is rejected too.
        long requestStore = ctx.getPeer().getStoreId();
        if (requestStore != storeId) {
            return error(
                    Errorpb.Error.newBuilder()
                            .setMessage(
                                    "store not match, request store id "
                                            + requestStore
                                            + " actual store id "
                                            + storeId)
                            .setStoreNotMatch(
                                    Errorpb.StoreNotMatch.newBuilder()
                                            .setRequestStoreId(requestStore)
                                            .setActualStoreId(storeId))
                            .build());
        }
        Region region = regions.byId(ctx.getRegionId());
        Metapb.Peer local = region == null ? null : region.peerOn(storeId);
        if (local == null) {
            return error(regionNotFound(ctx.getRegionId()));
        }
        if (ctx.getPeer().getId() != local.getId()) {
            return error(
                    Errorpb.Error.newBuilder()
                            .setMessage(
                                    "mismatch peer id "
                                            + ctx.getPeer().getId()
                                            + " != "
                                            + local.getId())
                            .build());
        }
        if (region.leaderStoreId != storeId) {
            return error(notLeader(region));
        }
        if (ctx.getRegionEpoch().getVersion() != region.version) {
            return error(epochNotMatch(regions, region, ctx.getRegionEpoch()));
        }
        for (byte[] key : keys) {
            if (!region.contains(key)) {
                return error(keyNotInRegion(region, key));
            }
        }
        return new Checked(region, null);
    }

    private static Checked error(Errorpb.Error e) {
        return new Checked(null, e);
    }

    static Errorpb.Error regionNotFound(long regionId) {
        return Errorpb.Error.newBuilder()
                .setMessage("region " + regionId + " not found")
                .setRegionNotFound(Errorpb.RegionNotFound.newBuilder().setRegionId(regionId))
                .build();
    }

    static Errorpb.Error notLeader(Region region) {
        return Errorpb.Error.newBuilder()
                .setMessage("peer is not leader for region " + region.id)
                .setNotLeader(
                        Errorpb.NotLeader.newBuilder()
                                .setRegionId(region.id)
                                .setLeader(region.leader()))
                .build();
    }

    /** TiKV's {@code MAX_REGIONS_IN_ERROR}: at most this many siblings ride along. */
    private static final int MAX_REGIONS_IN_ERROR = 10;

    static Errorpb.Error epochNotMatch(
            RegionManager regions, Region current, Metapb.RegionEpoch requested) {
        Errorpb.EpochNotMatch.Builder enm =
                Errorpb.EpochNotMatch.newBuilder().addCurrentRegions(current.toProto());
        for (Region sibling : siblings(regions, current, requested.getVersion())) {
            enm.addCurrentRegions(sibling.toProto());
        }
        return Errorpb.Error.newBuilder()
                .setMessage(
                        "mismatch region epoch: current "
                                + current.confVer
                                + "/"
                                + current.version
                                + ", requested "
                                + requested.getConfVer()
                                + "/"
                                + requested.getVersion())
                .setEpochNotMatch(enm)
                .build();
    }

    /**
     * TiKV's {@code collect_sibling_region} (raftstore {@code fsm/peer.rs}, right-derive split):
     * the regions just left of {@code current}, as many as its version moved past the requested one
     * (each sibling with a newer version than seen so far extends the count), at most {@link
     * #MAX_REGIONS_IN_ERROR}; none when the request's version is not older. These are the regions a
     * split carved off the requested range, so the client can re-cache all of them at once.
     */
    private static List<Region> siblings(
            RegionManager regions, Region current, long requestedVersion) {
        List<Region> result = new ArrayList<>();
        long maxVersion = current.version;
        if (requestedVersion >= maxVersion) {
            return result;
        }
        long collect = maxVersion - requestedVersion;
        Region next = current;
        for (int i = 0; i < MAX_REGIONS_IN_ERROR; i++) {
            next = regions.leftSibling(next);
            if (next == null) {
                break;
            }
            collect--;
            if (next.version >= maxVersion) {
                collect += next.version - maxVersion;
                maxVersion = next.version;
            }
            result.add(next);
            if (collect == 0) {
                break;
            }
        }
        return result;
    }

    static Errorpb.Error keyNotInRegion(Region region, byte[] key) {
        return Errorpb.Error.newBuilder()
                .setMessage("key " + KeyCodec.toHex(key) + " is not in region " + region.id)
                .setKeyNotInRegion(
                        Errorpb.KeyNotInRegion.newBuilder()
                                .setKey(ByteString.copyFrom(key))
                                .setRegionId(region.id)
                                .setStartKey(ByteString.copyFrom(region.encodedStart()))
                                .setEndKey(ByteString.copyFrom(region.encodedEnd())))
                .build();
    }
}
