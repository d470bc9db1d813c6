package io.tiflink.minicluster;

import io.tiflink.minicluster.cdc.CdcEndpoint;
import io.tiflink.minicluster.cdc.CdcService;
import io.tiflink.minicluster.fault.FaultInjector;
import io.tiflink.minicluster.grpc.GrpcServers;
import io.tiflink.minicluster.grpc.ServerTls;
import io.tiflink.minicluster.pd.GcSafePoints;
import io.tiflink.minicluster.pd.PdService;
import io.tiflink.minicluster.pd.TsoAllocator;
import io.tiflink.minicluster.region.IdAllocator;
import io.tiflink.minicluster.region.Region;
import io.tiflink.minicluster.region.RegionManager;
import io.tiflink.minicluster.region.SplitChecker;
import io.tiflink.minicluster.storage.MvccStore;
import io.tiflink.minicluster.tikv.ForwardingInterceptor;
import io.tiflink.minicluster.tikv.StoreServer;
import io.tiflink.minicluster.tikv.TikvService;
import io.tiflink.minicluster.txn.Percolator;

import org.tikv.kvproto.Metapb;
import org.tikv.kvproto.Pdpb;
import org.tikv.shade.io.grpc.Server;
import org.tikv.shade.io.grpc.ServerInterceptors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * A PD and several TiKV stores in this JVM, each on its own loopback port, speaking TiKV's gRPC
 * protocol closely enough that tikv-client-java cannot tell it from a real cluster.
 *
 * <pre>{@code
 * try (MiniTiKVCluster cluster = MiniTiKVCluster.builder().stores(3).start()) {
 *     TiSession session = TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()));
 *     ...
 * }
 * }</pre>
 *
 * <p>Test hooks: {@link #split}, {@link #merge}, {@link #transferLeader}, {@link #stopStore} and
 * {@link #startStore}, {@link #faults()} for slow replies and injected region errors, and {@link
 * #gc} to move the GC safe point as TiDB's GC worker does.
 */
public final class MiniTiKVCluster implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MiniTiKVCluster.class);

    private final long clusterId;
    private final IdAllocator ids = new IdAllocator(1);
    private final TsoAllocator tso = new TsoAllocator();
    private final GcSafePoints safePoints = new GcSafePoints();
    private final MvccStore store = new MvccStore();
    private final Percolator percolator = new Percolator(store);
    private final FaultInjector faults = new FaultInjector();
    private final ScheduledExecutorService scheduler;
    private final RegionManager regions;
    private final SplitChecker splitChecker;
    private final Map<Long, StoreServer> stores = new LinkedHashMap<>();
    private final CdcEndpoint cdc;
    private final Server pdServer;
    private final ServerTls tls;

    private MiniTiKVCluster(Builder b) {
        this.clusterId = b.clusterId != 0 ? b.clusterId : randomClusterId();
        this.scheduler =
                Executors.newScheduledThreadPool(
                        1,
                        r -> {
                            Thread t = new Thread(r, "minicluster-scheduler");
                            t.setDaemon(true);
                            return t;
                        });
        List<Long> storeIds = new ArrayList<>();
        for (int i = 0; i < b.stores; i++) {
            storeIds.add(ids.allocate());
        }
        this.regions = new RegionManager(ids, storeIds);
        // Topology changes happen between applied batches, as raft admin commands do.
        regions.serializeChangesWith(
                new RegionManager.Serializer() {
                    @Override
                    public <T> T run(Supplier<T> change) {
                        return store.underLatch(s -> change.get());
                    }
                });
        this.cdc =
                new CdcEndpoint(
                        clusterId,
                        store,
                        percolator.concurrencyManager(),
                        regions,
                        tso,
                        b.cdcResolvedTsInterval,
                        b.cdcMemoryQuota,
                        scheduler);
        this.splitChecker = new SplitChecker(store, regions, b.regionMaxKeys, b.regionMaxBytes);
        for (int i = 0; i < storeIds.size(); i++) {
            long storeId = storeIds.get(i);
            int port = b.storePorts.size() > i ? b.storePorts.get(i) : 0;
            TikvService kv = new TikvService(storeId, regions, percolator, faults, scheduler);
            stores.put(
                    storeId,
                    new StoreServer(
                            storeId,
                            port,
                            p ->
                                    GrpcServers.start(
                                            p,
                                            b.tls,
                                            ServerInterceptors.intercept(
                                                    kv, new ForwardingInterceptor(this::upStoreAt)),
                                            new CdcService(cdc, storeId).bindService())));
        }
        if (!b.initialSplitKeys.isEmpty()) {
            regions.split(b.initialSplitKeys);
        }
        stores.values().forEach(StoreServer::start);

        // PD needs its own URL in its member list, so bind first when the port is free-chosen.
        int pdPort = b.pdPort != 0 ? b.pdPort : freePort();
        // PD's member list names its scheme as a real PD does (https once TLS is on).
        String pdUrl = (b.tls != null ? "https://" : "http://") + GrpcServers.HOST + ":" + pdPort;
        this.tls = b.tls;
        Pdpb.Member member =
                Pdpb.Member.newBuilder()
                        .setName("pd-1")
                        .setMemberId(ids.allocate())
                        .addClientUrls(pdUrl)
                        .addPeerUrls(pdUrl)
                        .setBinaryVersion(StoreServer.VERSION)
                        .build();
        this.pdServer =
                GrpcServers.start(
                        pdPort,
                        b.tls,
                        new PdService(
                                        clusterId,
                                        member,
                                        tso,
                                        regions,
                                        ids,
                                        safePoints,
                                        this::storeProtos,
                                        faults,
                                        scheduler)
                                .bindService());
        long interval = b.splitCheckInterval.toMillis();
        scheduler.scheduleWithFixedDelay(
                this::checkSplits, interval, interval, TimeUnit.MILLISECONDS);
        LOG.info(
                "minicluster {} started: pd {}, stores {}",
                clusterId,
                pdAddress(),
                stores.values().stream().map(StoreServer::address).collect(Collectors.toList()));
    }

    public static Builder builder() {
        return new Builder();
    }

    private static long randomClusterId() {
        long id;
        do {
            id = ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE;
        } while (id == 0);
        return id;
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(GrpcServers.HOST))) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on " + GrpcServers.HOST, e);
        }
    }

    private void checkSplits() {
        try {
            splitChecker.check();
        } catch (RuntimeException e) {
            LOG.warn("split check failed", e);
        }
    }

    /** The id of the running store listening at {@code address}, or null. */
    private Long upStoreAt(String address) {
        synchronized (stores) {
            for (StoreServer s : stores.values()) {
                if (s.isUp() && s.address().equals(address)) {
                    return s.id();
                }
            }
            return null;
        }
    }

    private List<Metapb.Store> storeProtos() {
        synchronized (stores) {
            return stores.values().stream().map(StoreServer::toProto).collect(Collectors.toList());
        }
    }

    // ---- addresses and parts ----

    /** PD's address as clients configure it: {@code 127.0.0.1:port}. */
    public String pdAddress() {
        return GrpcServers.HOST + ":" + pdServer.getPort();
    }

    /** The TLS PD and the stores serve, or null when they serve plaintext. */
    public ServerTls tls() {
        return tls;
    }

    public int pdPort() {
        return pdServer.getPort();
    }

    public long clusterId() {
        return clusterId;
    }

    public List<Long> storeIds() {
        synchronized (stores) {
            return List.copyOf(stores.keySet());
        }
    }

    public String storeAddress(long storeId) {
        return store(storeId).address();
    }

    /** The storage engine behind every store (for tests and benchmarks that bypass gRPC). */
    public MvccStore storage() {
        return store;
    }

    /** The transactional commands without gRPC: the engine a store serves. */
    public Percolator percolator() {
        return percolator;
    }

    public RegionManager regions() {
        return regions;
    }

    public FaultInjector faults() {
        return faults;
    }

    /** A fresh timestamp from PD's oracle. */
    public long currentTs() {
        return tso.next();
    }

    public TsoAllocator tso() {
        return tso;
    }

    // ---- topology changes ----

    /** Splits regions at the given raw keys; returns the regions that now start at them. */
    public List<Region> split(byte[]... rawKeys) {
        return regions.split(List.of(rawKeys));
    }

    /** Merges region {@code sourceId} into its neighbour {@code targetId}. */
    public Region merge(long sourceId, long targetId) {
        return regions.merge(sourceId, targetId);
    }

    public Region transferLeader(long regionId, long storeId) {
        return regions.transferLeader(regionId, storeId);
    }

    /** Runs the split checker now rather than waiting for its next round. */
    public List<byte[]> checkSplitsNow() {
        return splitChecker.check();
    }

    /**
     * Stops a store as if it crashed: its port stops answering, and its regions elect leaders on
     * the remaining stores at once (a real cluster takes an election timeout to do so).
     */
    public void stopStore(long storeId) {
        StoreServer s = store(storeId);
        s.stop();
        cdc.onStoreStopped(storeId);
        Set<Long> up = new HashSet<>();
        synchronized (stores) {
            for (StoreServer other : stores.values()) {
                if (other.isUp()) {
                    up.add(other.id());
                }
            }
        }
        regions.electLeadersAwayFrom(storeId, up);
    }

    /**
     * Starts a stopped store again on its old address. Its regions' leaders stay where they are.
     */
    public void startStore(long storeId) {
        store(storeId).start();
    }

    /** Fails every CDC EventFeed stream of the store, as a broken connection would. */
    public void dropCdcStreams(long storeId) {
        store(storeId);
        cdc.dropStreams(storeId);
    }

    public boolean isStoreUp(long storeId) {
        return store(storeId).isUp();
    }

    private StoreServer store(long storeId) {
        synchronized (stores) {
            StoreServer s = stores.get(storeId);
            if (s == null) {
                throw new IllegalArgumentException(
                        "no store " + storeId + "; stores are " + stores.keySet());
            }
            return s;
        }
    }

    // ---- GC ----

    /**
     * Runs a GC round the way TiDB's GC worker does: sets the {@code gc_worker} service safe point,
     * takes the minimum of all service safe points as the new GC safe point, and removes MVCC
     * versions below it. Returns the GC safe point in effect.
     */
    public long gc(long safePoint) {
        long nowSec = System.currentTimeMillis() / 1000;
        GcSafePoints.ServiceSafePoint min =
                safePoints.updateServiceSafePoint(
                        GcSafePoints.GC_WORKER, safePoint, Long.MAX_VALUE, nowSec);
        long effective = safePoints.updateGcSafePoint(Math.min(safePoint, min.safePoint));
        long removed = store.gc(effective);
        LOG.info("GC at safe point {} removed {} versions", effective, removed);
        return effective;
    }

    public long gcSafePoint() {
        return safePoints.gcSafePoint();
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        cdc.close();
        GrpcServers.stop(pdServer);
        List<StoreServer> all;
        synchronized (stores) {
            all = new ArrayList<>(stores.values());
        }
        Collections.reverse(all);
        all.forEach(StoreServer::stop);
        LOG.info("minicluster {} stopped", clusterId);
    }

    /** Settings of a minicluster; {@link #start()} builds and starts it. */
    public static final class Builder {
        private int stores = 3;
        private int pdPort;
        private List<Integer> storePorts = List.of();
        private long clusterId;
        private List<byte[]> initialSplitKeys = new ArrayList<>();
        // TiKV's defaults: region-max-keys 1,440,000, region-max-size 144 MiB.
        private long regionMaxKeys = 1_440_000;
        private long regionMaxBytes = 144L * 1024 * 1024;
        private Duration splitCheckInterval = Duration.ofMillis(200);
        // TiKV's cdc.min-ts-interval and cdc.sink-memory-quota.
        private Duration cdcResolvedTsInterval = Duration.ofSeconds(1);
        private long cdcMemoryQuota = 512L * 1024 * 1024;
        private ServerTls tls;

        private Builder() {}

        /**
         * Serves PD and the stores over TLS, accepting only clients with a certificate signed by
         * the trusted CA (TiKV's and PD's {@code security.ca-path}, {@code cert-path}, {@code
         * key-path}); null (the default) serves plaintext.
         */
        public Builder tls(ServerTls tls) {
            this.tls = tls;
            return this;
        }

        public Builder stores(int count) {
            if (count < 1) {
                throw new IllegalArgumentException("stores must be at least 1, got " + count);
            }
            this.stores = count;
            return this;
        }

        /** PD's port; 0 (the default) picks a free one. */
        public Builder pdPort(int port) {
            this.pdPort = port;
            return this;
        }

        /** Ports of the stores in order; missing ones are picked freely. */
        public Builder storePorts(List<Integer> ports) {
            this.storePorts = List.copyOf(ports);
            return this;
        }

        /** A fixed cluster id (non-zero); by default a random one. */
        public Builder clusterId(long id) {
            if (id == 0) {
                throw new IllegalArgumentException("cluster id must be non-zero");
            }
            this.clusterId = id;
            return this;
        }

        /** Raw keys at which to split before the cluster starts serving. */
        public Builder splitAt(byte[]... rawKeys) {
            initialSplitKeys.addAll(List.of(rawKeys));
            return this;
        }

        /** Auto-split a region once it holds more keys than this (TiKV region-max-keys). */
        public Builder regionMaxKeys(long keys) {
            this.regionMaxKeys = keys;
            return this;
        }

        /** Auto-split a region once it holds more bytes than this (TiKV region-max-size). */
        public Builder regionMaxBytes(long bytes) {
            this.regionMaxBytes = bytes;
            return this;
        }

        public Builder splitCheckInterval(Duration interval) {
            this.splitCheckInterval = interval;
            return this;
        }

        /** How often CDC advances and sends resolved ts (TiKV cdc.min-ts-interval, 1 s). */
        public Builder cdcResolvedTsInterval(Duration interval) {
            if (interval.isNegative() || interval.isZero()) {
                throw new IllegalArgumentException(
                        "cdcResolvedTsInterval must be positive, got " + interval);
            }
            this.cdcResolvedTsInterval = interval;
            return this;
        }

        /**
         * Bytes one CDC stream may have queued for a slow client before its congested regions are
         * dropped with region_not_found (TiKV cdc.sink-memory-quota, 512 MiB).
         */
        public Builder cdcMemoryQuota(long bytes) {
            if (bytes <= 0) {
                throw new IllegalArgumentException("cdcMemoryQuota must be positive, got " + bytes);
            }
            this.cdcMemoryQuota = bytes;
            return this;
        }

        public MiniTiKVCluster start() {
            return new MiniTiKVCluster(this);
        }
    }
}
