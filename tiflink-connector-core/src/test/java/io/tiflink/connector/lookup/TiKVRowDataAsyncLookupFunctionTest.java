package io.tiflink.connector.lookup;

import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The async lookup function's batching and its bound on reads in flight. */
class TiKVRowDataAsyncLookupFunctionTest {
    /** Echoes each key as its row; reads wait for the gate; notes batches and concurrency. */
    private static final class GatedReader implements KeyReader {
        final CountDownLatch gate = new CountDownLatch(1);
        final AtomicInteger running = new AtomicInteger();
        final AtomicInteger mostRunning = new AtomicInteger();
        final List<Integer> batches = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void open() {}

        @Override
        public List<Collection<RowData>> read(List<RowData> keyRows) {
            batches.add(keyRows.size());
            mostRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                gate.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                running.decrementAndGet();
            }
            List<Collection<RowData>> out = new ArrayList<>();
            for (RowData k : keyRows) {
                out.add(List.of(k));
            }
            return out;
        }

        @Override
        public void close() {}
    }

    @Test
    void atMostMaxConcurrentReadsAndTheKeysQueuedMeanwhileReadTogether() throws Exception {
        GatedReader reader = new GatedReader();
        TiKVRowDataAsyncLookupFunction f = new TiKVRowDataAsyncLookupFunction(reader, 2);
        f.open(null);
        try {
            List<CompletableFuture<Collection<RowData>>> results = new ArrayList<>();
            results.add(f.asyncLookup(GenericRowData.of(0L)));
            await().atMost(Duration.ofSeconds(10)).until(() -> reader.running.get() == 1);
            results.add(f.asyncLookup(GenericRowData.of(1L)));
            await().atMost(Duration.ofSeconds(10)).until(() -> reader.running.get() == 2);
            // Both reads in flight: these wait, then go in one read.
            for (long k = 2; k < 10; k++) {
                results.add(f.asyncLookup(GenericRowData.of(k)));
            }
            assertThat(results).noneMatch(CompletableFuture::isDone);
            reader.gate.countDown();
            for (int k = 0; k < 10; k++) {
                Collection<RowData> rows = results.get(k).get(10, TimeUnit.SECONDS);
                assertThat(rows).hasSize(1);
                assertThat(rows.iterator().next().getLong(0)).isEqualTo(k);
            }
            assertThat(reader.batches).containsExactly(1, 1, 8);
            assertThat(reader.mostRunning.get()).isEqualTo(2);
        } finally {
            f.close();
        }
    }

    @Test
    void aFailedReadFailsEachOfItsKeys() throws Exception {
        KeyReader failing =
                new KeyReader() {
                    @Override
                    public void open() {}

                    @Override
                    public List<Collection<RowData>> read(List<RowData> keyRows) {
                        throw new IllegalStateException("TiKV unreachable");
                    }

                    @Override
                    public void close() {}
                };
        TiKVRowDataAsyncLookupFunction f = new TiKVRowDataAsyncLookupFunction(failing, 1);
        f.open(null);
        try {
            CompletableFuture<Collection<RowData>> r = f.asyncLookup(GenericRowData.of(1L));
            await().atMost(Duration.ofSeconds(10)).until(r::isDone);
            assertThat(r).isCompletedExceptionally();
            assertThat(r.handle((v, e) -> e.getMessage()).get()).isEqualTo("TiKV unreachable");
        } finally {
            f.close();
        }
    }
}
