package io.tiflink.minicluster.pd;

import java.util.HashMap;
import java.util.Map;

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

    private final Map<String, ServiceSafePoint> services = new HashMap<>();
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
     * point below the current minimum is refused. Returns the minimum after the call.
     */
    public synchronized ServiceSafePoint updateServiceSafePoint(
            String serviceId, long safePoint, long ttlSec, long nowSec) {
        if (ttlSec <= 0) {
            if (!GC_WORKER.equals(serviceId)) {
                services.remove(serviceId);
            }
            return min(nowSec);
        }
        ServiceSafePoint min = min(nowSec);
        if (safePoint < min.safePoint) {
            return min;
        }
        long expires = Long.MAX_VALUE - nowSec <= ttlSec ? Long.MAX_VALUE : nowSec + ttlSec;
        services.put(serviceId, new ServiceSafePoint(serviceId, safePoint, expires));
        return min(nowSec);
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
