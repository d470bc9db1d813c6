package io.tiflink.minicluster.cdc;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.region.Region;

import org.tikv.kvproto.Cdcpb;
import org.tikv.kvproto.ChangeDataGrpc;
import org.tikv.shade.io.grpc.ManagedChannel;
import org.tikv.shade.io.grpc.ManagedChannelBuilder;
import org.tikv.shade.io.grpc.stub.StreamObserver;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.awaitility.Awaitility.await;

/** A raw EventFeed stream capturing one region from its leader, as ticdc 5.0 registers it. */
final class Feed implements AutoCloseable {
    /** Everything the store sent, in order. */
    final List<Cdcpb.ChangeDataEvent> received = new CopyOnWriteArrayList<>();

    private final ManagedChannel channel;
    private final StreamObserver<Cdcpb.ChangeDataRequest> requests;

    /**
     * Registers the region holding {@code key} from {@code checkpointTs}; waits for INITIALIZED.
     */
    Feed(MiniTiKVCluster cluster, byte[] key, long checkpointTs) {
        Region region = cluster.regions().locate(key);
        channel =
                ManagedChannelBuilder.forTarget(cluster.storeAddress(region.leaderStoreId))
                        .usePlaintext()
                        .build();
        requests = ChangeDataGrpc.newStub(channel).eventFeed(collector());
        requests.onNext(
                Cdcpb.ChangeDataRequest.newBuilder()
                        .setHeader(
                                Cdcpb.Header.newBuilder()
                                        .setClusterId(cluster.clusterId())
                                        .setTicdcVersion("5.0.0"))
                        .setRegionId(region.id)
                        .setRegionEpoch(region.toProto().getRegionEpoch())
                        .setCheckpointTs(checkpointTs)
                        .setRequestId(7)
                        .build());
        await().atMost(Duration.ofSeconds(5))
                .until(() -> rows(Cdcpb.Event.LogType.INITIALIZED).size() == 1);
    }

    List<Cdcpb.Event.Row> rows(Cdcpb.Event.LogType type) {
        List<Cdcpb.Event.Row> rows = new ArrayList<>();
        for (Cdcpb.ChangeDataEvent e : received) {
            for (Cdcpb.Event ev : e.getEventsList()) {
                for (Cdcpb.Event.Row r : ev.getEntries().getEntriesList()) {
                    if (r.getType() == type) {
                        rows.add(r);
                    }
                }
            }
        }
        return rows;
    }

    /** The largest resolved ts received so far (0 before the first). */
    long resolvedTs() {
        long ts = 0;
        for (Cdcpb.ChangeDataEvent e : received) {
            if (e.hasResolvedTs()) {
                ts = Math.max(ts, e.getResolvedTs().getTs());
            }
        }
        return ts;
    }

    private StreamObserver<Cdcpb.ChangeDataEvent> collector() {
        return new StreamObserver<>() {
            @Override
            public void onNext(Cdcpb.ChangeDataEvent value) {
                received.add(value);
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
        };
    }

    @Override
    public void close() {
        requests.onCompleted();
        channel.shutdownNow();
    }
}
