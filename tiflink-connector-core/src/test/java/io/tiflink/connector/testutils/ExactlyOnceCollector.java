package io.tiflink.connector.testutils;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A test sink with two-phase commit: records are staged per checkpoint and published to {@link
 * #committed} only when their checkpoint completes (again, idempotently, after a restore). What a
 * job publishes here is what it emitted exactly once, whatever failed in between.
 */
public final class ExactlyOnceCollector extends AbstractStreamOperator<Void>
        implements OneInputStreamOperator<String, Void> {
    /**
     * Published records by (name, subtask, checkpoint), so a re-commit replaces rather than adds.
     */
    private static final Map<String, Map<String, List<String>>> PUBLISHED =
            new ConcurrentHashMap<>();

    private final String name;
    private transient List<String> pending;
    private transient TreeMap<Long, List<String>> staged;
    private transient ListState<String> state;

    public ExactlyOnceCollector(String name) {
        this.name = name;
        PUBLISHED.put(name, new ConcurrentHashMap<>());
    }

    /** Everything published under {@code name}, in checkpoint order per subtask. */
    public static List<String> committed(String name) {
        List<String> out = new ArrayList<>();
        new TreeMap<>(PUBLISHED.get(name)).values().forEach(out::addAll);
        return out;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        pending = new ArrayList<>();
        staged = new TreeMap<>();
        state =
                context.getOperatorStateStore()
                        .getListState(new ListStateDescriptor<>("staged", Types.STRING));
        // Restored records were staged for checkpoints that completed: publish them (again).
        long checkpoint = -1;
        for (String entry : state.get()) {
            if (entry.startsWith("#")) {
                checkpoint = Long.parseLong(entry.substring(1));
                staged.put(checkpoint, new ArrayList<>());
            } else {
                staged.get(checkpoint).add(entry);
            }
        }
        publishUpTo(Long.MAX_VALUE);
    }

    @Override
    public void processElement(StreamRecord<String> element) {
        pending.add(element.getValue());
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        staged.put(context.getCheckpointId(), pending);
        pending = new ArrayList<>();
        List<String> entries = new ArrayList<>();
        staged.forEach(
                (id, records) -> {
                    entries.add("#" + id);
                    entries.addAll(records);
                });
        state.update(entries);
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        publishUpTo(checkpointId);
    }

    private void publishUpTo(long checkpointId) {
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        Map<Long, List<String>> done = staged.headMap(checkpointId, true);
        done.forEach(
                (id, records) ->
                        PUBLISHED.get(name).put(String.format("%05d-%012d", id, subtask), records));
        done.clear();
    }
}
