package io.tiflink.connector.sink;

import io.tiflink.tikv.Keys;

import org.apache.flink.annotation.Internal;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The keys a sink keeps in TiKV, first the primary keys of its epochs: {@code TiFlink/sink/<sink
 * id>/<epoch, 20 digits>}. Anyone who knows the sink id and an epoch finds its transaction (the
 * primary's lock gives the start ts), and a lock scan over the sink's prefix finds every epoch left
 * open.
 *
 * <p>The keys are outside TiDB's key spaces: TiDB writes only {@code m} (meta) and {@code t}
 * (tables) keys, and {@code x}/{@code r} under keyspaces (API v2); {@code T} is none of them, so no
 * TiDB table, index, backup (BR) or changefeed (TiCDC) covers them.
 */
@Internal
public final class EpochKeys {
    private static final String ROOT = "TiFlink/sink/";
    private static final int DIGITS = 20;
    private static final String RESTARTED = "/restart-";

    private EpochKeys() {}

    /** Every key of every sink starts with this. */
    public static byte[] root() {
        return ROOT.getBytes(StandardCharsets.US_ASCII);
    }

    /** Every epoch primary of the sink starts with this. */
    public static byte[] prefix(String sinkId) {
        return (ROOT + sinkId + "/").getBytes(StandardCharsets.US_ASCII);
    }

    /** The primary of {@code epoch} (zero-padded, so keys sort by epoch). */
    public static byte[] primary(String sinkId, long epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("negative epoch " + epoch);
        }
        String digits = Long.toString(epoch);
        return (ROOT + sinkId + "/" + "0".repeat(DIGITS - digits.length()) + digits)
                .getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * The primary of the first epoch after a restore from checkpoint {@code epoch}, whose restore
     * transaction began at {@code restoreTs}: only the writers of that restore know it, so a writer
     * of an earlier attempt still running (a lost TaskManager not dead yet) cannot find it.
     */
    public static byte[] restarted(String sinkId, long epoch, long restoreTs) {
        String digits = Long.toString(restoreTs);
        return suffixed(
                primary(sinkId, epoch), RESTARTED + "0".repeat(DIGITS - digits.length()) + digits);
    }

    /** The epoch of a primary key of this sink (of {@link #primary} or {@link #restarted}). */
    public static long epoch(String sinkId, byte[] primary) {
        byte[] prefix = prefix(sinkId);
        if (!isEpoch(sinkId, primary)
                || !Arrays.equals(primary, 0, prefix.length, prefix, 0, prefix.length)) {
            throw new IllegalArgumentException(
                    "not an epoch primary of sink " + sinkId + ": " + Keys.printable(primary));
        }
        return Long.parseLong(
                new String(primary, prefix.length, DIGITS, StandardCharsets.US_ASCII));
    }

    /**
     * Whether {@code key} is an epoch primary of the sink (not, e.g., a {@link #carried} or {@link
     * #restore} key).
     */
    public static boolean isEpoch(String sinkId, byte[] key) {
        int plain = prefix(sinkId).length + DIGITS;
        return key.length == plain
                || key.length == plain + RESTARTED.length() + DIGITS
                        && new String(key, plain, RESTARTED.length(), StandardCharsets.US_ASCII)
                                .equals(RESTARTED);
    }

    /**
     * The primary of the transaction that writes, once an epoch committed, the changes a subtask
     * deferred past the epoch when its input ended; its committed value says they were written.
     */
    public static byte[] carried(byte[] epochPrimary, int subtask) {
        return suffixed(epochPrimary, "/end-" + subtask);
    }

    /**
     * Committed when {@code epoch} never opens (a savepoint's, with consistency snapshot): its
     * writers carry its rows into the next epoch.
     */
    public static byte[] skipped(String sinkId, long epoch) {
        return suffixed(primary(sinkId, epoch), "/skipped");
    }

    /**
     * Committed when checkpoint {@code epoch} failed (with consistency snapshot): a writer that
     * passed its barrier fails rather than write its epoch.
     */
    public static byte[] aborted(String sinkId, long epoch) {
        return suffixed(primary(sinkId, epoch), "/aborted");
    }

    /**
     * The primary of the restore transaction of a (re)start from checkpoint {@code epoch}: the
     * writers' restored changes, committed before epoch {@code epoch} opens.
     */
    public static byte[] restore(String sinkId, long epoch) {
        return suffixed(primary(sinkId, epoch), "/restore");
    }

    /** Whether {@code key} is the primary of a restore transaction of the sink. */
    public static boolean isRestore(String sinkId, byte[] key) {
        byte[] suffix = "/restore".getBytes(StandardCharsets.US_ASCII);
        return key.length == prefix(sinkId).length + DIGITS + suffix.length
                && Arrays.equals(
                        key, key.length - suffix.length, key.length, suffix, 0, suffix.length);
    }

    /**
     * Locked (never written) by writer {@code subtask} of {@code subtasks} in the restore
     * transaction once its restored changes are prewritten: the coordinator commits the restore
     * when every writer's is there.
     */
    public static byte[] restored(byte[] restorePrimary, int subtask, int subtasks) {
        return suffixed(restorePrimary, "/done-" + subtask + "-of-" + subtasks);
    }

    /** Every {@link #restored} key of the restore starts with this. */
    public static byte[] restoredPrefix(byte[] restorePrimary) {
        return suffixed(restorePrimary, "/done-");
    }

    /** Subtask and number of writers of a {@link #restored} key, as {@code {subtask, subtasks}}. */
    public static int[] restoredWriter(byte[] restoredKey) {
        String key = new String(restoredKey, StandardCharsets.US_ASCII);
        String[] parts = key.substring(key.lastIndexOf("/done-") + 6).split("-of-");
        return new int[] {Integer.parseInt(parts[0]), Integer.parseInt(parts[1])};
    }

    /**
     * Written with the changes of a restored writer state (identified by {@code stateId}) in the
     * restore transaction: a later restore of the same state finds it and does not apply the state
     * again. Outside any sink's prefix: a job restored from a savepoint has a new sink id. Its
     * value is the restore transaction's primary, whose epoch says when it may be removed.
     */
    public static byte[] applied(String stateId) {
        return (ROOT + "applied/" + stateId).getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Holds the epoch below which the sink's keys were removed ({@link #cleanedValue}): a
     * transaction of an epoch below it that TiKV no longer knows committed (only committed epochs'
     * keys are removed, and GC then forgets them). Sorts after the sink's epoch keys.
     */
    public static byte[] cleaned(String sinkId) {
        return (ROOT + sinkId + "/cleaned").getBytes(StandardCharsets.US_ASCII);
    }

    public static byte[] cleanedValue(long epoch) {
        return Long.toString(epoch).getBytes(StandardCharsets.US_ASCII);
    }

    public static long cleanedEpoch(byte[] value) {
        return Long.parseLong(new String(value, StandardCharsets.US_ASCII));
    }

    /** The sink id of one of the sinks' keys ({@code TiFlink/sink/<id>/...}), or null. */
    public static String sinkIdOf(byte[] key) {
        String k = new String(key, StandardCharsets.US_ASCII);
        int end = k.indexOf('/', ROOT.length());
        return k.startsWith(ROOT) && end > ROOT.length() ? k.substring(ROOT.length(), end) : null;
    }

    /**
     * The epoch a key of the sink belongs to: of an epoch primary, and of the keys named after one
     * (restore, carried, restarted); -1 for others ({@link #cleaned}).
     */
    public static long epochOf(String sinkId, byte[] key) {
        byte[] prefix = prefix(sinkId);
        if (key.length < prefix.length + DIGITS
                || !Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length)) {
            return -1;
        }
        for (int i = prefix.length; i < prefix.length + DIGITS; i++) {
            if (key[i] < '0' || key[i] > '9') {
                return -1;
            }
        }
        return Long.parseLong(new String(key, prefix.length, DIGITS, StandardCharsets.US_ASCII));
    }

    private static byte[] suffixed(byte[] key, String suffix) {
        return (new String(key, StandardCharsets.US_ASCII) + suffix)
                .getBytes(StandardCharsets.US_ASCII);
    }

    /** The first key after every key starting with {@code prefix}. */
    public static byte[] end(byte[] prefix) {
        byte[] end = prefix.clone();
        end[end.length - 1]++; // prefixes end in '/', never 0xff
        return end;
    }
}
