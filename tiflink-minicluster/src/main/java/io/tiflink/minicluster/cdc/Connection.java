package io.tiflink.minicluster.cdc;

import org.tikv.kvproto.Cdcpb;
import org.tikv.shade.io.grpc.Status;
import org.tikv.shade.io.grpc.stub.ServerCallStreamObserver;
import org.tikv.shade.io.grpc.stub.StreamObserver;

import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One EventFeed stream (TiKV's Conn): the regions it captures and its outgoing queue. Events are
 * queued without blocking (writers call in under the engine latch) and sent while gRPC says the
 * client is ready; a queue over the memory quota refuses non-forced events, and the caller then
 * drops the congested region, as TiKV does.
 */
final class Connection implements StreamObserver<Cdcpb.ChangeDataRequest> {
    final long storeId;

    /** Captured regions by region id. Changed only under the engine latch. */
    final Map<Long, Downstream> downstreams = new ConcurrentHashMap<>();

    private final CdcEndpoint endpoint;
    private final ServerCallStreamObserver<Cdcpb.ChangeDataEvent> out;
    private final long memoryQuota;
    private final Executor sender;
    private final Queue<Cdcpb.ChangeDataEvent> queue = new ConcurrentLinkedQueue<>();
    private final AtomicLong queuedBytes = new AtomicLong();
    private final AtomicBoolean draining = new AtomicBoolean();
    private volatile boolean closed;
    private volatile Status failure;
    private volatile boolean completeWhenDrained;

    /** The ticdc_version of the stream's first request; later requests must match it. */
    volatile String version;

    Connection(
            CdcEndpoint endpoint,
            long storeId,
            StreamObserver<Cdcpb.ChangeDataEvent> out,
            long memoryQuota,
            Executor sender) {
        this.endpoint = endpoint;
        this.storeId = storeId;
        this.out = (ServerCallStreamObserver<Cdcpb.ChangeDataEvent>) out;
        this.memoryQuota = memoryQuota;
        this.sender = sender;
        this.out.setOnReadyHandler(this::scheduleDrain);
        this.out.setOnCancelHandler(
                () -> {
                    closed = true;
                    endpoint.deregister(this);
                });
    }

    @Override
    public void onNext(Cdcpb.ChangeDataRequest request) {
        endpoint.register(this, request);
    }

    @Override
    public void onError(Throwable t) {
        closed = true;
        endpoint.deregister(this);
    }

    @Override
    public void onCompleted() {
        // The client half-closed: deregister everything, send what is queued, then complete.
        endpoint.deregister(this);
        completeWhenDrained = true;
        scheduleDrain();
    }

    /**
     * Queues an event. Unless {@code force}, refuses it (returns false) when the queue would go
     * over the memory quota.
     */
    boolean send(Cdcpb.ChangeDataEvent event, boolean force) {
        if (closed) {
            return true;
        }
        long size = event.getSerializedSize();
        if (!force && queuedBytes.get() + size > memoryQuota) {
            return false;
        }
        queuedBytes.addAndGet(size);
        queue.add(event);
        scheduleDrain();
        return true;
    }

    /** Ends the stream with an error (a test's "dropped stream"). */
    void fail(Status status) {
        failure = status;
        endpoint.deregister(this);
        scheduleDrain();
    }

    long queuedBytes() {
        return queuedBytes.get();
    }

    private void scheduleDrain() {
        if (draining.compareAndSet(false, true)) {
            try {
                sender.execute(this::drain);
            } catch (RejectedExecutionException e) {
                // The endpoint closed with the cluster: nothing is sent any more.
                draining.set(false);
            }
        }
    }

    private void drain() {
        try {
            if (closed) {
                queue.clear();
                return;
            }
            if (failure != null) {
                closed = true;
                queue.clear();
                out.onError(failure.asRuntimeException());
                return;
            }
            Cdcpb.ChangeDataEvent event;
            while (out.isReady() && (event = queue.poll()) != null) {
                queuedBytes.addAndGet(-event.getSerializedSize());
                out.onNext(event);
            }
            if (completeWhenDrained && queue.isEmpty()) {
                closed = true;
                out.onCompleted();
            }
        } catch (RuntimeException e) {
            // The call was cancelled under us: nothing more can be sent.
            closed = true;
            queue.clear();
            endpoint.deregister(this);
        } finally {
            draining.set(false);
        }
        if (!closed && (failure != null || (!queue.isEmpty() && out.isReady()))) {
            scheduleDrain();
        }
    }
}
