package io.tiflink.connector.testutils;

import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Fails the first checkpoint taken once {@code after} records passed (or every one, until {@link
 * #stopFailing()}, after {@link #failEveryCheckpoint()}), and completes {@link #aborted()} when
 * Flink aborts it. It fails in the asynchronous part of the checkpoint (writing a state value its
 * serializer refuses), after every operator of the chain, the writer too, took its snapshot; and
 * which Flink declines without failing the task. After {@link #holdFirstCheckpoint()} it holds that
 * checkpoint there instead, until {@link #releaseHeld()}: its barriers have passed, its completion
 * waits.
 */
public final class FailingCheckpoint extends RichMapFunction<Long, Long>
        implements CheckpointedFunction, CheckpointListener {
    private static final long REFUSED = -1;
    private static final long HELD = -2;

    /** Completed when Flink aborts the failed checkpoint; new for each job ({@link #reset}). */
    private static volatile CompletableFuture<Void> aborted = new CompletableFuture<>();

    /** Whether every checkpoint fails, not only the first; cleared by {@link #reset}. */
    private static volatile boolean failEvery;

    /** Set: the first checkpoint is held (until it counts down), not failed. */
    private static volatile CountDownLatch hold;

    /** Completed with the held checkpoint's id once its barrier passed this operator. */
    private static volatile CompletableFuture<Long> held = new CompletableFuture<>();

    private final long after;
    private long failed = -1; // not transient: deserialized with this value
    private transient long seen;
    private transient ListState<Long> state;

    public FailingCheckpoint(long after) {
        this.after = after;
    }

    /** A new future for the next job's failed checkpoint, returned. */
    public static CompletableFuture<Void> reset() {
        failEvery = false;
        hold = null;
        aborted = new CompletableFuture<>();
        return aborted;
    }

    /**
     * A new future for the next job, whose checkpoints all fail once {@code after} records passed,
     * until {@link #stopFailing()}: a test sees no checkpoint complete, however Flink answers or
     * retries a triggered one.
     */
    public static void failEveryCheckpoint() {
        reset();
        failEvery = true;
    }

    /**
     * For the next job: its first checkpoint once {@code after} records passed is held in its
     * asynchronous part until {@link #releaseHeld()}; returns the future of its id, completed once
     * its barrier passed.
     */
    public static CompletableFuture<Long> holdFirstCheckpoint() {
        reset();
        held = new CompletableFuture<>();
        hold = new CountDownLatch(1);
        return held;
    }

    /** Lets the held checkpoint complete. */
    public static void releaseHeld() {
        hold.countDown();
    }

    /** Lets the checkpoints from now on complete. */
    public static void stopFailing() {
        failEvery = false;
    }

    /** Completed when Flink aborted the failed checkpoint. */
    public static CompletableFuture<Void> aborted() {
        return aborted;
    }

    @Override
    public Long map(Long value) {
        seen++;
        return value;
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        state =
                context.getOperatorStateStore()
                        .getListState(new ListStateDescriptor<>("fail", new Refusing()));
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        state.clear();
        if ((failed < 0 || failEvery) && seen >= after) {
            failed = context.getCheckpointId();
            state.add(hold != null ? HELD : REFUSED);
            if (hold != null) {
                held.complete(failed);
            }
        }
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {}

    @Override
    public void notifyCheckpointAborted(long checkpointId) {
        if (checkpointId == failed) {
            aborted.complete(null); // (the first such; a later one completes nothing more)
        }
    }

    /** Longs, but {@link #REFUSED} cannot be written. */
    static final class Refusing extends TypeSerializerSingleton<Long> {
        private static final long serialVersionUID = 1L;

        @Override
        public void serialize(Long value, DataOutputView target) throws IOException {
            if (value == REFUSED) {
                throw new IOException("injected failure writing a checkpoint");
            }
            if (value == HELD) {
                awaitRelease();
            }
            LongSerializer.INSTANCE.serialize(value, target);
        }

        private static void awaitRelease() throws IOException {
            try {
                if (!hold.await(5, TimeUnit.MINUTES)) {
                    throw new IOException("the held checkpoint was never released");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while held", e);
            }
        }

        @Override
        public boolean isImmutableType() {
            return true;
        }

        @Override
        public Long createInstance() {
            return 0L;
        }

        @Override
        public Long copy(Long from) {
            return from;
        }

        @Override
        public Long copy(Long from, Long reuse) {
            return from;
        }

        @Override
        public int getLength() {
            return Long.BYTES;
        }

        @Override
        public Long deserialize(DataInputView source) throws IOException {
            return source.readLong();
        }

        @Override
        public Long deserialize(Long reuse, DataInputView source) throws IOException {
            return source.readLong();
        }

        @Override
        public void copy(DataInputView source, DataOutputView target) throws IOException {
            target.writeLong(source.readLong());
        }

        @Override
        public TypeSerializerSnapshot<Long> snapshotConfiguration() {
            return new Snapshot();
        }

        /** Restores {@link Refusing} (Flink writes it with the state). */
        public static final class Snapshot extends SimpleTypeSerializerSnapshot<Long> {
            public Snapshot() {
                super(Refusing::new);
            }
        }
    }
}
