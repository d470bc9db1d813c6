package io.tiflink.cdc.client;

import org.tikv.kvproto.Cdcpb;
import org.tikv.kvproto.ChangeDataGrpc;
import org.tikv.shade.io.grpc.ManagedChannel;
import org.tikv.shade.io.grpc.stub.ClientCallStreamObserver;
import org.tikv.shade.io.grpc.stub.ClientResponseObserver;

import java.util.HashMap;
import java.util.Map;

/**
 * The one EventFeed stream of a subscription to one store, carrying all the regions whose leader is
 * there. Messages are taken one at a time (manual gRPC flow control), so a subscription that holds
 * too much simply stops asking and TiKV's side of the stream fills up instead.
 */
final class StoreStream
        implements ClientResponseObserver<Cdcpb.ChangeDataRequest, Cdcpb.ChangeDataEvent> {
    /** Receives what the stream brings; called on gRPC threads. */
    interface Listener {
        void onEvent(StoreStream stream, Cdcpb.ChangeDataEvent event);

        void onBroken(StoreStream stream, Throwable cause);
    }

    final long storeId;
    final String address;

    /** Registered regions by id; guarded by the subscription. */
    final Map<Long, RegionFeed> feeds = new HashMap<>();

    /** Whether the subscription held back the next message; guarded by the subscription. */
    boolean paused;

    /** Set when the subscription cancelled the stream or saw it break. */
    volatile boolean closed;

    private final Listener listener;
    private ClientCallStreamObserver<Cdcpb.ChangeDataRequest> requests;

    StoreStream(long storeId, String address, Listener listener) {
        this.storeId = storeId;
        this.address = address;
        this.listener = listener;
    }

    /** Opens the stream on {@code channel}. */
    void open(ManagedChannel channel) {
        ChangeDataGrpc.newStub(channel).eventFeed(this);
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<Cdcpb.ChangeDataRequest> requestStream) {
        this.requests = requestStream;
        requestStream.disableAutoRequestWithInitial(1);
    }

    synchronized void send(Cdcpb.ChangeDataRequest request) {
        if (!closed) {
            requests.onNext(request);
        }
    }

    /** Asks for the next message. */
    void requestNext() {
        if (!closed) {
            requests.request(1);
        }
    }

    /** Ends the stream from this side; TiKV deregisters all of its regions. */
    synchronized void cancel(String reason) {
        if (!closed) {
            closed = true;
            requests.cancel(reason, null);
        }
    }

    @Override
    public void onNext(Cdcpb.ChangeDataEvent event) {
        listener.onEvent(this, event);
    }

    @Override
    public void onError(Throwable t) {
        listener.onBroken(this, t);
    }

    @Override
    public void onCompleted() {
        listener.onBroken(this, null);
    }

    @Override
    public String toString() {
        return "stream to store " + storeId + " at " + address;
    }
}
