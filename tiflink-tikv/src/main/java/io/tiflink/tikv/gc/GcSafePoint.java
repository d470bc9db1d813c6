package io.tiflink.tikv.gc;

import org.tikv.common.TiSession;
import org.tikv.common.exception.GrpcException;
import org.tikv.common.util.ConcreteBackOffer;
import org.tikv.kvproto.PDGrpc;
import org.tikv.kvproto.Pdpb;
import org.tikv.shade.io.grpc.StatusRuntimeException;

import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Holding back TiKV's garbage collection, as TiCDC does: a PD service GC safe point under a service
 * id, renewed before its TTL runs out. Readers of history use it so that the versions they still
 * have to read are not collected.
 */
public final class GcSafePoint {
    private GcSafePoint() {}

    /**
     * Holds the service safe point of {@code serviceId} at {@code ts} for {@code ttl}.
     *
     * <p>PD refuses a safe point below the lowest one held (another service's, or this service's
     * own from before a restart); that is harmless as long as GC itself has not passed {@code ts},
     * which is then checked.
     *
     * @throws GcSafePointException if GC has already collected versions after {@code ts}
     */
    public static void hold(TiSession session, String serviceId, Duration ttl, long ts) {
        long min =
                session.getPDClient()
                        .updateServiceGCSafePoint(
                                serviceId, ttl.getSeconds(), ts, backOffer(session));
        if (min > ts) {
            long gc = current(session);
            if (gc > ts) {
                throw new GcSafePointException(
                        "ts "
                                + ts
                                + " is below the GC safe point "
                                + gc
                                + ": changes after it may have been collected; start from a ts at"
                                + " or above the safe point");
            }
        }
    }

    /** Stops holding GC back for {@code serviceId}. */
    public static void release(TiSession session, String serviceId) {
        session.getPDClient().updateServiceGCSafePoint(serviceId, 0, 0, backOffer(session));
    }

    /** The GC safe point TiKV collects below, asked of PD. */
    public static long current(TiSession session) {
        Pdpb.GetGCSafePointRequest request =
                Pdpb.GetGCSafePointRequest.newBuilder()
                        .setHeader(
                                Pdpb.RequestHeader.newBuilder()
                                        .setClusterId(session.getPDClient().getClusterId()))
                        .build();
        RuntimeException last = null;
        // Only PD's leader answers; try each address.
        for (URI pd : session.getConf().getPdAddrs()) {
            try {
                Pdpb.GetGCSafePointResponse resp =
                        PDGrpc.newBlockingStub(
                                        session.getChannelFactory()
                                                .getChannel(
                                                        pd.getHost() + ":" + pd.getPort(),
                                                        session.getPDClient().getHostMapping()))
                                .withDeadlineAfter(
                                        session.getConf().getTimeout(), TimeUnit.MILLISECONDS)
                                .getGCSafePoint(request);
                if (!resp.getHeader().hasError()) {
                    return resp.getSafePoint();
                }
                last = new GrpcException("PD " + pd + ": " + resp.getHeader().getError());
            } catch (StatusRuntimeException e) {
                last = e;
            }
        }
        throw new GrpcException("no PD answered GetGCSafePoint", last);
    }

    private static ConcreteBackOffer backOffer(TiSession session) {
        return ConcreteBackOffer.newCustomBackOff(
                (int) Math.max(5_000, session.getConf().getTimeout() * 10));
    }
}
