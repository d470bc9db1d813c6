package io.tiflink.minicluster.region;

import io.tiflink.minicluster.codec.KeyCodec;

import org.tikv.kvproto.Metapb;
import org.tikv.shade.com.google.protobuf.ByteString;

import java.util.List;

/**
 * An immutable view of one region: its raw key range, epoch, one peer per store and the store that
 * holds its leader. The wire form ({@link #toProto()}) carries memcomparable-encoded boundaries.
 */
public final class Region {
    public final long id;

    /** Raw boundaries; an empty end is unbounded. */
    public final byte[] start;

    public final byte[] end;
    public final long confVer;
    public final long version;
    public final List<Metapb.Peer> peers;
    public final long leaderStoreId;

    private final Metapb.Region proto;

    public Region(
            long id,
            byte[] start,
            byte[] end,
            long confVer,
            long version,
            List<Metapb.Peer> peers,
            long leaderStoreId) {
        this.id = id;
        this.start = start;
        this.end = end;
        this.confVer = confVer;
        this.version = version;
        this.peers = List.copyOf(peers);
        this.leaderStoreId = leaderStoreId;
        this.proto =
                Metapb.Region.newBuilder()
                        .setId(id)
                        .setStartKey(ByteString.copyFrom(KeyCodec.encodeBoundary(start)))
                        .setEndKey(ByteString.copyFrom(KeyCodec.encodeBoundary(end)))
                        .setRegionEpoch(
                                Metapb.RegionEpoch.newBuilder()
                                        .setConfVer(confVer)
                                        .setVersion(version))
                        .addAllPeers(peers)
                        .build();
    }

    public Metapb.Region toProto() {
        return proto;
    }

    public byte[] encodedStart() {
        return proto.getStartKey().toByteArray();
    }

    public byte[] encodedEnd() {
        return proto.getEndKey().toByteArray();
    }

    public boolean contains(byte[] rawKey) {
        return KeyCodec.inRange(rawKey, start, end);
    }

    /** The peer on {@code storeId}, or null if the region has none there. */
    public Metapb.Peer peerOn(long storeId) {
        for (Metapb.Peer p : peers) {
            if (p.getStoreId() == storeId) {
                return p;
            }
        }
        return null;
    }

    public Metapb.Peer leader() {
        return peerOn(leaderStoreId);
    }

    Region withLeader(long storeId) {
        return new Region(id, start, end, confVer, version, peers, storeId);
    }

    @Override
    public String toString() {
        return "Region{id="
                + id
                + ", ["
                + KeyCodec.toHex(start)
                + ", "
                + KeyCodec.toHex(end)
                + "), epoch="
                + confVer
                + "/"
                + version
                + ", leaderStore="
                + leaderStoreId
                + "}";
    }
}
