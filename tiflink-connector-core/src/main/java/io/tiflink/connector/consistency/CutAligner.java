package io.tiflink.connector.consistency;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.typeutils.runtime.TupleSerializer;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;
import org.apache.flink.runtime.operators.coordination.OperatorEventDispatcher;
import org.apache.flink.runtime.operators.coordination.OperatorEventGateway;
import org.apache.flink.runtime.operators.coordination.OperatorEventHandler;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.ChainingStrategy;
import org.apache.flink.streaming.api.operators.CoordinatedOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.SimpleOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.FlinkRuntimeException;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.TreeMap;

/**
 * Chained right after a TiKV source reader, it lets through, before barrier {@code k}, exactly the
 * changes committed at or before the job's cut {@code T_k} ({@link SnapshotCuts}), holding the
 * later ones until a later barrier. The reader stamps each change with its commit time and snapshot
 * rows with {@link Long#MIN_VALUE} (they pass at once: the streams start only after them); its
 * watermarks (resolved ts) tell how far it is complete, and go to the coordinator, not downstream.
 * Downstream sees, instead, a watermark at each cut. What it holds at a checkpoint is its state.
 */
@Internal
public final class CutAligner<T> extends AbstractStreamOperator<T>
        implements OneInputStreamOperator<T, T>, OperatorEventHandler {
    private static final long serialVersionUID = 1L;

    private transient OperatorEventGateway coordinator;
    private transient Deque<StreamRecord<T>> held;
    private transient TreeMap<Long, Long> cutsByCheckpoint;
    private transient long released;
    private transient long reported;
    private transient ListState<Tuple2<Long, T>> heldState;
    private transient ListState<Long> releasedState;

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        held = new ArrayDeque<>();
        cutsByCheckpoint = new TreeMap<>();
        released = SnapshotCuts.NONE;
        reported = Long.MIN_VALUE;
        @SuppressWarnings("unchecked")
        TypeSerializer<T> records =
                (TypeSerializer<T>)
                        getOperatorConfig().getTypeSerializerIn(0, getUserCodeClassloader());
        heldState =
                context.getOperatorStateStore()
                        .getListState(
                                new ListStateDescriptor<>(
                                        "held-changes",
                                        new TupleSerializer<>(
                                                castTupleClass(),
                                                new TypeSerializer<?>[] {
                                                    LongSerializer.INSTANCE, records
                                                })));
        releasedState =
                context.getOperatorStateStore()
                        .getUnionListState(
                                new ListStateDescriptor<>("released-cut", LongSerializer.INSTANCE));
        for (Tuple2<Long, T> h : heldState.get()) {
            held.add(new StreamRecord<>(h.f1, h.f0));
        }
        for (Long cut : releasedState.get()) {
            released = Math.max(released, cut);
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static <T> Class<Tuple2<Long, T>> castTupleClass() {
        return (Class) Tuple2.class;
    }

    void setCoordinator(OperatorEventGateway coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public void processElement(StreamRecord<T> record) {
        long ts = record.hasTimestamp() ? record.getTimestamp() : Long.MIN_VALUE;
        if (ts == Long.MIN_VALUE) {
            output.collect(record); // a snapshot row
        } else if (reported == SnapshotCuts.IDLE) {
            throw new FlinkRuntimeException(
                    "a change reached a cut operator whose source reader said it reads no stream");
        } else if (ts < released) {
            // Its cut is committed, or being committed, without it: never let it in silently.
            throw new FlinkRuntimeException(
                    "a change committed at "
                            + ts
                            + " ms reached the cut operator after the cut at "
                            + released
                            + " ms was released");
        } else {
            held.add(new StreamRecord<>(record.getValue(), ts));
        }
    }

    @Override
    public void processWatermark(Watermark mark) {
        long watermark = mark.getTimestamp();
        if (watermark > reported) {
            reported = watermark;
            coordinator.sendEventToCoordinator(new CutEvents.Progress(watermark));
        }
    }

    @Override
    public void handleOperatorEvent(OperatorEvent event) {
        CutEvents.Cut cut = (CutEvents.Cut) event;
        cutsByCheckpoint.put(cut.checkpointId, cut.cut);
    }

    /** Emits, before the barrier, what the cut of this checkpoint covers. */
    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        Long cut = cutsByCheckpoint.get(checkpointId);
        cutsByCheckpoint.headMap(checkpointId, true).clear();
        if (cut == null || cut <= released) {
            return;
        }
        List<StreamRecord<T>> later = new ArrayList<>();
        for (StreamRecord<T> r : held) {
            if (r.getTimestamp() < cut) {
                output.collect(r);
            } else {
                later.add(r);
            }
        }
        held.clear();
        held.addAll(later);
        released = cut;
        output.emitWatermark(new Watermark(cut - 1));
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        List<Tuple2<Long, T>> state = new ArrayList<>(held.size());
        for (StreamRecord<T> r : held) {
            state.add(Tuple2.of(r.getTimestamp(), r.getValue()));
        }
        heldState.update(state);
        releasedState.update(List.of(released));
    }

    /** Creates the operator, wired to its coordinator, and tells Flink to create that. */
    public static final class Factory<T> extends SimpleOperatorFactory<T>
            implements CoordinatedOperatorFactory<T>, OneInputStreamOperatorFactory<T, T> {
        private static final long serialVersionUID = 1L;

        public Factory() {
            super(new CutAligner<T>());
            setChainingStrategy(ChainingStrategy.ALWAYS);
        }

        @Override
        public <O extends StreamOperator<T>> O createStreamOperator(
                StreamOperatorParameters<T> parameters) {
            OperatorID id = parameters.getStreamConfig().getOperatorID();
            OperatorEventDispatcher dispatcher = parameters.getOperatorEventDispatcher();
            @SuppressWarnings("unchecked")
            CutAligner<T> aligner = (CutAligner<T>) getOperator();
            aligner.setCoordinator(dispatcher.getOperatorEventGateway(id));
            dispatcher.registerEventHandler(id, aligner);
            return super.createStreamOperator(parameters);
        }

        @Override
        public OperatorCoordinator.Provider getCoordinatorProvider(
                String operatorName, OperatorID operatorId) {
            return new CutCoordinator.Provider(operatorId, operatorId.toHexString());
        }
    }
}
