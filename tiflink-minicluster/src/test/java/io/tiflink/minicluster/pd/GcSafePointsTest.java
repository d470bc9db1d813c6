package io.tiflink.minicluster.pd;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** PD v6.5 service safe points ({@code server/grpc_service.go UpdateServiceGCSafePoint}). */
class GcSafePointsTest {
    private static final long NOW = 1_700_000_000L;
    private static final long FOREVER = Long.MAX_VALUE;

    private final GcSafePoints safePoints = new GcSafePoints();

    @Test
    void startsWithGcWorkerAtZero() {
        GcSafePoints.ServiceSafePoint min = safePoints.min(NOW);
        assertThat(min.serviceId).isEqualTo(GcSafePoints.GC_WORKER);
        assertThat(min.safePoint).isZero();
        assertThat(min.expiresAtSec).isEqualTo(Long.MAX_VALUE);
        assertThat(safePoints.gcSafePoint()).isZero();
    }

    @Test
    void gcSafePointNeverMovesBack() {
        assertThat(safePoints.updateGcSafePoint(100)).isEqualTo(100);
        assertThat(safePoints.updateGcSafePoint(50)).isEqualTo(100);
        assertThat(safePoints.gcSafePoint()).isEqualTo(100);
        assertThat(safePoints.updateGcSafePoint(101)).isEqualTo(101);
    }

    @Test
    void safePointBelowTheMinimumIsRefused() {
        safePoints.updateServiceSafePoint(GcSafePoints.GC_WORKER, 100, FOREVER, NOW);

        GcSafePoints.ServiceSafePoint min = safePoints.updateServiceSafePoint("cdc", 50, 600, NOW);

        assertThat(min.serviceId).isEqualTo(GcSafePoints.GC_WORKER);
        assertThat(min.safePoint).isEqualTo(100);
        // Not saved: the gc worker can move past 50 freely.
        safePoints.updateServiceSafePoint(GcSafePoints.GC_WORKER, 200, FOREVER, NOW);
        assertThat(safePoints.min(NOW).safePoint).isEqualTo(200);
    }

    @Test
    void aServiceAboveTheMinimumHoldsBackTheGcWorker() {
        safePoints.updateServiceSafePoint(GcSafePoints.GC_WORKER, 100, FOREVER, NOW);
        GcSafePoints.ServiceSafePoint min = safePoints.updateServiceSafePoint("cdc", 150, 600, NOW);
        assertThat(min.serviceId).isEqualTo(GcSafePoints.GC_WORKER);

        // gc_worker was the minimum, so PD reloads it after the update.
        min = safePoints.updateServiceSafePoint(GcSafePoints.GC_WORKER, 300, FOREVER, NOW);

        assertThat(min.serviceId).isEqualTo("cdc");
        assertThat(min.safePoint).isEqualTo(150);
        assertThat(min.expiresAtSec).isEqualTo(NOW + 600);
    }

    @Test
    void theMinimumReportedIsTheOneBeforeTheUpdateUnlessTheCallerHeldIt() {
        safePoints.updateServiceSafePoint(GcSafePoints.GC_WORKER, 100, FOREVER, NOW);

        // "a" ties with gc_worker: PD does not reload, so it reports gc_worker.
        GcSafePoints.ServiceSafePoint min = safePoints.updateServiceSafePoint("a", 100, 60, NOW);

        assertThat(min.serviceId).isEqualTo(GcSafePoints.GC_WORKER);
        // A fresh load breaks the tie by service id, as an etcd range read does.
        assertThat(safePoints.min(NOW).serviceId).isEqualTo("a");
    }

    @Test
    void expiredServiceSafePointsAreDropped() {
        safePoints.updateServiceSafePoint("cdc", 10, 60, NOW);
        assertThat(safePoints.min(NOW).serviceId).isEqualTo(GcSafePoints.GC_WORKER);
        safePoints.updateServiceSafePoint(GcSafePoints.GC_WORKER, 20, FOREVER, NOW);
        // cdc (10) now holds gc_worker (20) back.
        assertThat(safePoints.min(NOW).serviceId).isEqualTo("cdc");

        assertThat(safePoints.min(NOW + 60).serviceId).isEqualTo("cdc"); // expires at < now
        assertThat(safePoints.min(NOW + 61).serviceId).isEqualTo(GcSafePoints.GC_WORKER);
        // Gone for good, even when asked about an earlier time.
        assertThat(safePoints.min(NOW).serviceId).isEqualTo(GcSafePoints.GC_WORKER);
    }

    @Test
    void nonPositiveTtlRemovesTheService() {
        safePoints.updateServiceSafePoint(GcSafePoints.GC_WORKER, 5, FOREVER, NOW);
        safePoints.updateServiceSafePoint("cdc", 10, 60, NOW);
        safePoints.updateServiceSafePoint(GcSafePoints.GC_WORKER, 20, FOREVER, NOW);
        assertThat(safePoints.min(NOW).serviceId).isEqualTo("cdc");

        GcSafePoints.ServiceSafePoint min = safePoints.updateServiceSafePoint("cdc", 0, 0, NOW);

        assertThat(min.serviceId).isEqualTo(GcSafePoints.GC_WORKER);
        assertThat(min.safePoint).isEqualTo(20);
    }

    @Test
    void hugeTtlNeverExpires() {
        safePoints.updateServiceSafePoint("br", 10, Long.MAX_VALUE - NOW, NOW);
        assertThat(safePoints.min(Long.MAX_VALUE - 1).serviceId).isEqualTo(GcSafePoints.GC_WORKER);
        assertThat(safePoints.updateServiceSafePoint("br", 10, Long.MAX_VALUE, NOW))
                .extracting(m -> m.serviceId)
                .isEqualTo(GcSafePoints.GC_WORKER);
    }

    @Test
    void gcWorkerCannotBeRemovedNorGivenAFiniteTtl() {
        assertThatThrownBy(
                        () -> safePoints.updateServiceSafePoint(GcSafePoints.GC_WORKER, 10, 0, NOW))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cannot remove");
        assertThatThrownBy(
                        () ->
                                safePoints.updateServiceSafePoint(
                                        GcSafePoints.GC_WORKER, 10, 60, NOW))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("infinity");
        assertThatThrownBy(() -> safePoints.updateServiceSafePoint("", 10, 60, NOW))
                .isInstanceOf(IllegalArgumentException.class);
        // Nothing changed, and gc_worker still never expires.
        GcSafePoints.ServiceSafePoint min = safePoints.min(Long.MAX_VALUE - 1);
        assertThat(min.serviceId).isEqualTo(GcSafePoints.GC_WORKER);
        assertThat(min.safePoint).isZero();
    }
}
