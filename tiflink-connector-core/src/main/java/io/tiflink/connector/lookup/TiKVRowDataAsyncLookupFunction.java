package io.tiflink.connector.lookup;

import org.apache.flink.annotation.Internal;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.AsyncLookupFunction;
import org.apache.flink.table.functions.FunctionContext;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Asynchronous lookups in a TiDB table. Keys wait in a queue; at most {@code maxConcurrent} reads
 * are in flight, each taking every key queued when it starts (up to {@link #MAX_BATCH}) and reading
 * them at one fresh TSO, one batch request per region. Keys arriving together are thus read
 * together, and a lone key is read at once.
 */
@Internal
public final class TiKVRowDataAsyncLookupFunction extends AsyncLookupFunction {
    private static final long serialVersionUID = 1L;

    /** The most keys one read takes. */
    static final int MAX_BATCH = 1024;

    private final KeyReader reader;
    private final int maxConcurrent;

    private transient Queue<Pending> queue;
    private transient AtomicInteger running;
    private transient ExecutorService workers;

    public TiKVRowDataAsyncLookupFunction(LookupReader reader, int maxConcurrent) {
        this((KeyReader) reader, maxConcurrent);
    }

    TiKVRowDataAsyncLookupFunction(KeyReader reader, int maxConcurrent) {
        this.reader = reader;
        this.maxConcurrent = maxConcurrent;
    }

    private static final class Pending {
        final RowData key;
        final CompletableFuture<Collection<RowData>> result = new CompletableFuture<>();

        Pending(RowData key) {
            this.key = key;
        }
    }

    @Override
    public void open(FunctionContext context) {
        reader.open();
        queue = new ConcurrentLinkedQueue<>();
        running = new AtomicInteger();
        AtomicInteger n = new AtomicInteger();
        workers =
                Executors.newFixedThreadPool(
                        maxConcurrent,
                        r -> {
                            Thread t = new Thread(r, "tikv-lookup-" + n.incrementAndGet());
                            t.setDaemon(true);
                            return t;
                        });
    }

    @Override
    public CompletableFuture<Collection<RowData>> asyncLookup(RowData keyRow) {
        Pending p = new Pending(keyRow);
        queue.add(p);
        startReads();
        return p.result;
    }

    /** Starts a read if keys wait and fewer than maxConcurrent are running. */
    private void startReads() {
        while (!queue.isEmpty()) {
            int r = running.get();
            if (r >= maxConcurrent) {
                return; // a running read takes the keys when it ends
            }
            if (running.compareAndSet(r, r + 1)) {
                workers.execute(this::readQueued);
                return;
            }
        }
    }

    private void readQueued() {
        try {
            List<Pending> batch = take();
            if (!batch.isEmpty()) {
                read(batch);
            }
        } finally {
            running.decrementAndGet();
            startReads();
        }
    }

    private List<Pending> take() {
        List<Pending> batch = new ArrayList<>();
        Pending p;
        while (batch.size() < MAX_BATCH && (p = queue.poll()) != null) {
            batch.add(p);
        }
        return batch;
    }

    private void read(List<Pending> batch) {
        List<RowData> keys = new ArrayList<>(batch.size());
        batch.forEach(p -> keys.add(p.key));
        try {
            List<Collection<RowData>> rows = reader.read(keys);
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).result.complete(rows.get(i));
            }
        } catch (Throwable t) {
            batch.forEach(p -> p.result.completeExceptionally(t));
        }
    }

    @Override
    public void close() throws Exception {
        if (workers != null) {
            workers.shutdownNow();
            workers.awaitTermination(10, TimeUnit.SECONDS);
        }
        reader.close();
    }
}
