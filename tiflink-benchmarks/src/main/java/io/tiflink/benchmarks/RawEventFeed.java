package io.tiflink.benchmarks;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.region.Region;

import org.tikv.common.TiSession;
import org.tikv.common.region.TiRegion;
import org.tikv.kvproto.Cdcpb;
import org.tikv.kvproto.ChangeDataGrpc;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.kvproto.Metapb;
import org.tikv.shade.com.google.protobuf.ByteString;
import org.tikv.shade.io.grpc.stub.ClientCallStreamObserver;
import org.tikv.shade.io.grpc.stub.ClientResponseObserver;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The raw TiKV operation the CDC client is measured against: one {@code ChangeData/EventFeed}
 * stream per store, every region registered with the same checkpoint ts, and the rows counted as
 * they arrive. No PREWRITE/COMMIT matching, no dedupe, no sorting, no resolved ts, no retries: a
 * region error fails the feed.
 */
final class RawEventFeed implements AutoCloseable {
    /** Sees every COMMITTED (incremental scan) and COMMIT (live) row; called on gRPC threads. */
    interface RowSink {
        void onRow(Cdcpb.Event.Row row);
    }

    /** A region to register: its id, epoch and leader. */
    static final class Target {
        final long regionId;
        final Metapb.RegionEpoch epoch;
        final long storeId;
        final String address;

        Target(long regionId, Metapb.RegionEpoch epoch, long storeId, String address) {
            this.regionId = regionId;
            this.epoch = epoch;
            this.storeId = storeId;
            this.address = address;
        }
    }

    /** The regions of the cluster that overlap the raw key range {@code [start, end)}. */
    static List<Target> regionsOf(MiniTiKVCluster cluster, byte[] start, byte[] end) {
        List<Target> out = new ArrayList<>();
        for (Region r : cluster.regions().all()) {
            boolean startsBeforeEnd = Arrays.compareUnsigned(r.start, end) < 0;
            boolean endsAfterStart = r.end.length == 0 || Arrays.compareUnsigned(start, r.end) < 0;
            if (startsBeforeEnd && endsAfterStart) {
                out.add(
                        new Target(
                                r.id,
                                r.toProto().getRegionEpoch(),
                                r.leaderStoreId,
                                cluster.storeAddress(r.leaderStoreId)));
            }
        }
        return out;
    }

    /** The regions that overlap the raw key range {@code [start, end)}, as PD reports them. */
    static List<Target> regionsOf(TiSession session, byte[] start, byte[] end) {
        List<Target> out = new ArrayList<>();
        byte[] key = start;
        while (Arrays.compareUnsigned(key, end) < 0) {
            TiRegion r = session.getRegionManager().getRegionByKey(ByteString.copyFrom(key));
            long storeId = r.getLeader().getStoreId();
            out.add(
                    new Target(
                            r.getId(),
                            r.getRegionEpoch(),
                            storeId,
                            session.getRegionManager()
                                    .getStoreById(storeId)
                                    .getStore()
                                    .getAddress()));
            key = r.getEndKey().toByteArray();
            if (key.length == 0) {
                break;
            }
        }
        return out;
    }

    private final RowSink sink;
    private final boolean pausable;
    private final CountDownLatch initialized;
    private final AtomicLong committedRows = new AtomicLong();
    private final AtomicLong commitRows = new AtomicLong();
    private final List<StoreObserver> streams = new ArrayList<>();
    private volatile Throwable failure;
    private volatile boolean closed;

    /** Opens the streams and registers every region at once. */
    RawEventFeed(
            TiSession session,
            long clusterId,
            List<Target> regions,
            long checkpointTs,
            RowSink sink) {
        this(session, clusterId, regions, checkpointTs, sink, false);
    }

    /**
     * With {@code pausable}, messages are asked for one at a time (manual gRPC flow control), so
     * that {@link #pause} can stop taking them and let them queue on the server, as a stalled
     * consumer does.
     */
    RawEventFeed(
            TiSession session,
            long clusterId,
            List<Target> regions,
            long checkpointTs,
            RowSink sink,
            boolean pausable) {
        this.sink = sink;
        this.pausable = pausable;
        this.initialized = new CountDownLatch(regions.size());
        Map<Long, List<Target>> byStore = new LinkedHashMap<>();
        for (Target t : regions) {
            byStore.computeIfAbsent(t.storeId, id -> new ArrayList<>()).add(t);
        }
        Cdcpb.Header header =
                Cdcpb.Header.newBuilder().setClusterId(clusterId).setTicdcVersion("6.5.0").build();
        long requestId = 1;
        for (List<Target> targets : byStore.values()) {
            StoreObserver stream = new StoreObserver();
            streams.add(stream);
            ChangeDataGrpc.newStub(
                            session.getChannelFactory()
                                    .getChannel(
                                            targets.get(0).address,
                                            session.getPDClient().getHostMapping()))
                    .eventFeed(stream);
            for (Target t : targets) {
                stream.send(
                        Cdcpb.ChangeDataRequest.newBuilder()
                                .setHeader(header)
                                .setRegionId(t.regionId)
                                .setRegionEpoch(t.epoch)
                                .setCheckpointTs(checkpointTs)
                                .setRequestId(requestId++)
                                .setExtraOp(Kvrpcpb.ExtraOp.ReadOldValue)
                                .setKvApi(Cdcpb.ChangeDataRequest.KvAPI.TiDB)
                                .build());
            }
        }
    }

    /** Waits until every region sent INITIALIZED (its incremental scan is all here). */
    void awaitInitialized(Duration timeout) throws InterruptedException {
        if (!initialized.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException(
                    "raw feed: " + initialized.getCount() + " regions not initialized in time");
        }
        checkFailure();
    }

    /** Waits until {@code rows} COMMIT rows arrived. */
    void awaitCommitRows(long rows, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (commitRows.get() < rows) {
            checkFailure();
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "raw feed: " + commitRows.get() + " of " + rows + " COMMIT rows in time");
            }
            Thread.sleep(1);
        }
    }

    /** Stops asking for messages (after the one in hand); only for a pausable feed. */
    void pause() {
        for (StoreObserver s : streams) {
            s.setFlowing(false);
        }
    }

    /** Asks for messages again. */
    void resume() {
        for (StoreObserver s : streams) {
            s.setFlowing(true);
        }
    }

    /** COMMITTED rows (from incremental scans) so far. */
    long committedRows() {
        return committedRows.get();
    }

    /** COMMIT rows (live) so far. */
    long commitRows() {
        return commitRows.get();
    }

    void checkFailure() {
        Throwable f = failure;
        if (f != null) {
            throw new IllegalStateException("raw feed failed: " + f, f);
        }
    }

    @Override
    public void close() {
        closed = true;
        for (StoreObserver s : streams) {
            s.cancel();
        }
    }

    private void failed(Throwable t) {
        if (failure == null) {
            failure = t;
        }
        while (initialized.getCount() > 0) {
            initialized.countDown();
        }
    }

    private final class StoreObserver
            implements ClientResponseObserver<Cdcpb.ChangeDataRequest, Cdcpb.ChangeDataEvent> {
        private ClientCallStreamObserver<Cdcpb.ChangeDataRequest> call;
        private boolean flowing = true;
        private boolean owed;

        @Override
        public void beforeStart(ClientCallStreamObserver<Cdcpb.ChangeDataRequest> requests) {
            this.call = requests;
            if (pausable) {
                requests.disableAutoRequestWithInitial(1);
            }
        }

        synchronized void setFlowing(boolean on) {
            flowing = on;
            if (on && owed) {
                owed = false;
                call.request(1);
            }
        }

        /** Asks for the next message unless paused (then owes it). */
        private synchronized void next() {
            if (flowing) {
                call.request(1);
            } else {
                owed = true;
            }
        }

        synchronized void send(Cdcpb.ChangeDataRequest request) {
            call.onNext(request);
        }

        synchronized void cancel() {
            call.cancel("benchmark round over", null);
        }

        @Override
        public void onNext(Cdcpb.ChangeDataEvent event) {
            for (Cdcpb.Event e : event.getEventsList()) {
                switch (e.getEventCase()) {
                    case ENTRIES:
                        long committed = 0;
                        long commits = 0;
                        for (Cdcpb.Event.Row row : e.getEntries().getEntriesList()) {
                            switch (row.getType()) {
                                case COMMITTED:
                                    committed++;
                                    sink.onRow(row);
                                    break;
                                case COMMIT:
                                    commits++;
                                    sink.onRow(row);
                                    break;
                                case INITIALIZED:
                                    committedRows.addAndGet(committed);
                                    commitRows.addAndGet(commits);
                                    committed = 0;
                                    commits = 0;
                                    initialized.countDown();
                                    break;
                                default:
                                    break;
                            }
                        }
                        committedRows.addAndGet(committed);
                        commitRows.addAndGet(commits);
                        break;
                    case ERROR:
                        failed(
                                new IllegalStateException(
                                        "region " + e.getRegionId() + " stopped: " + e.getError()));
                        break;
                    default:
                        break;
                }
            }
            if (pausable) {
                next();
            }
        }

        @Override
        public void onError(Throwable t) {
            if (!closed) {
                failed(t);
            }
        }

        @Override
        public void onCompleted() {
            if (!closed) {
                failed(new IllegalStateException("stream completed by the server"));
            }
        }
    }
}
