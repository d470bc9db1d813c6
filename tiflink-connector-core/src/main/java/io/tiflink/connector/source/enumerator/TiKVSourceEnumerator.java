package io.tiflink.connector.source.enumerator;

import io.tiflink.connector.TiKVOptions;
import io.tiflink.connector.source.StartupMode;
import io.tiflink.connector.source.TiKVSourceConfig;
import io.tiflink.connector.source.TiKVSourceOptions;
import io.tiflink.connector.source.split.CapturedTable;
import io.tiflink.connector.source.split.SnapshotSplit;
import io.tiflink.connector.source.split.StreamSplit;
import io.tiflink.connector.source.split.TiKVSplit;
import io.tiflink.tikv.Sessions;
import io.tiflink.tikv.gc.GcSafePoint;
import io.tiflink.tikv.gc.GcSafePointException;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.util.FlinkRuntimeException;

import org.tikv.common.TiSession;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

/**
 * Plans and hands out a TiKV source's splits. At the first start it takes one snapshot ts, holds GC
 * there (a PD service safe point renewed for the job's lifetime) and cuts the tables into
 * region-sized snapshot splits. The stream splits (one per table, from the snapshot ts) are handed
 * out once every snapshot split is done and a checkpoint has completed after that, so that no
 * change overtakes, downstream, a snapshot row another reader emitted.
 */
@Internal
public final class TiKVSourceEnumerator implements SplitEnumerator<TiKVSplit, TiKVEnumeratorState> {
    private static final Logger LOG = LoggerFactory.getLogger(TiKVSourceEnumerator.class);

    private final SplitEnumeratorContext<TiKVSplit> context;
    private final TiKVSourceConfig config;
    private final TiSession session;

    private long snapshotTs;
    private String gcServiceId;
    private boolean planned;
    private final Deque<SnapshotSplit> pendingSnapshots = new ArrayDeque<>();
    private final Set<String> unfinishedSnapshots = new HashSet<>();
    private final Deque<StreamSplit> pendingStreams = new ArrayDeque<>();
    private boolean streamsReleased;
    private final Map<String, Long> streamPositions = new HashMap<>();

    /** The checkpoint after which the streams may start, once the snapshot is done. */
    private long releaseAtCheckpoint = -1;

    private final Set<Integer> waitingReaders = new LinkedHashSet<>();
    private int nextStreamReader;

    /** With consistent snapshots: stream splits given back, by the reader they came from. */
    private final Map<String, Integer> returnedBy = new HashMap<>();

    /** With consistent snapshots: the readers told that the streams started. */
    private final Set<Integer> toldStreamsStarted = new HashSet<>();

    public TiKVSourceEnumerator(
            SplitEnumeratorContext<TiKVSplit> context,
            TiKVSourceConfig config,
            TiKVEnumeratorState restored) {
        this.context = context;
        this.config = config;
        this.session = TiKVOptions.connecting(() -> Sessions.open(config.tiConfiguration()));
        if (restored != null) {
            this.snapshotTs = restored.snapshotTs;
            this.gcServiceId = restored.gcServiceId;
            this.pendingSnapshots.addAll(restored.pendingSnapshots);
            this.unfinishedSnapshots.addAll(restored.unfinishedSnapshots);
            this.pendingStreams.addAll(restored.pendingStreams);
            this.streamsReleased = restored.streamsReleased;
            this.streamPositions.putAll(restored.streamPositions);
            this.planned = true;
        } else {
            this.gcServiceId = "tiflink-source-" + UUID.randomUUID();
        }
    }

    @Override
    public void start() {
        if (!planned) {
            context.callAsync(this::plan, this::onPlanned);
        } else {
            // A restored job: GC must not have passed where its readers resume.
            try {
                holdGc();
            } catch (GcSafePointException e) {
                // Final: every restart would resume at the same position.
                throw new SuppressRestartsException(
                        new FlinkRuntimeException(
                                "TiKV source for "
                                        + config.database()
                                        + "."
                                        + config.table()
                                        + " cannot resume from its checkpoint: TiKV's GC has passed the"
                                        + " position it resumes at, so changes since then may be gone ("
                                        + e.getMessage()
                                        + "). Its GC safe point lapsed while the job was down longer than '"
                                        + TiKVSourceOptions.GC_SAFE_POINT_TTL.key()
                                        + "' ("
                                        + config.gcTtl()
                                        + "). Start the job without its state to read a new snapshot, and"
                                        + " raise the option to outlast the downtime you expect.",
                                e));
            }
        }
        long renew = Math.max(1_000, Math.min(config.gcTtl().toMillis() / 3, 300_000));
        context.callAsync(() -> null, (ignored, error) -> renewGc(), renew, renew);
    }

    /** The first start: the start ts, the tables at it, GC held there, and the splits. */
    private Plan plan() {
        StartupMode mode = config.startupMode();
        long ts =
                mode == StartupMode.TIMESTAMP
                        ? config.startupTs()
                        : session.getTimestamp().getVersion();
        GcSafePoint.hold(session, gcServiceId, config.gcTtl(), ts);
        List<CapturedTable> tables =
                SplitPlanner.tables(session, ts, config.database(), config.table());
        List<SnapshotSplit> snapshots =
                mode == StartupMode.INITIAL || mode == StartupMode.SNAPSHOT
                        ? SplitPlanner.snapshotSplits(session, tables, config.handles(), ts)
                        : List.of();
        List<StreamSplit> streams =
                mode == StartupMode.SNAPSHOT
                        ? List.of()
                        : SplitPlanner.streamSplits(tables, config.handles(), ts);
        return new Plan(ts, tables, snapshots, streams);
    }

    private static final class Plan {
        final long ts;
        final List<CapturedTable> tables;
        final List<SnapshotSplit> snapshots;
        final List<StreamSplit> streams;

        Plan(
                long ts,
                List<CapturedTable> tables,
                List<SnapshotSplit> snapshots,
                List<StreamSplit> streams) {
            this.ts = ts;
            this.tables = tables;
            this.snapshots = snapshots;
            this.streams = streams;
        }
    }

    private void onPlanned(Plan plan, Throwable error) {
        if (error != null) {
            throw new FlinkRuntimeException(
                    "TiKV source for "
                            + config.database()
                            + "."
                            + config.table()
                            + " could not start: "
                            + error.getMessage(),
                    error);
        }
        snapshotTs = plan.ts;
        pendingSnapshots.addAll(plan.snapshots);
        pendingStreams.addAll(plan.streams);
        for (StreamSplit s : plan.streams) {
            streamPositions.put(s.splitId(), s.resolvedTs());
        }
        planned = true;
        LOG.info(
                "TiKV source: {} tables at ts {} in {} snapshot splits and {} stream splits",
                plan.tables.size(),
                snapshotTs,
                plan.snapshots.size(),
                plan.streams.size());
        maybeReleaseStreams();
        serveWaitingReaders();
    }

    // ---- assignment ----

    @Override
    public void handleSplitRequest(int subtaskId, String requesterHostname) {
        waitingReaders.add(subtaskId);
        serveWaitingReaders();
    }

    private void serveWaitingReaders() {
        if (!planned) {
            return;
        }
        for (Integer reader : new ArrayList<>(waitingReaders)) {
            if (!context.registeredReaders().containsKey(reader)) {
                continue;
            }
            TiKVSplit split = nextSplit();
            if (split != null) {
                waitingReaders.remove(reader);
                context.assignSplit(split, reader);
            } else if (isBoundedAndDone()) {
                waitingReaders.remove(reader);
                context.signalNoMoreSplits(reader);
            } else {
                return; // nothing to hand out until a snapshot split is done or the streams start
            }
        }
    }

    private TiKVSplit nextSplit() {
        SnapshotSplit snapshot = pendingSnapshots.poll();
        if (snapshot != null) {
            unfinishedSnapshots.add(snapshot.splitId());
        }
        return snapshot;
    }

    /**
     * Hands every pending stream split out at once, round-robin over the registered readers: a
     * reader reading a stream never finishes it, so it would not ask for another. With consistent
     * snapshots a split given back goes to the reader it came from only, and every reader is told
     * that the streams started, after its splits (one holding none is idle for the job's cuts, and
     * must stay so).
     */
    private void assignStreams() {
        List<Integer> readers =
                new ArrayList<>(new TreeSet<>(context.registeredReaders().keySet()));
        if (!streamsReleased || readers.isEmpty()) {
            return;
        }
        for (StreamSplit split : new ArrayList<>(pendingStreams)) {
            Integer owner = returnedBy.get(split.splitId());
            int reader;
            if (owner == null) {
                reader = readers.get(nextStreamReader++ % readers.size());
            } else if (readers.contains(owner)) {
                reader = owner;
                returnedBy.remove(split.splitId());
            } else {
                continue; // until its reader is back
            }
            pendingStreams.remove(split);
            waitingReaders.remove(reader);
            context.assignSplit(split, reader);
        }
        if (config.consistent()) {
            for (int reader : readers) {
                if (toldStreamsStarted.add(reader)) {
                    context.sendEventToSourceReader(reader, new StreamsStarted());
                }
            }
        }
    }

    private boolean isBoundedAndDone() {
        return config.startupMode() == StartupMode.SNAPSHOT && pendingSnapshots.isEmpty();
    }

    /**
     * Whether every snapshot split was read. Never before the plan is in: a checkpoint completing
     * while the tables are still being cut into splits must not release the streams early.
     */
    private boolean snapshotDone() {
        return planned && pendingSnapshots.isEmpty() && unfinishedSnapshots.isEmpty();
    }

    @Override
    public void addSplitsBack(List<TiKVSplit> splits, int subtaskId) {
        for (TiKVSplit s : splits) {
            if (s.isSnapshot()) {
                unfinishedSnapshots.remove(s.splitId());
                pendingSnapshots.addFirst(s.asSnapshot());
            } else {
                pendingStreams.addFirst(s.asStream());
                if (config.consistent()) {
                    returnedBy.put(s.splitId(), subtaskId);
                }
            }
        }
        serveWaitingReaders();
        assignStreams();
    }

    @Override
    public void addReader(int subtaskId) {
        // Readers ask for snapshot splits when they have none; streams are handed out unasked.
        toldStreamsStarted.remove(subtaskId);
        assignStreams();
    }

    @Override
    public void handleSourceEvent(int subtaskId, SourceEvent event) {
        if (event instanceof SnapshotSplitsFinished) {
            unfinishedSnapshots.removeAll(((SnapshotSplitsFinished) event).splitIds());
            maybeReleaseStreams();
        } else if (event instanceof StreamProgress) {
            streamPositions.putAll(((StreamProgress) event).resolvedTsBySplit());
        }
    }

    /**
     * The streams start as soon as the snapshot is done when there was no snapshot to overtake, or
     * the job has no checkpoints to wait for.
     */
    private void maybeReleaseStreams() {
        boolean handOff =
                config.startupMode() == StartupMode.INITIAL && config.handOffAfterCheckpoint();
        if (!streamsReleased && snapshotDone() && !handOff) {
            releaseStreams();
        }
    }

    private void releaseStreams() {
        streamsReleased = true;
        LOG.info(
                "TiKV source: snapshot at ts {} done; {} streams start",
                snapshotTs,
                pendingStreams.size());
        assignStreams();
        serveWaitingReaders();
    }

    // ---- checkpoints ----

    @Override
    public TiKVEnumeratorState snapshotState(long checkpointId) {
        if (!streamsReleased && snapshotDone() && releaseAtCheckpoint < 0) {
            releaseAtCheckpoint = checkpointId;
        }
        return new TiKVEnumeratorState(
                snapshotTs,
                gcServiceId,
                new ArrayList<>(pendingSnapshots),
                unfinishedSnapshots,
                new ArrayList<>(pendingStreams),
                streamsReleased,
                streamPositions);
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        if (!streamsReleased && releaseAtCheckpoint >= 0 && checkpointId >= releaseAtCheckpoint) {
            releaseStreams();
        }
    }

    // ---- GC ----

    /** Where GC is held: the snapshot ts while it is read, then the streams' lowest position. */
    private long heldTs() {
        if (!snapshotDone() || streamPositions.isEmpty()) {
            return snapshotTs;
        }
        return Collections.min(streamPositions.values());
    }

    private void holdGc() {
        GcSafePoint.hold(session, gcServiceId, config.gcTtl(), heldTs());
    }

    /** Renews the safe point: its ts is read here, in the coordinator thread; PD is asked apart. */
    private void renewGc() {
        if (!planned) {
            return;
        }
        long ts = heldTs();
        context.callAsync(
                () -> {
                    GcSafePoint.hold(session, gcServiceId, config.gcTtl(), ts);
                    return null;
                },
                (ignored, error) -> {
                    if (error instanceof GcSafePointException) {
                        throw new FlinkRuntimeException(
                                "TiKV source lost its GC safe point: " + error.getMessage(), error);
                    }
                    if (error != null) {
                        LOG.warn(
                                "renewing GC safe point {} failed; trying again",
                                gcServiceId,
                                error);
                    }
                });
    }

    @Override
    public void close() {
        try {
            if (config.startupMode() == StartupMode.SNAPSHOT && planned && snapshotDone()) {
                GcSafePoint.release(session, gcServiceId); // a bounded job that finished
            }
            session.close();
        } catch (Exception e) {
            LOG.warn("closing the TiKV source enumerator failed", e);
        }
    }
}
