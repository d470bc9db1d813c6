package io.tiflink.minicluster.fault;

import org.tikv.kvproto.Errorpb;
import org.tikv.kvproto.Metapb;

import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Faults for tests: slow replies per store (or PD), and region errors returned to the next requests
 * that reach a store for a region. Store id {@link #ANY} and region id {@link #ANY} match all.
 */
public final class FaultInjector {
    public static final long ANY = 0;

    /** The "store id" under which PD's delay is kept. */
    public static final long PD = -1;

    private final Map<Long, Duration> delays = new ConcurrentHashMap<>();
    private final Queue<InjectedError> regionErrors = new ConcurrentLinkedQueue<>();

    private static final class InjectedError {
        final long storeId;
        final long regionId;
        final Errorpb.Error error;
        int remaining;

        InjectedError(long storeId, long regionId, Errorpb.Error error, int times) {
            this.storeId = storeId;
            this.regionId = regionId;
            this.error = error;
            this.remaining = times;
        }
    }

    /** Every reply from {@code storeId} (or {@link #PD}) is delayed by {@code delay}. */
    public void delay(long storeId, Duration delay) {
        if (delay.isZero()) {
            delays.remove(storeId);
        } else {
            delays.put(storeId, delay);
        }
    }

    public Duration delayOf(long storeId) {
        Duration d = delays.get(storeId);
        return d != null ? d : delays.getOrDefault(ANY, Duration.ZERO);
    }

    /** The next {@code times} requests to the store and region answer with {@code error}. */
    public void injectRegionError(long storeId, long regionId, Errorpb.Error error, int times) {
        regionErrors.add(new InjectedError(storeId, regionId, error, times));
    }

    /** ServerIsBusy for the next {@code times} requests to the store. */
    public void serverIsBusy(long storeId, int times) {
        injectRegionError(
                storeId,
                ANY,
                Errorpb.Error.newBuilder()
                        .setMessage("server is busy")
                        .setServerIsBusy(
                                Errorpb.ServerIsBusy.newBuilder().setReason("injected by test"))
                        .build(),
                times);
    }

    /** NotLeader for the region on the store; {@code leader} may be null (no leader known). */
    public void notLeader(long storeId, long regionId, Metapb.Peer leader, int times) {
        Errorpb.NotLeader.Builder notLeader = Errorpb.NotLeader.newBuilder().setRegionId(regionId);
        if (leader != null) {
            notLeader.setLeader(leader);
        }
        injectRegionError(
                storeId,
                regionId,
                Errorpb.Error.newBuilder()
                        .setMessage("peer is not leader for region " + regionId)
                        .setNotLeader(notLeader)
                        .build(),
                times);
    }

    /** Takes the injected error due for this request, if any. */
    public synchronized Errorpb.Error takeRegionError(long storeId, long regionId) {
        Iterator<InjectedError> it = regionErrors.iterator();
        while (it.hasNext()) {
            InjectedError e = it.next();
            if ((e.storeId == ANY || e.storeId == storeId)
                    && (e.regionId == ANY || e.regionId == regionId)) {
                if (--e.remaining <= 0) {
                    it.remove();
                }
                return e.error;
            }
        }
        return null;
    }

    public void clear() {
        delays.clear();
        regionErrors.clear();
    }
}
