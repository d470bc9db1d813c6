package io.tiflink.minicluster.pd;

import java.util.Map;
import java.util.TreeMap;

/**
 * PD's GC safe point and service safe points (v6.5 semantics): a service cannot set a safe point
 * below the current minimum, expired service safe points are dropped, and {@code gc_worker} holds
 * one that never expires. The GC safe point never moves back.
 */
public final class GcSafePoints {
    /** The service id TiDB's GC worker uses. */
    public static final String GC_WORKER = "gc_worker";

    /** A service safe point: TTL-bound, in PD's seconds. */
    public static final class ServiceSafePoint {
        public final String serviceId;
        public final long safePoint;
        public final long expiresAtSec;

        ServiceSafePoint(String serviceId, long safePoint, long expiresAtSec) {
            this.serviceId = serviceId;
            this.safePoint = safePoint;
            this.expiresAtSec = expiresAtSec;
        }
    }

    /** By service id: PD keeps them in etcd, so ties for the minimum go to the first id. */
    private final Map<String, ServiceSafePoint> services = new TreeMap<>();

    private long gcSafePoint;

    public GcSafePoints() {
        services.put(GC_WORKER, new ServiceSafePoint(GC_WORKER, 0, Long.MAX_VALUE));
    }

    public synchronized long gcSafePoint() {
        return gcSafePoint;
    }

    /** Advances the GC safe point; a lower value is ignored. Returns the resulting safe point. */
    public synchronized long updateGcSafePoint(long safePoint) {
        gcSafePoint = Math.max(gcSafePoint, safePoint);
        return gcSafePoint;
    }

    /**
     * PD's UpdateServiceGCSafePoint: TTL {@code <= 0} removes the service's safe point; a safe
     * point below the current minimum is refused. Returns the minimum as PD reports it: the one
     * from before the update, reloaded only if the caller was that minimum.
     *
     * @throws IllegalArgumentException where PD fails the call: removing gc_worker, giving it a
     *     finite TTL, or an empty service id
     */
    public synchronized ServiceSafePoint updateServiceSafePoint(
            String serviceId, long safePoint, long ttlSec, long nowSec) {
        if (ttlSec <= 0) {
            if (GC_WORKER.equals(serviceId)) {
                throw new IllegalArgumentException("cannot remove service safe point of gc_worker");
            }
            services.remove(serviceId);
            return min(nowSec);
        }
        ServiceSafePoint min = min(nowSec);
        if (safePoint < min.safePoint) {
            return min;
        }
        long expires = Long.MAX_VALUE - nowSec <= ttlSec ? Long.MAX_VALUE : nowSec + ttlSec;
        if (serviceId.isEmpty()) {
            throw new IllegalArgumentException("service id of service safepoint cannot be empty");
        }
        if (GC_WORKER.equals(serviceId) && expires != Long.MAX_VALUE) {
            throw new IllegalArgumentException(
                    "TTL of gc_worker's service safe point must be infinity");
        }
        services.put(serviceId, new ServiceSafePoint(serviceId, safePoint, expires));
        // PD reloads the minimum only when the caller held it.
        return serviceId.equals(min.serviceId) ? min(nowSec) : min;
    }

    /** The smallest live service safe point (gc_worker's always lives). */
    public synchronized ServiceSafePoint min(long nowSec) {
        services.values().removeIf(s -> s.expiresAtSec < nowSec);
        ServiceSafePoint min = null;
        for (ServiceSafePoint s : services.values()) {
            if (min == null || s.safePoint < min.safePoint) {
                min = s;
            }
        }
        return min;
    }
}
