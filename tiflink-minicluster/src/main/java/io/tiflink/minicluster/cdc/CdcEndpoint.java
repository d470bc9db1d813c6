package io.tiflink.minicluster.cdc;

import io.tiflink.minicluster.codec.TxnSource;
import io.tiflink.minicluster.pd.TsoAllocator;
import io.tiflink.minicluster.region.Region;
import io.tiflink.minicluster.region.RegionListener;
import io.tiflink.minicluster.region.RegionManager;
import io.tiflink.minicluster.storage.ApplyObserver;
import io.tiflink.minicluster.storage.Lock;
import io.tiflink.minicluster.storage.Modify;
import io.tiflink.minicluster.storage.MvccStore;
import io.tiflink.minicluster.storage.Write;
import io.tiflink.minicluster.txn.ConcurrencyManager;

import org.tikv.kvproto.Cdcpb;
import org.tikv.kvproto.Errorpb;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;
import org.tikv.shade.io.grpc.Status;
import org.tikv.shade.io.grpc.stub.StreamObserver;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * TiKV's CDC endpoint for the whole minicluster: registrations (with the incremental scan taken
 * atomically with the start of observation), real-time rows from every applied batch, resolved ts
 * per region at a fixed interval, and region errors on split, merge and leader moves.
 *
 * <p>Everything that touches captured regions runs under the engine's write latch: registration,
 * applies, ticks and topology changes (see {@link RegionManager#serializeChangesWith}). That gives
 * the invariant TiKV asserts: every commit with commit_ts ≤ R is queued before ResolvedTs(R).
 */
public final class CdcEndpoint implements ApplyObserver, RegionListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CdcEndpoint.class);

    /** About the size TiKV packs into one Event during the incremental scan. */
    private static final int SCAN_EVENT_BYTES = 32 * 1024;

    private final long clusterId;
    private final MvccStore store;
    private final ConcurrencyManager cm;
    private final RegionManager regions;
    private final TsoAllocator tso;
    private final long memoryQuota;
    private final ExecutorService sender;

    /** Captured regions; guarded by the engine latch. */
    private final Map<Long, List<Downstream>> byRegion = new HashMap<>();

    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();

    public CdcEndpoint(
            long clusterId,
            MvccStore store,
            ConcurrencyManager cm,
            RegionManager regions,
            TsoAllocator tso,
            Duration resolvedTsInterval,
            long memoryQuota,
            ScheduledExecutorService scheduler) {
        this.clusterId = clusterId;
        this.store = store;
        this.cm = cm;
        this.regions = regions;
        this.tso = tso;
        this.memoryQuota = memoryQuota;
        this.sender =
                Executors.newCachedThreadPool(
                        r -> {
                            Thread t = new Thread(r, "minicluster-cdc-sender");
                            t.setDaemon(true);
                            return t;
                        });
        store.addObserver(this);
        regions.addListener(this);
        long interval = resolvedTsInterval.toMillis();
        scheduler.scheduleWithFixedDelay(
                this::advanceResolvedTs, interval, interval, TimeUnit.MILLISECONDS);
    }

    /** A new EventFeed stream on {@code storeId}. */
    StreamObserver<Cdcpb.ChangeDataRequest> connect(
            long storeId, StreamObserver<Cdcpb.ChangeDataEvent> responses) {
        Connection conn = new Connection(this, storeId, responses, memoryQuota, sender);
        connections.add(conn);
        return conn;
    }

    /** Fails every EventFeed stream of the store with UNAVAILABLE. */
    public void dropStreams(long storeId) {
        for (Connection conn : connections) {
            if (conn.storeId == storeId) {
                conn.fail(Status.UNAVAILABLE.withDescription("stream dropped by test"));
            }
        }
    }

    /** Removes all of a stream's captured regions. */
    void deregister(Connection conn) {
        connections.remove(conn);
        store.underLatch(
                s -> {
                    for (Downstream d : conn.downstreams.values()) {
                        remove(d);
                    }
                    conn.downstreams.clear();
                    return null;
                });
    }

    private void remove(Downstream d) {
        List<Downstream> list = byRegion.get(d.regionId);
        if (list != null) {
            list.remove(d);
            if (list.isEmpty()) {
                byRegion.remove(d.regionId);
            }
        }
    }

    // ---- registration ----

    void register(Connection conn, Cdcpb.ChangeDataRequest req) {
        if (req.getRequestCase() == Cdcpb.ChangeDataRequest.RequestCase.NOTIFY_TXN_STATUS) {
            return; // TiKV ignores it too
        }
        store.underLatch(
                s -> {
                    Cdcpb.Error error = registerLocked(conn, req);
                    if (error != null) {
                        conn.send(errorEvent(req.getRegionId(), req.getRequestId(), error), true);
                    }
                    return null;
                });
    }

    private Cdcpb.Error registerLocked(Connection conn, Cdcpb.ChangeDataRequest req) {
        String version = req.getHeader().getTicdcVersion();
        if (conn.version == null) {
            conn.version = version;
        } else if (!conn.version.equals(version)) {
            return Cdcpb.Error.newBuilder()
                    .setCompatibility(
                            Cdcpb.Compatibility.newBuilder().setRequiredVersion(conn.version))
                    .build();
        }
        if (SemVer.atLeast(version, 5, 3, 0) && req.getHeader().getClusterId() != clusterId) {
            return Cdcpb.Error.newBuilder()
                    .setClusterIdMismatch(
                            Cdcpb.ClusterIDMismatch.newBuilder()
                                    .setCurrent(clusterId)
                                    .setRequest(req.getHeader().getClusterId()))
                    .build();
        }
        if (req.getKvApi() != Cdcpb.ChangeDataRequest.KvAPI.TiDB) {
            return Cdcpb.Error.newBuilder()
                    .setCompatibility(Cdcpb.Compatibility.newBuilder().setRequiredVersion("6.2.0"))
                    .build();
        }
        long regionId = req.getRegionId();
        if (conn.downstreams.containsKey(regionId)) {
            return Cdcpb.Error.newBuilder()
                    .setDuplicateRequest(Cdcpb.DuplicateRequest.newBuilder().setRegionId(regionId))
                    .build();
        }
        Region region = regions.byId(regionId);
        if (region == null || region.peerOn(conn.storeId) == null) {
            return regionNotFound(regionId);
        }
        if (region.leaderStoreId != conn.storeId) {
            return Cdcpb.Error.newBuilder()
                    .setNotLeader(
                            Errorpb.NotLeader.newBuilder()
                                    .setRegionId(regionId)
                                    .setLeader(region.leader()))
                    .build();
        }
        if (req.getRegionEpoch().getVersion() != region.version) {
            return epochNotMatch(List.of(region));
        }
        Downstream d = new Downstream(regionId, req.getRequestId(), conn);
        incrementalScan(d, region, req.getCheckpointTs());
        conn.send(
                Cdcpb.ChangeDataEvent.newBuilder()
                        .addEvents(
                                event(d).setEntries(
                                                Cdcpb.Event.Entries.newBuilder()
                                                        .addEntries(
                                                                Cdcpb.Event.Row.newBuilder()
                                                                        .setType(
                                                                                Cdcpb.Event.LogType
                                                                                        .INITIALIZED))))
                        .build(),
                true);
        conn.downstreams.put(regionId, d);
        byRegion.computeIfAbsent(regionId, id -> new ArrayList<>()).add(d);
        return null;
    }

    /**
     * The incremental scan over the whole region at this instant: per key ascending, the lock as a
     * PREWRITE row, then commits above the checkpoint newest first as COMMITTED rows.
     */
    private void incrementalScan(Downstream d, Region region, long checkpointTs) {
        List<Cdcpb.Event.Row> rows = new ArrayList<>();
        long bytes = 0;
        for (Iterator<byte[]> keys = store.keys(region.start, region.end); keys.hasNext(); ) {
            byte[] key = keys.next();
            Lock lock = store.lock(key);
            Write[] versions = store.versions(key);
            if (lock != null && isDataLock(lock)) {
                d.resolver.track(key, lock.startTs);
                Cdcpb.Event.Row row =
                        prewriteRow(key, lock, lockValue(key, lock), versions).build();
                rows.add(row);
                bytes += row.getSerializedSize();
            }
            for (Write w : versions) {
                if (w.commitTs <= checkpointTs) {
                    break;
                }
                if (w.isDataChange()) {
                    Cdcpb.Event.Row built = committedRow(key, w, versions).build();
                    rows.add(built);
                    bytes += built.getSerializedSize();
                }
            }
            if (bytes >= SCAN_EVENT_BYTES) {
                sendRows(d, 0, rows, true);
                rows = new ArrayList<>();
                bytes = 0;
            }
        }
        if (!rows.isEmpty()) {
            sendRows(d, 0, rows, true);
        }
    }

    private static boolean isDataLock(Lock lock) {
        return lock.type == Kvrpcpb.Op.Put || lock.type == Kvrpcpb.Op.Del;
    }

    private byte[] lockValue(byte[] key, Lock lock) {
        if (lock.type != Kvrpcpb.Op.Put) {
            return null;
        }
        return store.value(key, lock);
    }

    /** The value visible just before a change: the newest Put at or below ts, else empty. */
    private ByteString oldValue(byte[] key, Write[] versions, long ts) {
        Write w = MvccStore.latestDataChange(versions, ts);
        return w == null || w.type == Write.Type.DELETE
                ? ByteString.EMPTY
                : ByteString.copyFrom(store.value(key, w));
    }

    // ---- real-time changes ----

    @Override
    public void onApply(long applyIndex, List<Modify> batch) {
        if (byRegion.isEmpty()) {
            return;
        }
        Map<Long, List<Modify>> byRegionId = new LinkedHashMap<>();
        for (Modify m : batch) {
            Region r = regions.locate(m.key);
            if (byRegion.containsKey(r.id)) {
                byRegionId.computeIfAbsent(r.id, id -> new ArrayList<>()).add(m);
            }
        }
        for (Map.Entry<Long, List<Modify>> e : byRegionId.entrySet()) {
            List<Downstream> downstreams = new ArrayList<>(byRegion.get(e.getKey()));
            List<Cdcpb.Event.Row> rows = rows(e.getValue(), downstreams);
            if (rows.isEmpty()) {
                continue;
            }
            for (Downstream d : downstreams) {
                if (!sendRows(d, applyIndex, rows, false)) {
                    LOG.warn(
                            "CDC stream on store {} is congested ({} bytes queued): dropping region {}",
                            d.connection.storeId,
                            d.connection.queuedBytes(),
                            d.regionId);
                    stop(d, regionNotFound(d.regionId));
                }
            }
        }
    }

    /** TiKV's sink_data: one row per key of the batch, merged as the batch is read in order. */
    private List<Cdcpb.Event.Row> rows(List<Modify> batch, List<Downstream> downstreams) {
        Map<ByteBuffer, Cdcpb.Event.Row.Builder> rows = new LinkedHashMap<>();
        for (Modify m : batch) {
            ByteBuffer k = ByteBuffer.wrap(m.key);
            switch (m.cf) {
                case DEFAULT:
                    if (!m.isDelete()) {
                        rows.computeIfAbsent(k, x -> Cdcpb.Event.Row.newBuilder())
                                .setValue(ByteString.copyFrom(m.bytes()));
                    }
                    break;
                case LOCK:
                    if (m.isDelete()) {
                        downstreams.forEach(d -> d.resolver.untrack(m.key));
                        break;
                    }
                    Lock lock = m.lock();
                    if (!isDataLock(lock)) {
                        break;
                    }
                    downstreams.forEach(d -> d.resolver.track(m.key, lock.startTs));
                    Cdcpb.Event.Row.Builder earlier = rows.get(k);
                    ByteString value =
                            lock.shortValue != null
                                    ? ByteString.copyFrom(lock.shortValue)
                                    : earlier != null ? earlier.getValue() : ByteString.EMPTY;
                    Cdcpb.Event.Row.Builder prewrite =
                            prewriteRow(m.key, lock, null, store.versions(m.key)).setValue(value);
                    rows.put(k, prewrite);
                    break;
                case WRITE:
                    if (m.isDelete()) {
                        break;
                    }
                    Write w = m.write();
                    Cdcpb.Event.Row.Builder row;
                    if (m.overlappedRollbackMark) {
                        row = rollbackRow(m.key, w.commitTs);
                    } else if (w.type == Write.Type.ROLLBACK) {
                        row = rollbackRow(m.key, w.startTs);
                    } else if (w.isDataChange() && m.onePc) {
                        // 1PC: no prewrite came before this commit.
                        row = committedRow(m.key, w, store.versions(m.key));
                    } else if (w.isDataChange()) {
                        row = commitRow(m.key, w, Cdcpb.Event.LogType.COMMIT);
                        if (w.shortValue != null) {
                            row.setValue(ByteString.copyFrom(w.shortValue));
                        }
                    } else {
                        break; // Lock records are not reported
                    }
                    rows.put(k, row);
                    break;
                default:
                    break;
            }
        }
        List<Cdcpb.Event.Row> result = new ArrayList<>(rows.size());
        for (Cdcpb.Event.Row.Builder b : rows.values()) {
            // A default-CF put alone (no lock in the batch) is not a change of its own.
            if (b.getType() != Cdcpb.Event.LogType.UNKNOWN) {
                result.add(b.build());
            }
        }
        return result;
    }

    private Cdcpb.Event.Row.Builder prewriteRow(
            byte[] key, Lock lock, byte[] value, Write[] versions) {
        Cdcpb.Event.Row.Builder row =
                Cdcpb.Event.Row.newBuilder()
                        .setType(Cdcpb.Event.LogType.PREWRITE)
                        .setStartTs(lock.startTs)
                        .setKey(ByteString.copyFrom(key))
                        .setOpType(
                                lock.type == Kvrpcpb.Op.Put
                                        ? Cdcpb.Event.Row.OpType.PUT
                                        : Cdcpb.Event.Row.OpType.DELETE)
                        .setOldValue(
                                oldValue(key, versions, Math.max(lock.startTs, lock.forUpdateTs)));
        TxnSource.set(row, lock.txnSource);
        if (value != null) {
            row.setValue(ByteString.copyFrom(value));
        }
        return row;
    }

    /** A change whole in one row (incremental scan, 1PC): with its value and old value. */
    private Cdcpb.Event.Row.Builder committedRow(byte[] key, Write w, Write[] versions) {
        Cdcpb.Event.Row.Builder row =
                commitRow(key, w, Cdcpb.Event.LogType.COMMITTED)
                        .setOldValue(oldValue(key, versions, w.commitTs - 1));
        if (w.type == Write.Type.PUT) {
            row.setValue(ByteString.copyFrom(store.value(key, w)));
        }
        return row;
    }

    private Cdcpb.Event.Row.Builder commitRow(byte[] key, Write w, Cdcpb.Event.LogType type) {
        Cdcpb.Event.Row.Builder row =
                Cdcpb.Event.Row.newBuilder()
                        .setType(type)
                        .setStartTs(w.startTs)
                        .setCommitTs(w.commitTs)
                        .setKey(ByteString.copyFrom(key))
                        .setOpType(
                                w.type == Write.Type.PUT
                                        ? Cdcpb.Event.Row.OpType.PUT
                                        : Cdcpb.Event.Row.OpType.DELETE);
        return TxnSource.set(row, w.txnSource);
    }

    private static Cdcpb.Event.Row.Builder rollbackRow(byte[] key, long startTs) {
        return Cdcpb.Event.Row.newBuilder()
                .setType(Cdcpb.Event.LogType.ROLLBACK)
                .setStartTs(startTs)
                .setKey(ByteString.copyFrom(key))
                .setOpType(Cdcpb.Event.Row.OpType.UNKNOWN);
    }

    private static boolean sendRows(
            Downstream d, long index, List<Cdcpb.Event.Row> rows, boolean force) {
        return d.connection.send(
                Cdcpb.ChangeDataEvent.newBuilder()
                        .addEvents(
                                event(d).setIndex(index)
                                        .setEntries(
                                                Cdcpb.Event.Entries.newBuilder()
                                                        .addAllEntries(rows)))
                        .build(),
                force);
    }

    // ---- resolved ts ----

    /** One tick: a TSO first, then each captured region's locks under the latch. */
    void advanceResolvedTs() {
        try {
            long minTs = tso.next();
            // As TiKV: async-commit and 1PC txns prewritten from now on commit above min_ts.
            cm.updateMaxTs(minTs);
            store.underLatch(
                    s -> {
                        Map<Connection, TreeMap<Long, List<Downstream>>> byConn = new HashMap<>();
                        for (List<Downstream> list : byRegion.values()) {
                            for (Downstream d : list) {
                                long resolved = d.resolver.resolve(minTs);
                                byConn.computeIfAbsent(d.connection, c -> new TreeMap<>())
                                        .computeIfAbsent(resolved, ts -> new ArrayList<>())
                                        .add(d);
                            }
                        }
                        byConn.forEach(this::sendResolved);
                        return null;
                    });
        } catch (RuntimeException e) {
            LOG.warn("resolved ts tick failed", e);
        }
    }

    private void sendResolved(Connection conn, TreeMap<Long, List<Downstream>> byTs) {
        if (SemVer.atLeast(conn.version, 4, 0, 8)) {
            byTs.forEach(
                    (ts, list) -> {
                        Cdcpb.ResolvedTs.Builder resolved = Cdcpb.ResolvedTs.newBuilder().setTs(ts);
                        list.forEach(d -> resolved.addRegions(d.regionId));
                        conn.send(
                                Cdcpb.ChangeDataEvent.newBuilder().setResolvedTs(resolved).build(),
                                true);
                    });
        } else {
            // Before 4.0.8, each region's resolved ts travels as its own event.
            Cdcpb.ChangeDataEvent.Builder events = Cdcpb.ChangeDataEvent.newBuilder();
            byTs.forEach(
                    (ts, list) -> list.forEach(d -> events.addEvents(event(d).setResolvedTs(ts))));
            conn.send(events.build(), true);
        }
    }

    // ---- topology changes (called under the engine latch) ----

    @Override
    public void onSplit(Region before, List<Region> after) {
        List<Region> current = new ArrayList<>(after);
        stopAll(before.id, epochNotMatch(current));
    }

    @Override
    public void onMerge(Region source, Region target) {
        stopAll(source.id, epochNotMatch(List.of()));
        stopAll(target.id, epochNotMatch(List.of()));
    }

    @Override
    public void onLeaderChange(Region before, Region after) {
        Cdcpb.Error notLeader =
                Cdcpb.Error.newBuilder()
                        .setNotLeader(
                                Errorpb.NotLeader.newBuilder()
                                        .setRegionId(after.id)
                                        .setLeader(after.leader()))
                        .build();
        for (Downstream d : downstreamsOf(before.id)) {
            if (d.connection.storeId != after.leaderStoreId) {
                stop(d, notLeader);
            }
        }
    }

    /** A stopped store's streams are gone; forget their regions. */
    public void onStoreStopped(long storeId) {
        for (Connection conn : connections) {
            if (conn.storeId == storeId) {
                deregister(conn);
            }
        }
    }

    private void stopAll(long regionId, Cdcpb.Error error) {
        for (Downstream d : downstreamsOf(regionId)) {
            stop(d, error);
        }
    }

    private List<Downstream> downstreamsOf(long regionId) {
        return new ArrayList<>(byRegion.getOrDefault(regionId, List.of()));
    }

    private void stop(Downstream d, Cdcpb.Error error) {
        remove(d);
        d.connection.downstreams.remove(d.regionId, d);
        d.connection.send(errorEvent(d.regionId, d.requestId, error), true);
    }

    // ---- events and errors ----

    private static Cdcpb.Event.Builder event(Downstream d) {
        return Cdcpb.Event.newBuilder().setRegionId(d.regionId).setRequestId(d.requestId);
    }

    private static Cdcpb.ChangeDataEvent errorEvent(
            long regionId, long requestId, Cdcpb.Error error) {
        return Cdcpb.ChangeDataEvent.newBuilder()
                .addEvents(
                        Cdcpb.Event.newBuilder()
                                .setRegionId(regionId)
                                .setRequestId(requestId)
                                .setError(error))
                .build();
    }

    private static Cdcpb.Error regionNotFound(long regionId) {
        return Cdcpb.Error.newBuilder()
                .setRegionNotFound(Errorpb.RegionNotFound.newBuilder().setRegionId(regionId))
                .build();
    }

    private static Cdcpb.Error epochNotMatch(List<Region> current) {
        Errorpb.EpochNotMatch.Builder enm = Errorpb.EpochNotMatch.newBuilder();
        current.forEach(r -> enm.addCurrentRegions(r.toProto()));
        return Cdcpb.Error.newBuilder().setEpochNotMatch(enm).build();
    }

    @Override
    public void close() {
        store.removeObserver(this);
        regions.removeListener(this);
        sender.shutdownNow();
    }
}
