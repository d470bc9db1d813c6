package io.tiflink.connector.consistency;

import org.apache.flink.annotation.Internal;
import org.apache.flink.runtime.operators.coordination.CoordinatorStore;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The cuts of one job, in the JobManager: at each checkpoint one TSO {@code T} that every TiKV
 * source of the job with consistent snapshots agrees on, so that before barrier {@code k} each of
 * them emits exactly the changes committed at or before {@code T_k}. Shared by the sources' {@link
 * CutCoordinator}s (and the sinks that commit at the cuts) through Flink's per-job {@link
 * CoordinatorStore}, the store watermark alignment uses for the same kind of agreement.
 *
 * <p>Cuts are kept in milliseconds {@code C}, standing for the TSO {@code (C << 18) - 1} (every
 * commit whose physical time is before {@code C}): what the sources' watermarks and their records'
 * timestamps carry. A cut moves only when every subtask of every member reported a watermark, to
 * the lowest of them, and not below any member's first watermark after its snapshot (a member whose
 * snapshot is newer than the cut would show rows the others have not reached). A checkpoint asked
 * twice gets the same cut; cuts never go back but when subtasks restart from a checkpoint, to its
 * cut: the cuts of later checkpoints, which never completed, are void, and the restarted sources
 * emit again only from the restored checkpoint's positions.
 */
@Internal
public final class SnapshotCuts {
    /** No cut yet: the members' snapshots are still read, or their streams not started. */
    public static final long NONE = -1;

    /** A subtask that reads no stream: it holds no cut back. */
    static final long IDLE = Long.MAX_VALUE;

    private static final long UNKNOWN = Long.MIN_VALUE;
    private static final int REMEMBERED_CHECKPOINTS = 64;

    private final Map<String, long[]> watermarks = new HashMap<>();
    private final Map<String, long[]> firstWatermarks = new HashMap<>();
    private final TreeMap<Long, Long> cuts = new TreeMap<>();
    private long lastCut = NONE;

    /** The cuts of the job whose coordinators share {@code store}. */
    public static SnapshotCuts of(CoordinatorStore store) {
        return (SnapshotCuts)
                store.compute(
                        SnapshotCuts.class.getName(),
                        (key, cuts) -> cuts == null ? new SnapshotCuts() : cuts);
    }

    /** {@code member} (a source's cut operator) takes part with {@code subtasks} subtasks. */
    public synchronized void join(String member, int subtasks) {
        long[] marks = new long[subtasks];
        Arrays.fill(marks, UNKNOWN);
        watermarks.put(member, marks);
        firstWatermarks.put(member, marks.clone());
    }

    /** A subtask's watermark (ms); the first one after its start bounds the cuts from below. */
    public synchronized void report(String member, int subtask, long watermark) {
        long[] marks = watermarks.get(member);
        marks[subtask] = Math.max(marks[subtask], watermark);
        long[] first = firstWatermarks.get(member);
        if (first[subtask] == UNKNOWN) {
            first[subtask] = watermark;
        }
    }

    /** A subtask (re)starts: until it reports again, no cut moves. */
    public synchronized void forget(String member, int subtask) {
        watermarks.get(member)[subtask] = UNKNOWN;
        firstWatermarks.get(member)[subtask] = UNKNOWN;
    }

    /** The cut (ms) at checkpoint {@code checkpointId}, or {@link #NONE}. */
    public synchronized long cutFor(long checkpointId) {
        Long known = cuts.get(checkpointId);
        if (known != null) {
            return known;
        }
        long lowest = IDLE;
        long floor = NONE;
        boolean complete = !watermarks.isEmpty();
        for (Map.Entry<String, long[]> member : watermarks.entrySet()) {
            long[] marks = member.getValue();
            long[] first = firstWatermarks.get(member.getKey());
            for (int i = 0; i < marks.length; i++) {
                if (marks[i] == UNKNOWN) {
                    complete = false;
                } else if (marks[i] != IDLE) {
                    lowest = Math.min(lowest, marks[i]);
                    floor = Math.max(floor, first[i] + 1);
                }
            }
        }
        if (complete && lowest != IDLE && lowest >= floor && lowest > lastCut) {
            lastCut = lowest;
        }
        cuts.put(checkpointId, lastCut);
        while (cuts.size() > REMEMBERED_CHECKPOINTS) {
            cuts.pollFirstEntry();
        }
        return lastCut;
    }

    /** A restore of the whole job from {@code checkpointId}, whose cut was {@code cut}. */
    public synchronized void restore(long checkpointId, long cut) {
        cuts.clear();
        cuts.put(checkpointId, cut);
        lastCut = cut;
    }

    /**
     * A subtask restarts from {@code checkpointId} (a failover of part of the job): until it
     * reports again no cut moves, and the cuts go back to that checkpoint's.
     */
    public synchronized void reset(String member, int subtask, long checkpointId) {
        forget(member, subtask);
        Long cut = checkpointId < 0 ? (Long) NONE : cuts.get(checkpointId);
        if (cut == null) {
            throw new IllegalStateException(
                    "the cut of checkpoint " + checkpointId + " to restart from is not known");
        }
        cuts.tailMap(checkpointId, false).clear();
        lastCut = cut;
    }

    /** The cut (ms) of checkpoint {@code checkpointId}, or {@link #NONE}. */
    public synchronized long cutAt(long checkpointId) {
        return cuts.getOrDefault(checkpointId, NONE);
    }

    /** The TSO a cut stands for: every commit before its millisecond. */
    public static long tso(long cutMillis) {
        return cutMillis == NONE ? NONE : (cutMillis << 18) - 1;
    }
}
