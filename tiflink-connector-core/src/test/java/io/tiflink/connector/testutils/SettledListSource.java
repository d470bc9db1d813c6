package io.tiflink.connector.testutils;

import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.core.io.SimpleVersionedSerializer;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * A bounded source of a fixed list for jobs expected to fail downstream. Its reader emits only once
 * the coordinator has told it everything (its one split and that no more come), so no source event
 * is in flight when the job fails: Flink would report such an event's loss as the failure, hiding
 * the one under test. It keeps no position, so it is for jobs that do not restart.
 */
public final class SettledListSource<T extends Serializable>
        implements Source<T, SettledListSource.Split, Void> {
    private final ArrayList<T> elements;

    @SafeVarargs
    public SettledListSource(T... elements) {
        this.elements = new ArrayList<>(List.of(elements));
    }

    @Override
    public Boundedness getBoundedness() {
        return Boundedness.BOUNDED;
    }

    @Override
    public SplitEnumerator<Split, Void> createEnumerator(SplitEnumeratorContext<Split> context) {
        return new Enumerator(context);
    }

    @Override
    public SplitEnumerator<Split, Void> restoreEnumerator(
            SplitEnumeratorContext<Split> context, Void checkpoint) {
        return new Enumerator(context);
    }

    @Override
    public SimpleVersionedSerializer<Split> getSplitSerializer() {
        return new EmptySerializer<>(Split::new);
    }

    @Override
    public SimpleVersionedSerializer<Void> getEnumeratorCheckpointSerializer() {
        return new EmptySerializer<>(() -> null);
    }

    @Override
    public SourceReader<T, Split> createReader(SourceReaderContext context) {
        return new Reader<>(elements);
    }

    /** The one split: the whole list, read by subtask 0. */
    public static final class Split implements SourceSplit {
        @Override
        public String splitId() {
            return "all";
        }
    }

    private static final class Enumerator implements SplitEnumerator<Split, Void> {
        private final SplitEnumeratorContext<Split> context;
        private boolean assigned;

        Enumerator(SplitEnumeratorContext<Split> context) {
            this.context = context;
        }

        @Override
        public void addReader(int subtaskId) {
            if (subtaskId == 0 && !assigned) {
                assigned = true;
                context.assignSplit(new Split(), 0);
            }
            context.signalNoMoreSplits(subtaskId);
        }

        @Override
        public void addSplitsBack(List<Split> splits, int subtaskId) {
            assigned = false;
        }

        @Override
        public void start() {}

        @Override
        public void handleSplitRequest(int subtaskId, String requesterHostname) {}

        @Override
        public Void snapshotState(long checkpointId) {
            return null;
        }

        @Override
        public void close() {}
    }

    private static final class Reader<T> implements SourceReader<T, Split> {
        private final List<T> elements;
        private final List<Split> splits = new ArrayList<>();
        private final CompletableFuture<Void> settled = new CompletableFuture<>();
        private int next;

        Reader(List<T> elements) {
            this.elements = elements;
        }

        @Override
        public InputStatus pollNext(ReaderOutput<T> output) {
            if (!settled.isDone()) {
                return InputStatus.NOTHING_AVAILABLE;
            }
            if (splits.isEmpty() || next >= elements.size()) {
                return InputStatus.END_OF_INPUT;
            }
            output.collect(elements.get(next++));
            return next < elements.size() ? InputStatus.MORE_AVAILABLE : InputStatus.END_OF_INPUT;
        }

        @Override
        public CompletableFuture<Void> isAvailable() {
            return settled;
        }

        @Override
        public void addSplits(List<Split> added) {
            splits.addAll(added);
        }

        @Override
        public void notifyNoMoreSplits() {
            settled.complete(null);
        }

        @Override
        public List<Split> snapshotState(long checkpointId) {
            return new ArrayList<>(splits);
        }

        @Override
        public void start() {}

        @Override
        public void close() {}
    }

    /** Splits and enumerator state carry nothing: the list lives in the source. */
    private static final class EmptySerializer<S> implements SimpleVersionedSerializer<S> {
        private final Supplier<S> empty;

        EmptySerializer(Supplier<S> empty) {
            this.empty = empty;
        }

        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(S value) {
            return new byte[0];
        }

        @Override
        public S deserialize(int version, byte[] serialized) {
            return empty.get();
        }
    }
}
