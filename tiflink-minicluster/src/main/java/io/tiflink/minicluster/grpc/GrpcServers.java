package io.tiflink.minicluster.grpc;

import org.tikv.shade.io.grpc.Server;
import org.tikv.shade.io.grpc.ServerServiceDefinition;
import org.tikv.shade.io.grpc.netty.NettyServerBuilder;
import org.tikv.shade.io.grpc.services.HealthStatusManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/** Starts gRPC servers configured the way TiKV and PD accept client-java's channels. */
public final class GrpcServers {
    public static final String HOST = "127.0.0.1";

    /** client-java allows 512 MiB frames; prewrite batches run near 1 MiB. */
    private static final int MAX_MESSAGE_BYTES = 512 * 1024 * 1024;

    private GrpcServers() {}

    /** Binds {@code port} (0 picks a free one) and serves the services plus gRPC Health. */
    public static Server start(int port, ServerServiceDefinition... services) {
        return start(port, null, services);
    }

    /**
     * As {@link #start(int, ServerServiceDefinition...)}, over mutual TLS when {@code tls} is not
     * null.
     */
    public static Server start(int port, ServerTls tls, ServerServiceDefinition... services) {
        NettyServerBuilder builder =
                NettyServerBuilder.forAddress(new InetSocketAddress(HOST, port))
                        // client-java pings every 10 s, also without calls: allow it.
                        .permitKeepAliveTime(1, TimeUnit.SECONDS)
                        .permitKeepAliveWithoutCalls(true)
                        .maxInboundMessageSize(MAX_MESSAGE_BYTES)
                        .addService(new HealthStatusManager().getHealthService());
        if (tls != null) {
            builder.sslContext(tls.serverContext());
        }
        for (ServerServiceDefinition s : services) {
            builder.addService(s);
        }
        try {
            return builder.build().start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind " + HOST + ":" + port, e);
        }
    }

    public static void stop(Server server) {
        server.shutdownNow();
        try {
            server.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
