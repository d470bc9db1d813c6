package io.tiflink.minicluster.tikv;

import io.tiflink.minicluster.grpc.GrpcServers;

import org.tikv.kvproto.Metapb;
import org.tikv.shade.io.grpc.Server;
import org.tikv.shade.io.grpc.ServerServiceDefinition;

import java.util.function.IntFunction;

/** One TiKV store: an id, a fixed address, and a gRPC server that can be stopped and restarted. */
public final class StoreServer {
    /** The TiKV version stores report; client-java picks its v4+ code paths from it. */
    public static final String VERSION = "6.5.3";

    private final long id;
    private final IntFunction<Server> serverOnPort;
    private volatile Server server;
    private volatile int port;
    private volatile long startSeconds;

    /** {@code serverOnPort} starts this store's services on a port (0 = any free port). */
    public StoreServer(long id, int port, IntFunction<Server> serverOnPort) {
        this.id = id;
        this.port = port;
        this.serverOnPort = serverOnPort;
    }

    public long id() {
        return id;
    }

    public synchronized void start() {
        if (server != null) {
            return;
        }
        server = serverOnPort.apply(port);
        port = server.getPort();
        startSeconds = System.currentTimeMillis() / 1000;
    }

    /** Stops serving, as a crashed TiKV would: connections drop, calls fail. */
    public synchronized void stop() {
        if (server != null) {
            GrpcServers.stop(server);
            server = null;
        }
    }

    public boolean isUp() {
        return server != null;
    }

    public int port() {
        return port;
    }

    public String address() {
        return GrpcServers.HOST + ":" + port;
    }

    /** The store as PD describes it. */
    public Metapb.Store toProto() {
        return Metapb.Store.newBuilder()
                .setId(id)
                .setAddress(address())
                .setPeerAddress(address())
                .setStatusAddress(address())
                .setState(Metapb.StoreState.Up)
                .setNodeState(Metapb.NodeState.Serving)
                .setVersion(VERSION)
                .setStartTimestamp(startSeconds)
                .setLastHeartbeat(System.currentTimeMillis() * 1_000_000L)
                .build();
    }

    /** For wiring services: a server factory over the given services. */
    public static IntFunction<Server> serving(ServerServiceDefinition... services) {
        return port -> GrpcServers.start(port, services);
    }
}
