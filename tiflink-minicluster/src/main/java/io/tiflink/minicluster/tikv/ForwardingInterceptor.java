package io.tiflink.minicluster.tikv;

import org.tikv.shade.io.grpc.Context;
import org.tikv.shade.io.grpc.Contexts;
import org.tikv.shade.io.grpc.Metadata;
import org.tikv.shade.io.grpc.ServerCall;
import org.tikv.shade.io.grpc.ServerCallHandler;
import org.tikv.shade.io.grpc.ServerInterceptor;
import org.tikv.shade.io.grpc.Status;

import java.util.function.Function;

/**
 * TiKV's gRPC forwarding: a request carrying {@code tikv-forwarded-host} is served as the store at
 * that address would serve it (client-java forwards through a follower when it cannot reach a
 * leader). Forwarding to a store that is down fails, as the proxy's own call would.
 */
public final class ForwardingInterceptor implements ServerInterceptor {
    static final Metadata.Key<String> FORWARDED_HOST =
            Metadata.Key.of("tikv-forwarded-host", Metadata.ASCII_STRING_MARSHALLER);

    /** The id of the store a forwarded call is for; unset for direct calls. */
    static final Context.Key<Long> TARGET_STORE = Context.key("tiflink-forwarded-store");

    private final Function<String, Long> upStoreByAddress;

    /** {@code upStoreByAddress} gives the id of the running store at an address, or null. */
    public ForwardingInterceptor(Function<String, Long> upStoreByAddress) {
        this.upStoreByAddress = upStoreByAddress;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String host = headers.get(FORWARDED_HOST);
        if (host == null || host.isEmpty()) {
            return next.startCall(call, headers);
        }
        Long target = upStoreByAddress.apply(host);
        if (target == null) {
            call.close(
                    Status.UNAVAILABLE.withDescription("failed to forward to " + host),
                    new Metadata());
            return new ServerCall.Listener<>() {};
        }
        return Contexts.interceptCall(
                Context.current().withValue(TARGET_STORE, target), call, headers, next);
    }
}
